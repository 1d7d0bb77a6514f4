package localserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	kadmission "github.com/kauth/kauth/internal/admission"
	"github.com/kauth/kauth/internal/localserver/flowcontrol"
	"github.com/kauth/kauth/internal/localserver/registry"
)

// admissionAndAPF is the part of the server that reads it back through a
// loopback client, as kube-apiserver's does: the admission plugins and
// their controllers, and API Priority and Fairness.
type admissionAndAPF struct {
	// client is the loopback client the informers, plugins and
	// controllers share.
	client      kubernetes.Interface
	informers   informers.SharedInformerFactory
	gate        *admissionGate
	controllers *kadmission.Controllers
	apf         *flowcontrol.Controller
	apfWatch    *flowcontrol.ConfigWatch
	stop        chan struct{}
}

// buildAdmissionAndAPF makes the loopback client and informers, the
// admission chain of the selected plugins and, unless disabled, the APF
// controller. Nothing runs until [Server.startAdmissionAndAPF].
func (s *Server) buildAdmissionAndAPF(authz authorizer.Authorizer) error {
	c := &s.cfg
	sel, err := kadmission.Select(c.EnableAdmissionPlugins, c.DisableAdmissionPlugins)
	if err != nil {
		return configError(err)
	}
	if len(sel.Skipped) > 0 {
		c.logger().Debug("admission plugins kauth serve does not implement are skipped", "plugins", strings.Join(sel.Skipped, ","))
	}
	loopback := s.loopbackConfig()
	client, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return fmt.Errorf("loopback client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(loopback)
	if err != nil {
		return fmt.Errorf("loopback dynamic client: %w", err)
	}
	x := &admissionAndAPF{client: client, informers: informers.NewSharedInformerFactory(client, 0), stop: make(chan struct{})}
	served := registry.New()
	serves := func(gvr schema.GroupVersionResource) bool { _, ok := served.ByResource(gvr); return ok }
	cfg := kadmission.Config{Client: client, Informers: x.informers, Authorizer: authz, Stop: x.stop, Now: c.Now, Serves: serves,
		Dynamic: dyn, RESTMapper: restMapper(served)}
	chain, err := kadmission.New(cfg, sel.Enabled)
	if err != nil {
		return err
	}
	// As kube-apiserver's REST handlers, the audit decorator copies the
	// annotations plugins add (ValidatingAdmissionPolicy's Audit action,
	// its auditAnnotations) into the request's audit event.
	x.gate = &admissionGate{next: admission.WithAudit(chain)}
	x.controllers = kadmission.NewControllers(cfg, slices.Contains(sel.Enabled, kadmission.NamespaceCreator))
	if slices.Contains(sel.Enabled, kadmission.ValidatingAdmissionPolicy) {
		x.controllers.AddPolicyStatus()
	}
	if c.EnablePriorityAndFairness {
		x.apf, err = flowcontrol.New(flowcontrol.Options{
			ServerConcurrencyLimit: c.MaxRequestsInFlight + c.MaxMutatingRequestsInFlight,
			RequestWaitLimit:       c.RequestTimeout / 4,
			LongRunning:            longRunning,
			Now:                    c.Now,
			Objects:                newStoreObjectStats(s.store),
		})
		if err != nil {
			return configError(err)
		}
		x.apfWatch = x.apf.Watch(x.informers)
		x.apfWatch.WriteStatus(client.FlowcontrolV1())
	}
	s.adm = x
	return nil
}

// startAdmissionAndAPF starts the informers and controllers once the
// server serves, and turns admission on when the caches have synced.
// Objects created before (--seed) are the server's initial state and are
// not admitted.
func (s *Server) startAdmissionAndAPF(ctx context.Context) {
	x := s.adm
	go func() { <-ctx.Done(); close(x.stop) }()
	x.informers.Start(ctx.Done())
	if x.apfWatch != nil {
		go x.apfWatch.Run(ctx, func(err error) { s.cfg.logger().Error("applying the APF configuration", "err", err) })
	}
	x.informers.WaitForCacheSync(ctx.Done())
	x.gate.open.Store(true)
	// Started once the caches have synced: client-go's wait for a sync
	// polls every 100 ms after its first look, which would hold back
	// Settled by that much.
	go x.controllers.Run(ctx)
}

// withAPF is the APF filter when enabled; nil means max-in-flight.
func (x *admissionAndAPF) withAPF() func(http.Handler) http.Handler {
	if x.apf == nil {
		return nil
	}
	return x.apf.WithPriorityAndFairness
}

// withAPFDebug serves /debug/api_priority_and_fairness/ and /metrics
// (the APF limit gauges only) from the APF controller (behind
// authentication and authorization, as in kube-apiserver).
func (x *admissionAndAPF) withAPFDebug(h http.Handler) http.Handler {
	if x.apf == nil {
		return h
	}
	debug := x.apf.DebugHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/debug/api_priority_and_fairness/") || r.URL.Path == flowcontrol.PathMetrics {
			debug.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// restMapper maps the kinds the server serves to their resources, as
// kube-apiserver's discovery REST mapper does; the policy plugins find a
// paramKind's resource with it.
func restMapper(r *registry.Registry) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, k := range r.Kinds() {
		scope := meta.RESTScopeRoot
		if k.Namespaced {
			scope = meta.RESTScopeNamespace
		}
		gv := k.GVK.GroupVersion()
		m.AddSpecific(k.GVK, gv.WithResource(k.Resource), gv.WithResource(k.Singular), scope)
	}
	return m
}

// admissionGate passes requests to the chain once it is open.
type admissionGate struct {
	next admission.Interface
	open atomic.Bool
}

func (g *admissionGate) Handles(op admission.Operation) bool {
	return g.open.Load() && g.next.Handles(op)
}

func (g *admissionGate) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if m, ok := g.next.(admission.MutationInterface); ok && g.open.Load() {
		return m.Admit(ctx, a, o)
	}
	return nil
}

func (g *admissionGate) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if v, ok := g.next.(admission.ValidationInterface); ok && g.open.Load() {
		return v.Validate(ctx, a, o)
	}
	return nil
}

// loopbackConfig reaches the server as its privileged loopback identity,
// the way kube-apiserver's own plugins and controllers reach it.
func (s *Server) loopbackConfig() *rest.Config {
	return &rest.Config{
		Host: s.url, BearerToken: s.loopback, QPS: 1000, Burst: 2000,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.pki.CAPEM},
	}
}
