package rbac

import (
	"context"
	"errors"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// ReviewAttributes turns a SubjectAccessReview spec into request
// attributes as kube-apiserver's SubjectAccessReview REST handler does: the
// user, groups, extra and UID as given (no groups are added), and either
// the resource or the non-resource attributes. It refuses specs that
// handler refuses.
func ReviewAttributes(spec authorizationv1.SubjectAccessReviewSpec) (authorizer.AttributesRecord, error) {
	switch {
	case spec.ResourceAttributes == nil && spec.NonResourceAttributes == nil,
		spec.ResourceAttributes != nil && spec.NonResourceAttributes != nil:
		return authorizer.AttributesRecord{}, errors.New("spec.resourceAttributes: exactly one of nonResourceAttributes or resourceAttributes must be specified")
	case spec.User == "" && len(spec.Groups) == 0:
		return authorizer.AttributesRecord{}, errors.New("spec.user: at least one of user or group must be specified")
	}
	extra := make(map[string][]string, len(spec.Extra))
	for k, v := range spec.Extra {
		extra[k] = v
	}
	a := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extra}}
	if ra := spec.ResourceAttributes; ra != nil {
		a.ResourceRequest = true
		a.Verb, a.Namespace, a.APIGroup, a.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Name = ra.Resource, ra.Subresource, ra.Name
		return a, nil
	}
	a.Verb, a.Path = spec.NonResourceAttributes.Verb, spec.NonResourceAttributes.Path
	return a, nil
}

// Review fills the status of a SubjectAccessReview by asking az, as the
// SubjectAccessReview API does: allowed for Allow, denied for Deny, the
// reason, and the error as evaluationError. It returns a copy; an invalid
// spec is an error.
func Review(ctx context.Context, az authorizer.Authorizer, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
	attrs, err := ReviewAttributes(sar.Spec)
	if err != nil {
		return nil, err
	}
	out := sar.DeepCopy()
	d, reason, err := az.Authorize(ctx, attrs)
	out.Status = authorizationv1.SubjectAccessReviewStatus{
		Allowed: d == authorizer.DecisionAllow,
		Denied:  d == authorizer.DecisionDeny,
		Reason:  reason,
	}
	if err != nil {
		out.Status.EvaluationError = err.Error()
	}
	return out, nil
}
