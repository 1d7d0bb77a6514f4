// Package authzchain builds kube-apiserver's authorizers beyond RBAC for
// kauth serve: ABAC from a policy file (its semantics reimplemented from
// kube-apiserver's pkg/auth/authorizer/abac), the SubjectAccessReview
// webhook with its caches, and the ordered chain of a structured
// AuthorizationConfiguration (RBAC, AlwaysAllow, AlwaysDeny, Webhook with
// CEL match conditions and failure policies).
package authzchain
