package admission

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// policyParamAuthz is the check kube-apiserver's admission policy
// strategies make before a policy or binding is stored: whoever names a
// paramKind must be able to "get" every object of that kind, and whoever
// binds with a paramRef must be able to "get" (by name) or "list" (by
// selector) what it references, so a policy cannot read what its author
// may not. system:masters is exempt. It wraps the chain and runs before
// its validating plugins.
type policyParamAuthz struct {
	admission.Interface
	cfg Config
}

// withPolicyParamAuthz adds the check when cfg can authorize and resolve
// kinds; without them (unit harnesses) the chain is returned as it is.
func withPolicyParamAuthz(chain admission.Interface, cfg Config) admission.Interface {
	if cfg.Authorizer == nil || cfg.RESTMapper == nil {
		return chain
	}
	return &policyParamAuthz{Interface: chain, cfg: cfg}
}

func (p *policyParamAuthz) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update || p.Interface.Handles(op)
}

func (p *policyParamAuthz) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if m, ok := p.Interface.(admission.MutationInterface); ok && m.Handles(a.GetOperation()) {
		return m.Admit(ctx, a, o)
	}
	return nil
}

func (p *policyParamAuthz) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if err := p.check(ctx, a); err != nil {
		return err
	}
	if v, ok := p.Interface.(admission.ValidationInterface); ok && v.Handles(a.GetOperation()) {
		return v.Validate(ctx, a, o)
	}
	return nil
}

func (p *policyParamAuthz) check(ctx context.Context, a admission.Attributes) error {
	if a.GetSubresource() != "" || (a.GetOperation() != admission.Create && a.GetOperation() != admission.Update) || privileged(a.GetUserInfo()) {
		return nil
	}
	var path *field.Path
	var err error
	switch obj := a.GetObject().(type) {
	case *admissionregistrationv1.ValidatingAdmissionPolicy:
		var old *admissionregistrationv1.ParamKind
		if o, ok := a.GetOldObject().(*admissionregistrationv1.ValidatingAdmissionPolicy); ok {
			old = o.Spec.ParamKind
		}
		path, err = field.NewPath("spec", "paramKind"), p.paramKind(ctx, a.GetUserInfo(), obj.Spec.ParamKind, old)
	case *admissionregistrationv1.MutatingAdmissionPolicy:
		var old *admissionregistrationv1.ParamKind
		if o, ok := a.GetOldObject().(*admissionregistrationv1.MutatingAdmissionPolicy); ok {
			old = o.Spec.ParamKind
		}
		path, err = field.NewPath("spec", "paramKind"), p.paramKind(ctx, a.GetUserInfo(), obj.Spec.ParamKind, old)
	case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
		unchanged := false
		if o, ok := a.GetOldObject().(*admissionregistrationv1.ValidatingAdmissionPolicyBinding); ok {
			unchanged = sameParamRef(o.Spec.ParamRef, obj.Spec.ParamRef) && o.Spec.PolicyName == obj.Spec.PolicyName
		}
		path, err = field.NewPath("spec", "paramRef"), p.paramRef(ctx, a.GetUserInfo(), obj.Spec.PolicyName, obj.Spec.ParamRef, unchanged, p.validatingParamKind)
	case *admissionregistrationv1.MutatingAdmissionPolicyBinding:
		unchanged := false
		if o, ok := a.GetOldObject().(*admissionregistrationv1.MutatingAdmissionPolicyBinding); ok {
			unchanged = sameParamRef(o.Spec.ParamRef, obj.Spec.ParamRef) && o.Spec.PolicyName == obj.Spec.PolicyName
		}
		path, err = field.NewPath("spec", "paramRef"), p.paramRef(ctx, a.GetUserInfo(), obj.Spec.PolicyName, obj.Spec.ParamRef, unchanged, p.mutatingParamKind)
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	return apierrors.NewInvalid(a.GetKind().GroupKind(), a.GetName(), field.ErrorList{field.Forbidden(path, err.Error())})
}

func privileged(u user.Info) bool {
	if u == nil {
		return false
	}
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return true
		}
	}
	return false
}

func sameParamRef(a, b *admissionregistrationv1.ParamRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.Namespace == b.Namespace && a.Selector.String() == b.Selector.String() &&
		(a.ParameterNotFoundAction == nil) == (b.ParameterNotFoundAction == nil) &&
		(a.ParameterNotFoundAction == nil || *a.ParameterNotFoundAction == *b.ParameterNotFoundAction)
}

// resolve returns the group, version and resource of a paramKind, with
// "*" for what cannot be parsed or resolved (as upstream, which then
// demands the permission on everything).
func (p *policyParamAuthz) resolve(pk *admissionregistrationv1.ParamKind) (group, version, resource string, gvErr, resErr error) {
	group, version, resource = "*", "*", "*"
	gv, gvErr := schema.ParseGroupVersion(pk.APIVersion)
	if gvErr != nil {
		return group, version, resource, gvErr, nil
	}
	group, version = gv.Group, gv.Version
	m, resErr := p.cfg.RESTMapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: pk.Kind}, gv.Version)
	if resErr == nil {
		resource = m.Resource.Resource
	}
	return group, version, resource, nil, resErr
}

func (p *policyParamAuthz) allowed(ctx context.Context, attrs authorizer.AttributesRecord) (bool, error) {
	d, _, err := p.cfg.Authorizer.Authorize(ctx, attrs)
	return d == authorizer.DecisionAllow, err
}

func (p *policyParamAuthz) paramKind(ctx context.Context, u user.Info, pk, old *admissionregistrationv1.ParamKind) error {
	if pk == nil || (old != nil && *old == *pk) {
		return nil
	}
	group, version, resource, _, _ := p.resolve(pk)
	ok, err := p.allowed(ctx, authorizer.AttributesRecord{User: u, Verb: "get", ResourceRequest: true, Name: "*", Namespace: "*",
		APIGroup: group, APIVersion: version, Resource: resource})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf(`user %v must have "get" permission on all objects of the referenced paramKind (kind=%s, apiVersion=%s)`, u, pk.Kind, pk.APIVersion)
	}
	return nil
}

func (p *policyParamAuthz) validatingParamKind(ctx context.Context, name string) (*admissionregistrationv1.ParamKind, error) {
	pol, err := p.cfg.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return pol.Spec.ParamKind, nil
}

func (p *policyParamAuthz) mutatingParamKind(ctx context.Context, name string) (*admissionregistrationv1.ParamKind, error) {
	pol, err := p.cfg.Client.AdmissionregistrationV1().MutatingAdmissionPolicies().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return pol.Spec.ParamKind, nil
}

func (p *policyParamAuthz) paramRef(ctx context.Context, u user.Info, policy string, ref *admissionregistrationv1.ParamRef, unchanged bool,
	paramKindOf func(context.Context, string) (*admissionregistrationv1.ParamKind, error)) error {
	if ref == nil || unchanged {
		return nil
	}
	group, version, resource := "*", "*", "*"
	pk, policyErr := paramKindOf(ctx, policy)
	var gvErr, resErr error
	if policyErr == nil && pk != nil {
		group, version, resource, gvErr, resErr = p.resolve(pk)
	}
	verb := "get"
	if ref.Name == "" {
		verb = "list"
	}
	ok, err := p.allowed(ctx, authorizer.AttributesRecord{User: u, Verb: verb, ResourceRequest: true, Name: ref.Name, Namespace: ref.Namespace,
		APIGroup: group, APIVersion: version, Resource: resource})
	switch {
	case err != nil:
		return fmt.Errorf("failed to authorize request: %w", err)
	case ok:
		return nil
	case policyErr != nil:
		return fmt.Errorf(`unable to get policy %s to determine minimum required permissions and user %v does not have "%v" permission for all groups, versions and resources`, policy, u, verb)
	case gvErr != nil:
		return fmt.Errorf(`unable to parse paramKind %v to determine minimum required permissions and user %v does not have "%v" permission for all groups, versions and resources`, pk, u, verb)
	case resErr != nil:
		return fmt.Errorf(`unable to resolve paramKind %v to determine minimum required permissions and user %v does not have "%v" permission for all groups, versions and resources`, pk, u, verb)
	}
	return fmt.Errorf(`user %v does not have "%v" permission on the object referenced by paramRef`, u, verb)
}
