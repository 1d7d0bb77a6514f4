// Package api is the REST layer of kauth serve: an http.Handler that speaks
// the Kubernetes API the way kube-apiserver v1.37 does for the kinds in
// package registry, on top of one storage.Interface.
//
// It serves discovery (/api, /apis, per group and version, and aggregated
// discovery when the client asks for apidiscovery.k8s.io/v2), /version,
// OpenAPI v2 and v3 for the served types, server-side tables (as=Table),
// get, list (label and field selectors, limit and continue), watch (from a
// resourceVersion, with bookmarks and 410 Gone), create (generateName),
// update (409 on a stale resourceVersion), patch (JSON, merge, strategic
// merge and server-side apply with managed fields), delete and
// deletecollection, the review APIs, the serviceaccount token subresource
// and CSR approval and status. Errors are metav1.Status bodies written by
// k8s.io/apiserver's responsewriters.
//
// The handler expects to run behind an authenticating filter chain: the
// request context must carry request.RequestInfo and user.Info
// (k8s.io/apiserver/pkg/endpoints/request). Admission, token review, access
// review, token issuing and CSR signing are reached through [Hooks].
//
// Contract:
//
//	type Hooks struct {
//		Authorizer         authorizer.Authorizer // *SubjectAccessReview; RuleResolver by type assertion for SelfSubjectRulesReview
//		TokenAuthenticator authenticator.Token   // TokenReview
//		IssueToken         func(ctx, *corev1.ServiceAccount, *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
//		SignCSR            func(ctx, *certificatesv1.CertificateSigningRequest) ([]byte, error)
//		Admission          admission.Interface   // optional: mutating, then validating
//	}
//	func New(store storage.Interface, hooks Hooks) (*API, error)
//	func (a *API) Handler() http.Handler
package api
