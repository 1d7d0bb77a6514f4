package localserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapifilters "k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/filters/impersonation"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	apistorage "k8s.io/apiserver/pkg/storage"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kauth/kauth/internal/localserver/registry"
	"github.com/kauth/kauth/internal/localserver/storage"
)

// chainConfig is what the handler chain is made of.
type chainConfig struct {
	authn        authenticator.Request
	apiAudiences authenticator.Audiences
	authz        authorizer.Authorizer
	audit        *auditing
	maxInFlight  int
	maxMutating  int
	// apf, when set, is API Priority and Fairness in place of max-in-flight.
	apf            func(http.Handler) http.Handler
	requestTimeout time.Duration
	serializer     runtime.NegotiatedSerializer
	// stopping is closed when the server starts shutting down; watches and
	// other long-running requests end then instead of holding it up.
	stopping <-chan struct{}
}

// newRequestInfoResolver parses paths into verbs and resources as
// kube-apiserver does (/api is the groupless legacy prefix).
func newRequestInfoResolver() *apirequest.RequestInfoFactory {
	return &apirequest.RequestInfoFactory{
		APIPrefixes:          sets.NewString("api", "apis"),
		GrouplessAPIPrefixes: sets.NewString("api"),
	}
}

// longRunning is kube-apiserver's check: watches and streaming
// subresources escape the request timeout and the in-flight limit.
var longRunning = genericfilters.BasicLongRunningRequestCheck(
	sets.NewString("watch", "proxy"),
	sets.NewString("attach", "exec", "proxy", "log", "portforward"),
)

// buildHandlerChain wraps the API handler in k8s.io/apiserver's filters in
// the order of kube-apiserver's DefaultBuildHandlerChain (the innermost
// first here, so a request meets them bottom-up): authorization,
// max-in-flight (APF comes later), impersonation, audit, authentication,
// warnings, the request timeout and deadline, cache control, request
// info, the received timestamp, panic recovery and the audit id, then
// withPanicContainment. HTTP logging (kube-apiserver's httplog, at -v 3)
// sits where kube-apiserver has it, and withRedactedRequestURI outside
// everything keeps tokens misplaced in the query out of every log line.
func buildHandlerChain(apiHandler http.Handler, c chainConfig) http.Handler {
	var sink, policy = c.audit.sink, c.audit.policy
	resolver := newRequestInfoResolver()

	h := withStopOnShutdown(apiHandler, c.stopping)
	h = genericapifilters.WithAuthorization(h, c.authz, c.serializer)
	if c.apf != nil {
		h = c.apf(h)
	} else {
		h = genericfilters.WithMaxInFlightLimit(h, c.maxInFlight, c.maxMutating, longRunning)
	}
	h = impersonation.WithImpersonation(h, c.authz, c.serializer)
	h = genericapifilters.WithAudit(h, sink, policy, longRunning)

	failed := genericapifilters.Unauthorized(c.serializer)
	failed = genericapifilters.WithFailedAuthenticationAudit(failed, sink, policy)
	h = genericapifilters.WithAuthentication(h, c.authn, failed, c.apiAudiences, nil)

	// The warning recorder must be inside the timeout handler, which makes
	// adding warning headers safe.
	h = genericapifilters.WithWarningRecorder(h)
	h = genericfilters.WithTimeoutForNonLongRunningRequests(h, longRunning)
	h = genericapifilters.WithRequestDeadline(h, sink, policy, longRunning, c.serializer, c.requestTimeout)
	h = genericapifilters.WithCacheControl(h)
	h = genericfilters.WithHTTPLogging(h)
	h = genericapifilters.WithRequestInfo(h, resolver)
	h = genericapifilters.WithRequestReceivedTimestamp(h)
	h = genericfilters.WithPanicRecovery(h, resolver)
	h = genericapifilters.WithAuditInit(h)
	return withRedactedRequestURI(withPanicContainment(h))
}

// withPanicContainment ends the panic that WithPanicRecovery re-raises
// after answering 500 (k8s.io/apimachinery's ReallyCrash). kube-apiserver
// leaves that to net/http, which drops the connection; here the client
// gets the 500 Status already written. http.ErrAbortHandler still aborts.
func withPanicContainment(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if err := recover(); err != nil && err == http.ErrAbortHandler { //nolint:errorlint // net/http compares the sentinel the same way
				panic(err)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// withStopOnShutdown cancels the context of long-running requests (watches)
// when stopping closes, so a graceful shutdown does not wait for clients
// that never hang up; other requests are left to finish.
func withStopOnShutdown(h http.Handler, stopping <-chan struct{}) http.Handler {
	if stopping == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := apirequest.RequestInfoFrom(r.Context()); ok && longRunning(r, info) {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			go func() {
				select {
				case <-stopping:
					cancel()
				case <-ctx.Done():
				}
			}()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
}

// routeHealth sends /healthz, /livez and /readyz (and their per-check
// sub-paths) to the health handler and everything else to the API. Both sit
// behind the chain, so health is authorized like any non-resource URL
// (system:public-info-viewer lets anyone read it).
func routeHealth(health, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		for _, prefix := range []string{"/healthz", "/livez", "/readyz"} {
			if p == prefix || strings.HasPrefix(p, prefix+"/") {
				health.ServeHTTP(w, r)
				return
			}
		}
		api.ServeHTTP(w, r)
	})
}

// objectSizeSample is how many objects of a resource are encoded to
// estimate their average size.
const objectSizeSample = 256

// storeObjectStats is the store seen by APF's list work estimator
// (flowcontrol.ObjectCounter): per stored kind, the number of objects
// and their average size encoded as protobuf, as etcd holds them
// (measured on the first objectSizeSample objects). It only reads.
type storeObjectStats struct {
	store storage.Interface
	kinds []*registry.Kind
	proto runtime.Serializer
}

func newStoreObjectStats(store storage.Interface) *storeObjectStats {
	var kinds []*registry.Kind
	for _, k := range registry.New().Kinds() {
		if !k.Ephemeral {
			kinds = append(kinds, k)
		}
	}
	return &storeObjectStats{store: store, kinds: kinds, proto: protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)}
}

func (s *storeObjectStats) ObjectStats(ctx context.Context) (map[string]apistorage.Stats, error) {
	out := make(map[string]apistorage.Stats, len(s.kinds))
	var buf bytes.Buffer
	for _, k := range s.kinds {
		res, err := s.store.List(ctx, k.GVR(), "", storage.ListOptions{Limit: objectSizeSample})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", k.GroupResource(), err)
		}
		st := apistorage.Stats{ObjectCount: int64(len(res.Items))}
		if res.RemainingItemCount != nil {
			st.ObjectCount += *res.RemainingItemCount
		}
		enc := scheme.Codecs.EncoderForVersion(s.proto, k.GVK.GroupVersion())
		var size, n int64
		for _, obj := range res.Items {
			buf.Reset()
			if err := enc.Encode(obj, &buf); err != nil {
				continue
			}
			size += int64(buf.Len())
			n++
		}
		if n > 0 {
			st.EstimatedAverageObjectSizeBytes = size / n
		}
		out[k.GroupResource().String()] = st
	}
	return out, nil
}
