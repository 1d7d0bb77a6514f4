// Package abacupstream checks kauth's ABAC authorizer (internal/authzchain)
// against kube-apiserver's own pkg/auth/authorizer/abac: the same policy
// lines must load or fail alike and give the same decisions. It has its
// own go.mod because it imports k8s.io/kubernetes.
package abacupstream
