package main

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	authorizationapi "k8s.io/kubernetes/pkg/apis/authorization"
	_ "k8s.io/kubernetes/pkg/apis/authorization/install" // rbac/v1 <-> internal conversions
	"k8s.io/kubernetes/pkg/registry/authorization/subjectaccessreview"

	"github.com/kauth/kauth/internal/rbac"
)

// upstreamReview creates sar through kube-apiserver's SubjectAccessReview
// REST handler (validation, attributes, authorizer, status) over e's chain.
func upstreamReview(t *testing.T, e *Engines, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReviewStatus, error) {
	t.Helper()
	var in authorizationapi.SubjectAccessReview
	if err := legacyscheme.Scheme.Convert(sar.DeepCopy(), &in, nil); err != nil {
		t.Fatal(err)
	}
	ctx := genericapirequest.WithRequestInfo(context.Background(), &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "create", APIGroup: "authorization.k8s.io", APIVersion: "v1", Resource: "subjectaccessreviews",
	})
	obj, err := subjectaccessreview.NewREST(e.Upstream.Chain, legacyscheme.Scheme).Create(ctx, &in, nil, &metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	var out authorizationv1.SubjectAccessReview
	if err := legacyscheme.Scheme.Convert(obj, &out, nil); err != nil {
		t.Fatal(err)
	}
	return &out.Status, nil
}

// TestDifferentialSubjectAccessReview compares "kauth authz check"
// (rbac.Review over kauth's chain) with the SubjectAccessReview API of
// kube-apiserver on the bootstrap policy: which reviews are refused, and
// allowed, denied, evaluationError and the denial reason of the others.
func TestDifferentialSubjectAccessReview(t *testing.T) {
	t.Parallel()
	objs := bootstrapObjects(t)
	e, err := NewEngines(objs)
	if err != nil {
		t.Fatal(err)
	}
	res := func(verb, ns, resource string) *authorizationv1.ResourceAttributes {
		return &authorizationv1.ResourceAttributes{Verb: verb, Namespace: ns, Resource: resource}
	}
	spec := func(user string, groups []string, ra *authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
		return authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups, ResourceAttributes: ra}
	}
	type tc struct {
		name string
		sar  authorizationv1.SubjectAccessReview
	}
	cases := []tc{
		{"allowed", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, res("delete", "team-a", "pods"))}},
		{"denied", authorizationv1.SubjectAccessReview{Spec: spec("carol", nil, res("delete", "team-a", "pods"))}},
		{"groups only", authorizationv1.SubjectAccessReview{Spec: spec("", []string{"system:masters"}, res("get", "", "nodes"))}},
		{"no user and no groups", authorizationv1.SubjectAccessReview{Spec: spec("", nil, res("get", "", "nodes"))}},
		{"neither attributes", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, nil)}},
		{"both attributes", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice",
			ResourceAttributes: res("get", "", "pods"), NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}}}},
		{"non-resource", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "x", Groups: []string{"system:authenticated"},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}}}},
		{"metadata name", authorizationv1.SubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Name: "check-1"}, Spec: spec("alice", nil, res("get", "team-a", "pods"))}},
		{"metadata labels", authorizationv1.SubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}, Spec: spec("alice", nil, res("get", "team-a", "pods"))}},
		{"extra and uid", authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", UID: "1",
			Extra: map[string]authorizationv1.ExtraValue{"scopes": {"a"}}, ResourceAttributes: res("get", "team-a", "pods")}}},
		{"raw label selector", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{RawSelector: "app=web"}})}},
		{"unparsable raw label selector", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{RawSelector: "app in ("}})}},
		{"unknown label selector operator", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{Requirements: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Like", Values: []string{"x"}}}}})}},
		{"label selector raw and requirements", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{RawSelector: "a=b", Requirements: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Exists"}}}})}},
		{"empty label selector", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			LabelSelector: &authorizationv1.LabelSelectorAttributes{}})}},
		{"field selector Exists", authorizationv1.SubjectAccessReview{Spec: spec("alice", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			FieldSelector: &authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{{Key: "spec.nodeName", Operator: "Exists"}}}})}},
		{"unparsable raw field selector", authorizationv1.SubjectAccessReview{Spec: spec("carol", nil, &authorizationv1.ResourceAttributes{Verb: "list", Namespace: "team-a", Resource: "pods",
			FieldSelector: &authorizationv1.FieldSelectorAttributes{RawSelector: "a==b==c"}})}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			up, upErr := upstreamReview(t, e, &c.sar)
			k, kErr := rbac.Review(context.Background(), e.Kauth.Chain, c.sar.DeepCopy())
			if (upErr == nil) != (kErr == nil) {
				t.Fatalf("refused?\n  kube-apiserver: %v\n  kauth:          %v", upErr, kErr)
			}
			if upErr != nil {
				return
			}
			got, want := k.Status, *up
			if got.Allowed != want.Allowed || got.Denied != want.Denied || got.EvaluationError != want.EvaluationError ||
				(!want.Allowed && reasonErrors(got.Reason) != reasonErrors(want.Reason)) {
				t.Errorf("status differs\n  kube-apiserver: %+v\n  kauth:          %+v", want, got)
			}
		})
	}
}
