// Package authn builds kube-apiserver's external authenticators for kauth
// serve: JWT (OIDC) issuers from the --oidc-* flags or a structured
// AuthenticationConfiguration file, the token webhook with kube-apiserver's
// cache, a circuit breaker in front of any webhook backend, and a client
// certificate revocation check against a CRL file.
//
// Everything here is built on k8s.io/apiserver's own authenticators; this
// package only assembles them the way kube-apiserver's options do.
package authn
