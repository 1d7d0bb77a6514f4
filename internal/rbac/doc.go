// Package rbac decides Kubernetes authorization questions offline, exactly
// as kube-apiserver v1.37 does with --authorization-mode=RBAC, and fast.
//
// The pipeline is:
//
//	objs, _ := loader.Load(...)               // typed k8s.io/api objects with file:line
//	p, skipped, err := rbac.FromObjects(objs) // validate the four RBAC kinds
//	rbac.Aggregate(p)                         // clusterrole-aggregation controller
//	idx := rbac.NewIndex(p)                   // built once, read-only afterwards
//	idx.Authorize(ctx, attrs)                 // one decision
//	idx.RulesFor(ctx, user, ns)               // rule resolver (SelfSubjectRulesReview)
//	idx.WhoCan(attrs)                         // subject locator
//	idx.Explain(attrs)                        // why, or the nearest misses
//
// [Load] does the first three steps from --from sources, the bootstrap
// policy ([Layer] lets manifests replace default roles) and a live
// cluster. Around the index: [Resolve] turns a kubectl-style question
// ("get deploy web -n prod") into attributes with kubectl's resource
// resolution ([ResolveResource], [BuiltinResources]) and [Impersonate]
// builds the user as kube-apiserver's impersonation does;
// [Index.AccessList] is "kubectl auth can-i --list"; [BuildMatrix] asks a
// resources-by-verbs matrix; [Review] and [ReviewObjects] answer
// SubjectAccessReviews as the API does. Package rbactest generates
// corpora and holds a naive reference authorizer for tests.
//
// [Index] implements k8s.io/apiserver's authorizer.Authorizer and
// authorizer.RuleResolver, and gives the same decisions as
// k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac: ClusterRoleBindings
// are visited before the RoleBindings of the request's namespace; a binding
// applies through its first matching subject (User by name, Group by
// membership, ServiceAccount by "system:serviceaccount:NS:NAME", where a
// RoleBinding's ServiceAccount without namespace means the binding's
// namespace and a ClusterRoleBinding's never matches); a binding to a
// missing role contributes an error to the denial reason, not a rule. A
// rule matches on verb ("*" matches all), API group, resource ("*", the
// exact "resource/subresource", or "*/subresource"; "pods/*" matches only
// the literal subresource "*"), resourceNames (when set, a request without
// a name never matches, even for list or create) and, for non-resource
// requests, the path (exact, "*", or a prefix ending in "*").
//
// Unlike upstream, the index never scans every binding: bindings are
// indexed by user name, group name and service account, and rules are
// compiled once. The reason string names the first allowing binding in
// policy order (upstream uses its informer's order, which is arbitrary).
//
// kube-apiserver allows the group system:masters ahead of RBAC with a
// separate authorizer; [Privileged] is that piece, and [NewAuthorizer]
// composes it with an [Index] the way kube-apiserver's union does.
package rbac
