// Package api is the REST layer of kauth serve: an http.Handler that speaks
// the Kubernetes API the way kube-apiserver v1.37 does for the kinds in
// package registry, on top of one storage.Interface.
//
// It serves:
//
//   - discovery: /api, /apis, /apis/<group>, /api/v1 and /apis/<group>/<version>,
//     and aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList)
//     when the Accept header asks for it, as kubectl does;
//   - /version (v1.37.2+kauth);
//   - OpenAPI v2 (/openapi/v2) and v3 (/openapi/v3 and its per group-version
//     documents with ?hash=), in JSON and protobuf: kube-apiserver v1.37's
//     published documents cut down to the served kinds (tools/openapi-spec),
//     so kubectl explain and kubectl's server-side field validation work;
//   - get, list (label and field selectors, limit and continue), watch
//     (from a resourceVersion, label and field filtered, bookmarks,
//     sendInitialEvents, an ERROR 410 event when too old), create
//     (generateName), update (409 on a stale resourceVersion; create on
//     update for RBAC kinds and limitranges), patch (JSON, merge, strategic
//     merge, and server-side apply with managed fields through
//     k8s.io/apimachinery's managedfields), delete (finalizers,
//     preconditions, dry run) and deletecollection;
//   - server-side tables (Accept: ...;as=Table;g=meta.k8s.io;v=v1) with
//     kube-apiserver's columns per kind, and PartialObjectMetadata(List);
//   - the status, approval and finalize subresources and
//     serviceaccounts/token (through Hooks.IssueToken);
//   - the review APIs: TokenReview, SelfSubjectReview, SubjectAccessReview,
//     LocalSubjectAccessReview, SelfSubjectAccessReview and
//     SelfSubjectRulesReview (through Hooks).
//
// Writes follow kube-apiserver's order: decode (fieldValidation Strict fails
// on unknown or duplicate fields, Warn, the default, answers with Warning
// headers, Ignore drops them), namespace lifecycle (the namespace must exist
// and not be terminating), the kind's strategy, mutating admission,
// validation (422 Invalid with field paths), RBAC escalation prevention
// (a role may only grant what its author holds or may escalate; a binding
// needs the role's permissions or the bind verb; system:masters is exempt),
// validating admission, managed fields, then the store. Bodies over 3 MiB
// are refused with 413. Deleting a namespace marks it Terminating, deletes
// its content and then the namespace, as kube-apiserver's namespace
// controller does; approving a kubernetes.io/kube-apiserver-client CSR has
// Hooks.SignCSR sign it at once.
//
// Errors are metav1.Status bodies written by k8s.io/apiserver's
// responsewriters with kube-apiserver's reasons and messages. A panic in a
// handler costs that request a 500, never the server.
//
// The handler expects to run behind an authenticating filter chain: the
// request context carries request.RequestInfo and user.Info
// (k8s.io/apiserver/pkg/endpoints/request); without a RequestInfo it
// derives one itself. Authorization of the request itself is the chain's.
//
// resourceVersion follows kube-apiserver v1.37 with its watch cache: a
// get or list at "" reads the latest state, at "0" any (the store is
// always current; a list then ignores limit), at a number (or
// resourceVersionMatch=NotOlderThan) a state at least that new, waiting up
// to three seconds for it before a 504 Timeout "Too large resource
// version"; resourceVersionMatch=Exact, and a number with a limit, read
// the state at exactly that version (410 Expired once the resource's event
// history no longer reaches it). List and watch options are decoded and
// validated by k8s.io/apimachinery's metainternalversion (422 Invalid
// ListOptions), with the WatchList defaults on. Watches start from any
// version still in the resource's history (each resource keeps its own,
// as each has its own watch cache), or from one the store has not reached.
//
// Known differences from kube-apiserver: there is no etcd behind the event
// history, so an exact list or continue token older than it is a 410 where
// etcd might still answer within its compaction window; pods are stored,
// never run, and have no graceful deletion; there is no garbage collector
// (ownerReferences and propagationPolicy are kept but not acted on).
//
// Contract:
//
//	type Hooks struct {
//		Authorizer         authorizer.Authorizer // *SubjectAccessReview and escalation checks; RuleResolver by type assertion
//		TokenAuthenticator authenticator.Token   // TokenReview
//		IssueToken         func(ctx, *corev1.ServiceAccount, *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
//		SignCSR            func(ctx, *certificatesv1.CertificateSigningRequest) ([]byte, error)
//		Admission          admission.Interface   // optional: mutating, then validating
//	}
//	func New(store storage.Interface, hooks Hooks) (*API, error)
//	func (a *API) Handler() http.Handler
//	func (a *API) Registry() *registry.Registry
package api
