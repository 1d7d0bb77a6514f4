// Package authwebhook is kauth as a webhook for real clusters: an HTTPS
// handler answering kube-apiserver's TokenReview (POST /authenticate) with
// a static token file and SubjectAccessReview (POST /authorize) with
// kauth's RBAC engine, in exactly the JSON kube-apiserver's webhook
// clients send and expect, with a per-client rate limit and its own
// cache; and the kubeconfig-format files that point kube-apiserver at it.
package authwebhook
