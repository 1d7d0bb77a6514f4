// Package localserver assembles kauth's in-process Kubernetes API server:
// its configuration (kube-apiserver's flag names and meanings for what it
// supports), the PKI it makes for itself, the handler chain in
// kube-apiserver's order, the authenticators (x509, static token file,
// bootstrap tokens, service-account JWTs, anonymous), the authorizer union
// (system:masters, then RBAC, AlwaysAllow and AlwaysDeny in the order
// given), audit, seeding and the small controllers that run on the store's
// watch (default service accounts, the RBAC index).
//
// It mirrors kube-apiserver v1.37: the filters are k8s.io/apiserver's own,
// assembled in chain.go in the order of DefaultBuildHandlerChain; service
// account tokens carry the claims of kube-apiserver's bound tokens and are
// checked against a live ServiceAccount (name and uid); bootstrap tokens are
// read from Secrets in kube-system with the checks of kube-apiserver's
// bootstrap-token authenticator. The REST layer and the store live in the
// sub-packages api, registry and storage.
package localserver
