package admission

import (
	"fmt"
	"io"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle"
	webhookinit "k8s.io/apiserver/pkg/admission/plugin/webhook/initializer"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// Config is what the plugins read and write the server through.
type Config struct {
	// Client reaches the server (kauth serve's loopback client).
	Client kubernetes.Interface
	// Informers is started by the caller after [New]; the plugins wait
	// for the caches they use before their first decision.
	Informers informers.SharedInformerFactory
	// Authorizer is given to the plugins that authorize (webhooks'
	// match conditions); it may be nil.
	Authorizer authorizer.Authorizer
	// Stop ends the plugins' background work.
	Stop <-chan struct{}
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Serves tells the resources the server serves; controllers watch only
	// those. Nil means every resource.
	Serves func(schema.GroupVersionResource) bool
	// Dynamic and RESTMapper reach the params of admission policies (any
	// served kind); the policy plugins and their status controller need
	// them, the other plugins do not.
	Dynamic    dynamic.Interface
	RESTMapper meta.RESTMapper
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// New builds the admission chain of the named plugins (as [Select]
// returns them) in kube-apiserver's order: mutating admission runs every
// mutating plugin in that order, then validating admission every
// validating one.
func New(cfg Config, names []string) (admission.Interface, error) {
	if cfg.Client == nil || cfg.Informers == nil || cfg.Stop == nil {
		return nil, fmt.Errorf("admission: a client, an informer factory and a stop channel are required")
	}
	plugins := admission.NewPlugins()
	register(plugins, cfg)
	ordered := make([]string, 0, len(names))
	for _, n := range orderedPlugins {
		for _, want := range names {
			if want == n {
				ordered = append(ordered, n)
			}
		}
	}
	for _, n := range names {
		if !slices.Contains(plugins.Registered(), n) {
			return nil, fmt.Errorf("admission plugin %q is not implemented by kauth serve", n)
		}
	}
	inits := admission.PluginInitializers{
		initializer.New(cfg.Client, cfg.Dynamic, cfg.Informers, cfg.Authorizer, utilfeature.DefaultFeatureGate, nil, cfg.Stop, cfg.RESTMapper),
		webhookinit.NewPluginInitializer(nil, nil),
	}
	chain, err := plugins.NewFromPlugins(ordered, noConfig{}, inits, nil)
	if err != nil {
		return nil, fmt.Errorf("building the admission chain: %w", err)
	}
	return withPolicyParamAuthz(chain, cfg), nil
}

// noConfig gives no plugin a configuration file, as kube-apiserver
// without --admission-control-config-file.
type noConfig struct{}

func (noConfig) ConfigFor(string) (io.Reader, error) { return nil, nil }

// register adds the plugins kauth implements.
func register(p *admission.Plugins, cfg Config) {
	p.Register(AlwaysAdmit, func(io.Reader) (admission.Interface, error) { return alwaysAdmit{}, nil })
	p.Register(AlwaysDeny, func(io.Reader) (admission.Interface, error) { return alwaysDeny{}, nil })
	p.Register(NamespaceLifecycle, func(io.Reader) (admission.Interface, error) {
		return lifecycle.NewLifecycle(sets.New(metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic))
	})
	p.Register(NamespaceCreator, func(io.Reader) (admission.Interface, error) { return newNamespaceCreator(), nil })
	p.Register(LimitRanger, func(io.Reader) (admission.Interface, error) { return newLimitRanger(), nil })
	p.Register(ServiceAccount, func(io.Reader) (admission.Interface, error) { return newServiceAccount(), nil })
	p.Register(AlwaysPullImages, func(io.Reader) (admission.Interface, error) { return newAlwaysPullImages(), nil })
	p.Register(PodSecurity, func(io.Reader) (admission.Interface, error) { return newPodSecurity(cfg) })
	p.Register(MutatingAdmissionWebhook, func(r io.Reader) (admission.Interface, error) { return mutating.NewMutatingWebhook(r) })
	p.Register(ValidatingAdmissionWebhook, func(r io.Reader) (admission.Interface, error) { return validating.NewValidatingAdmissionWebhook(r) })
	p.Register(ResourceQuota, func(io.Reader) (admission.Interface, error) { return newResourceQuota(cfg) })
	registerPolicies(p, cfg)
}
