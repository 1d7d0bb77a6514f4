// Package admission is kauth serve's admission chain: kube-apiserver's
// plugin names, its order and its default enabled set for v1.37, the
// --enable-admission-plugins / --disable-admission-plugins semantics, and
// the plugins themselves as k8s.io/apiserver admission.Interface
// implementations. NamespaceLifecycle, ResourceQuota, the admission
// webhooks and the admission policies (ValidatingAdmissionPolicy,
// MutatingAdmissionPolicy) are k8s.io/apiserver's own plugins; LimitRanger and
// ResourceQuota measure with internal/quota's evaluators; ServiceAccount,
// AlwaysPullImages and PodSecurity follow kube-apiserver's plugins. The
// plugins read the server through a client-go clientset and shared
// informers, as kube-apiserver's do through its loopback client.
//
// Controllers that belong with the plugins live here too: the quota status
// controller (status.used of every ResourceQuota kept current) and the
// namespace-creator controller (the user recorded by the NamespaceCreator
// plugin on a new Namespace is bound to the admin ClusterRole in it) and
// the ValidatingAdmissionPolicy status controller (type checking).
package admission
