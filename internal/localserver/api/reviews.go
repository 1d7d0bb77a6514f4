package api

import (
	"context"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kauth/kauth/internal/localserver/registry"
)

// serveReview answers the review APIs: decode, validate, ask the hook,
// and return the object with its status (201, never stored).
func (a *API) serveReview(w http.ResponseWriter, req *http.Request, t target) {
	out, err := a.review(w, req, t)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeObject(w, req, http.StatusCreated, t.kind.GVK.GroupVersion(), out)
}

func (a *API) review(w http.ResponseWriter, req *http.Request, t target) (runtime.Object, error) {
	opts, err := parseWriteOptions(req, "CreateOptions")
	if err != nil {
		return nil, err
	}
	body, err := readBody(w, req)
	if err != nil {
		return nil, err
	}
	obj, err := a.decodeBody(w, req, t.kind, body, opts.fieldValidation)
	if err != nil {
		return nil, err
	}
	if v := t.kind.Strategy.Validate; v != nil {
		if errs := v(obj); len(errs) > 0 {
			return nil, apierrors.NewInvalid(t.kind.GVK.GroupKind(), "", errs)
		}
	}
	ctx := req.Context()
	switch r := obj.(type) {
	case *authenticationv1.TokenReview:
		return r, a.tokenReview(ctx, r)
	case *authenticationv1.SelfSubjectReview:
		u, _ := request.UserFrom(ctx)
		r.Status.UserInfo = userInfo(u)
		return r, nil
	case *authorizationv1.SubjectAccessReview:
		return r, a.accessReview(ctx, &r.Spec, &r.Status, specUser(r.Spec))
	case *authorizationv1.LocalSubjectAccessReview:
		if r.Spec.ResourceAttributes.Namespace != t.namespace {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", t.namespace))
		}
		r.Namespace = t.namespace
		return r, a.accessReview(ctx, &r.Spec, &r.Status, specUser(r.Spec))
	case *authorizationv1.SelfSubjectAccessReview:
		u, _ := request.UserFrom(ctx)
		spec := authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: r.Spec.ResourceAttributes, NonResourceAttributes: r.Spec.NonResourceAttributes}
		return r, a.accessReview(ctx, &spec, &r.Status, u)
	case *authorizationv1.SelfSubjectRulesReview:
		return r, a.rulesReview(ctx, r)
	}
	return nil, apierrors.NewInternalError(fmt.Errorf("no review for %T", obj))
}

func unavailable(what string) error {
	return apierrors.NewServiceUnavailable(what + " is not configured on this server")
}

func (a *API) tokenReview(ctx context.Context, r *authenticationv1.TokenReview) error {
	if r.Spec.Token == "" {
		return apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	if a.hooks.TokenAuthenticator == nil {
		return unavailable("token authentication")
	}
	if len(r.Spec.Audiences) > 0 {
		ctx = authenticator.WithAudiences(ctx, r.Spec.Audiences)
	}
	resp, ok, err := a.hooks.TokenAuthenticator.AuthenticateToken(ctx, r.Spec.Token)
	r.Status = authenticationv1.TokenReviewStatus{Authenticated: ok && err == nil}
	if err != nil {
		r.Status.Error = err.Error()
	}
	if r.Status.Authenticated && resp != nil {
		r.Status.User = userInfo(resp.User)
		r.Status.Audiences = resp.Audiences
	}
	return nil
}

func userInfo(u user.Info) authenticationv1.UserInfo {
	if u == nil {
		return authenticationv1.UserInfo{}
	}
	out := authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}
	for k, v := range u.GetExtra() {
		if out.Extra == nil {
			out.Extra = map[string]authenticationv1.ExtraValue{}
		}
		out.Extra[k] = v
	}
	return out
}

func specUser(s authorizationv1.SubjectAccessReviewSpec) user.Info {
	extra := map[string][]string{}
	for k, v := range s.Extra {
		extra[k] = v
	}
	return &user.DefaultInfo{Name: s.User, UID: s.UID, Groups: s.Groups, Extra: extra}
}

// accessReview asks the authorizer, as kube-apiserver's SubjectAccessReview
// REST does: allowed, denied, reason and evaluationError.
func (a *API) accessReview(ctx context.Context, spec *authorizationv1.SubjectAccessReviewSpec, status *authorizationv1.SubjectAccessReviewStatus, u user.Info) error {
	if a.hooks.Authorizer == nil {
		return unavailable("authorization")
	}
	attrs := authorizer.AttributesRecord{User: u}
	if ra := spec.ResourceAttributes; ra != nil {
		attrs.ResourceRequest = true
		attrs.Verb, attrs.Namespace, attrs.APIGroup, attrs.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		attrs.Resource, attrs.Subresource, attrs.Name = ra.Resource, ra.Subresource, ra.Name
	}
	if nra := spec.NonResourceAttributes; nra != nil {
		attrs.Verb, attrs.Path = nra.Verb, nra.Path
	}
	decision, reason, err := a.hooks.Authorizer.Authorize(ctx, attrs)
	*status = authorizationv1.SubjectAccessReviewStatus{
		Allowed: decision == authorizer.DecisionAllow, Denied: decision == authorizer.DecisionDeny, Reason: reason,
	}
	if err != nil {
		status.EvaluationError = err.Error()
	}
	return nil
}

func (a *API) rulesReview(ctx context.Context, r *authorizationv1.SelfSubjectRulesReview) error {
	resolver, ok := a.hooks.Authorizer.(authorizer.RuleResolver)
	if !ok {
		return unavailable("rule resolution")
	}
	u, _ := request.UserFrom(ctx)
	res, nonRes, incomplete, err := resolver.RulesFor(ctx, u, r.Spec.Namespace)
	r.Status = authorizationv1.SubjectRulesReviewStatus{Incomplete: incomplete,
		ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, rr := range res {
		r.Status.ResourceRules = append(r.Status.ResourceRules, authorizationv1.ResourceRule{
			Verbs: rr.GetVerbs(), APIGroups: rr.GetAPIGroups(), Resources: rr.GetResources(), ResourceNames: rr.GetResourceNames()})
	}
	for _, nr := range nonRes {
		r.Status.NonResourceRules = append(r.Status.NonResourceRules, authorizationv1.NonResourceRule{Verbs: nr.GetVerbs(), NonResourceURLs: nr.GetNonResourceURLs()})
	}
	if err != nil {
		r.Status.EvaluationError = err.Error()
	}
	return nil
}

// tokenRequestKind lets serviceaccounts/token decode its body like any kind.
var tokenRequestKind = &registry.Kind{
	GVK: authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), Resource: "serviceaccounts/token",
	New: func() runtime.Object { return &authenticationv1.TokenRequest{} },
}

// Bounds of spec.expirationSeconds, as kube-apiserver validates them.
const (
	defaultTokenSeconds = 3600
	minTokenSeconds     = 600
	maxTokenSeconds     = 1 << 32
)

func (a *API) serveTokenRequest(w http.ResponseWriter, req *http.Request, t target) {
	out, err := a.tokenRequest(w, req, t)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeObject(w, req, http.StatusCreated, authenticationv1.SchemeGroupVersion, out)
}

func (a *API) tokenRequest(w http.ResponseWriter, req *http.Request, t target) (runtime.Object, error) {
	opts, err := parseWriteOptions(req, "CreateOptions")
	if err != nil {
		return nil, err
	}
	body, err := readBody(w, req)
	if err != nil {
		return nil, err
	}
	obj, err := a.decodeBody(w, req, tokenRequestKind, body, opts.fieldValidation)
	if err != nil {
		return nil, err
	}
	tr := obj.(*authenticationv1.TokenRequest)
	ctx := req.Context()
	saObj, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name)
	if err != nil {
		return nil, err
	}
	if tr.Spec.ExpirationSeconds == nil {
		v := int64(defaultTokenSeconds)
		tr.Spec.ExpirationSeconds = &v
	}
	switch e := *tr.Spec.ExpirationSeconds; {
	case e < minTokenSeconds:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("TokenRequest.authentication.k8s.io %q is invalid: spec.expirationSeconds: Invalid value: %d: may not specify a duration less than 10 minutes", t.name, e))
	case e > maxTokenSeconds:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("TokenRequest.authentication.k8s.io %q is invalid: spec.expirationSeconds: Invalid value: %d: may not specify a duration larger than 2^32 seconds", t.name, e))
	}
	if a.hooks.IssueToken == nil {
		return nil, unavailable("service account token issuing")
	}
	tr.Name, tr.Namespace = t.name, t.namespace
	out, err := a.hooks.IssueToken(ctx, saObj.(*corev1.ServiceAccount), tr)
	if err != nil {
		if _, ok := err.(apierrors.APIStatus); ok {
			return nil, err
		}
		return nil, apierrors.NewInternalError(err)
	}
	return out, nil
}
