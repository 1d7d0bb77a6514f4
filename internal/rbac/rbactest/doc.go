// Package rbactest helps test and benchmark the rbac engine: a
// deterministic, seeded generator of RBAC policies and queries (the corpus
// that bench/rbac and the upstream comparison tool share), and
// [ReferenceAuthorize], a deliberately naive restatement of upstream's RBAC
// authorizer that the index is checked against.
package rbactest
