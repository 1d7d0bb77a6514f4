package rbac

import (
	"context"
	"errors"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/internal/loader"
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

// ReviewFunc answers one SubjectAccessReview.
type ReviewFunc func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error)

// Offline answers reviews with az, in process.
func Offline(az authorizer.Authorizer) ReviewFunc {
	return func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
		return Review(ctx, az, sar)
	}
}

// ServerSide sends reviews to a cluster's SubjectAccessReview API, so the
// same batch can be compared with what a real kube-apiserver answers.
func ServerSide(client kubernetes.Interface) ReviewFunc {
	return func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
		in := sar.DeepCopy()
		in.Status = authorizationv1.SubjectAccessReviewStatus{}
		out, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, in, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("sending the review to the cluster: %w", err)
		}
		// Keep what the user sent; take the cluster's answer.
		res := sar.DeepCopy()
		res.Status = out.Status
		return res, nil
	}
}

// ReviewObjects answers every SubjectAccessReview of objs, in order, and
// fills apiVersion and kind. Any other kind, and any invalid spec, is an
// error naming the file and line.
func ReviewObjects(ctx context.Context, objs []loader.Object, review ReviewFunc) ([]*authorizationv1.SubjectAccessReview, error) {
	out := make([]*authorizationv1.SubjectAccessReview, 0, len(objs))
	for _, o := range objs {
		sar, ok := o.Object.(*authorizationv1.SubjectAccessReview)
		if !ok {
			gvk := loader.GVK(o.Object)
			return nil, &SourceError{fmt.Errorf("%s: kind %s: expected authorization.k8s.io/v1 SubjectAccessReview", o.Source, gvk.Kind)}
		}
		if _, err := ReviewAttributes(sar.Spec); err != nil {
			return nil, &SourceError{fmt.Errorf("%s: %w", o.Source, err)}
		}
		res, err := review(ctx, sar)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Source, err)
		}
		res.APIVersion, res.Kind = authorizationv1.SchemeGroupVersion.String(), "SubjectAccessReview"
		out = append(out, res)
	}
	return out, nil
}
