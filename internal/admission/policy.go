package admission

import (
	"fmt"
	"io"

	"k8s.io/apiserver/pkg/admission"
	mutatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
)

// registerPolicies adds ValidatingAdmissionPolicy and
// MutatingAdmissionPolicy: k8s.io/apiserver's own plugins, which read the
// policies and bindings through cfg's informers, their params through a
// dynamic informer per paramKind (cfg.Dynamic, cfg.RESTMapper) and
// authorize with cfg.Authorizer, as kube-apiserver's do through its
// loopback client.
func registerPolicies(p *admission.Plugins, cfg Config) {
	p.Register(ValidatingAdmissionPolicy, func(r io.Reader) (admission.Interface, error) {
		if err := cfg.policyReady(ValidatingAdmissionPolicy); err != nil {
			return nil, err
		}
		return validatingpolicy.NewPlugin(r)
	})
	p.Register(MutatingAdmissionPolicy, func(r io.Reader) (admission.Interface, error) {
		if err := cfg.policyReady(MutatingAdmissionPolicy); err != nil {
			return nil, err
		}
		return mutatingpolicy.NewPlugin(r)
	})
}

// policyReady says what a policy plugin misses from cfg, with a plain
// message instead of the plugin's own "missing rest mapper".
func (c Config) policyReady(name string) error {
	if c.Dynamic == nil || c.RESTMapper == nil || c.Authorizer == nil {
		return fmt.Errorf("admission plugin %s needs a dynamic client, a REST mapper and an authorizer", name)
	}
	return nil
}
