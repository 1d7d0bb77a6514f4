// Package registry holds one small registration per kind that kauth serve
// serves, in the shape of kube-apiserver's registry: group, version, kind,
// resource and scope, and a strategy with defaulting, validation, what
// create and update may change, status and other subresources, and the
// columns of its server-side table.
//
// Validation and defaulting follow kube-apiserver v1.37 for the fields kauth
// serve acts on (object metadata names, RBAC rules and references, CSR
// signer names and conditions, APF references, pod containers); they are a
// reimplementation, not the upstream code, and say so where they are
// narrower.
package registry
