// Package bootstrappolicy holds the default RBAC objects that every
// Kubernetes 1.37 kube-apiserver creates at start-up: cluster-admin, the
// aggregated admin/edit/view roles and their system:aggregate-to-* parts, the
// system:* roles and bindings, the controller roles and the kube-system and
// kube-public namespace roles.
//
// The data is policy.yaml, generated from k8s.io/kubernetes by
// tools/bootstrap-policy (which has its own go.mod because k8s.io/kubernetes
// is not a library) and checked by tools/bootstrap-policy/verify.sh. It is
// embedded and decoded once; Objects returns fresh copies on every call.
package bootstrappolicy
