// Package quota models multi-tenant resource governance the way
// kube-apiserver enforces it: a tenants file turned into Namespaces,
// ResourceQuotas, LimitRanges and RoleBindings, and the admission-time
// evaluation of pods and other objects against those ResourceQuotas and
// LimitRanges (LimitRanger defaults and checks first, then the
// ResourceQuota evaluators' usage and kube-apiserver's rejection messages).
//
// The evaluation is made of pure functions over k8s.io/api objects and
// implements k8s.io/apiserver's quota.Evaluator interface, so the local
// server's ResourceQuota and LimitRanger admission can reuse it unchanged.
package quota
