package flowcontrol

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"

	"github.com/kauth/kauth/internal/apf"
)

var watchVerbs = sets.New("watch")

// WithPriorityAndFairness limits the requests of h as kube-apiserver's
// filter of the same name does. It needs the request info and the user
// in the request's context (it runs after authentication).
//
// Each request occupies the seats k8s.io/apiserver's work estimator
// gives it: a LIST by the objects stored for its resource, a mutating
// request one seat plus final seats held for an additional latency when
// enough watches will see its event, a WATCH the cost of its initial
// list while it initialises (until the storage signals
// utilflowcontrol.WatchInitialized or the handler starts its response).
func (c *Controller) WithPriorityAndFairness(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info, ok := request.RequestInfoFrom(ctx)
		if !ok {
			http.Error(w, "no RequestInfo found in the context", http.StatusInternalServerError)
			return
		}
		u, ok := request.UserFrom(ctx)
		if !ok {
			http.Error(w, "no User found in context", http.StatusInternalServerError)
			return
		}
		isWatch := watchVerbs.Has(info.Verb)
		if c.opts.LongRunning != nil && c.opts.LongRunning(r, info) && !isWatch {
			h.ServeHTTP(w, r)
			return
		}
		req := apf.Request{User: u.GetName(), Groups: u.GetGroups(), Verb: info.Verb}
		if info.IsResourceRequest {
			req.APIGroup, req.Resource, req.Subresource = info.APIGroup, info.Resource, info.Subresource
			req.Namespace, req.Name = info.Namespace, info.Name
		} else {
			req.NonResourceURL = info.Path
		}
		cl, ok := c.classify(req)
		if !ok {
			http.Error(w, fmt.Sprintf("no priority level for flow schema %q", cl.flowSchema), http.StatusInternalServerError)
			return
		}
		w.Header().Set(flowcontrolv1.ResponseHeaderMatchedPriorityLevelConfigurationUID, string(cl.level.levelUID()))
		w.Header().Set(flowcontrolv1.ResponseHeaderMatchedFlowSchemaUID, string(cl.fsUID))

		t := &ticket{flowSchema: cl.flowSchema, distinguisher: cl.distinguisher, user: u.GetName(), info: info,
			work: c.estimate(r, cl.flowSchema, cl.level.cfg.Name)}
		now := c.now()
		if !cl.level.arrive(now, c.nanos(now), t, hashFlowID(cl.flowSchema, cl.distinguisher)) || !cl.level.wait(ctx, c, t) {
			c.dropped.RecordDroppedRequest(cl.level.cfg.Name)
			w.Header().Set("Retry-After", strconv.Itoa(int(c.dropped.GetRetryAfter(cl.level.cfg.Name))))
			http.Error(w, "Too many requests, please try again later.", http.StatusTooManyRequests)
			return
		}
		if isWatch {
			c.serveWatch(w, r, h, cl.level, t)
			return
		}
		defer c.release(cl.level, t)
		h.ServeHTTP(w, r)
	})
}

// release ends a request that has run: its seats are free at once, or
// its final seats stay taken for its additional latency, as the queueset
// does.
func (c *Controller) release(l *level, t *ticket) {
	l.finish(c.nanos(c.now()), t)
	d := t.work.AdditionalLatency
	if d <= 0 {
		return
	}
	after := c.opts.AfterFunc
	if after == nil {
		after = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	after(d, func() { l.release(c.nanos(c.now()), t) })
}

// serveWatch runs a dispatched watch. It holds its seats until it has
// initialised, is counted by the watch tracker (the mutating estimator's
// input) while it runs.
func (c *Controller) serveWatch(w http.ResponseWriter, r *http.Request, h http.Handler, l *level, t *ticket) {
	forget := c.watches.RegisterWatch(r)
	if forget != nil {
		defer forget()
	}
	sig := &initSignal{done: func() { c.release(l, t) }}
	defer sig.Signal()
	ctx := utilflowcontrol.WithInitializationSignal(r.Context(), sig)
	h.ServeHTTP(&initWriter{ResponseWriter: w, sig: sig}, r.WithContext(ctx))
}

// initSignal is the watch's initialization signal: the first Signal
// releases the seats.
type initSignal struct {
	once sync.Once
	done func()
}

func (s *initSignal) Signal() { s.once.Do(s.done) }

// Wait is part of utilflowcontrol.InitializationSignal; nothing here
// waits on it.
func (s *initSignal) Wait() {}

// initWriter signals initialization when the watch starts its response:
// kauth's store has gathered the initial state by then.
type initWriter struct {
	http.ResponseWriter
	sig *initSignal
}

func (w *initWriter) WriteHeader(code int) {
	w.sig.Signal()
	w.ResponseWriter.WriteHeader(code)
}

func (w *initWriter) Write(b []byte) (int, error) {
	w.sig.Signal()
	return w.ResponseWriter.Write(b)
}

func (w *initWriter) Flush() {
	w.sig.Signal()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *initWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
