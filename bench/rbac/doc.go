// Package rbacbench holds the Go benchmarks of the RBAC engine on a
// generated corpus (internal/rbac/rbactest): decisions per second of the
// index against the naive scanning reference, who-can latency, and the
// time to load, validate, aggregate and index 10,000 bindings from YAML.
//
// Run them with:
//
//	go test ./bench/rbac -run '^$' -bench . -benchtime 2s
//
// The side-by-side comparison with the real upstream authorizer lives in
// its own tool (it needs k8s.io/kubernetes, which stays out of go.mod).
package rbacbench
