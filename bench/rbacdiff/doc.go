// Package rbacdiffbench holds the Go benchmarks of "kauth rbac diff" on
// two generated policies of 10,000 bindings each (internal/rbac/rbactest):
// a pull-request-sized change (1% of the objects), a large one (10%),
// two unrelated policies, and the whole command path from YAML files.
//
// Run them with:
//
//	go test ./bench/rbacdiff -run '^$' -bench . -benchtime 3x
package rbacdiffbench
