// Package rbaclint finds risky and broken RBAC in Kubernetes manifests.
//
// Every check has a stable ID (see [Rules]), a severity, a one-line
// message, the file and line of the object to change, a hint, and the
// subjects and bindings that hold the risky permission. Checks are clients
// of the RBAC engine in internal/rbac: what a rule allows is decided by an
// [rbac.Index] built with one synthetic binding per rule (so a rule's risk
// is the engine's answer to a probe request, never a second matcher), and
// who holds a rule, through which binding and where, comes from
// [rbac.Index.Rules] on the policy itself. Findings are scope-aware: a
// Role bound in one namespace is judged less severe than the same rules
// bound cluster-wide, except in privileged namespaces such as kube-system.
// ServiceAccounts and workloads in the inputs are read too: what a
// workload's mounted token holds, tokens mounted for nothing, cloud
// IAM-linked accounts and the dashboard's account.
//
// Suppressions come from a .kauth.yaml file ([ReadConfig]) and from the
// kauth.io/lint-ignore annotation; each carries a reason and may expire.
package rbaclint
