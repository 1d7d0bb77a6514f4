// Package flowcontrol is kauth serve's API Priority and Fairness filter:
// every request is classified with the FlowSchemas and
// PriorityLevelConfigurations stored in the server (internal/apf's
// classifier) and queued in its priority level's queues (internal/apf's
// queue model, driven on the wall clock), or rejected with 429 and
// Retry-After as kube-apiserver does. Responses carry
// X-Kubernetes-PF-FlowSchema-UID and X-Kubernetes-PF-PriorityLevel-UID.
// The /debug/api_priority_and_fairness/dump_priority_levels, dump_queues
// and dump_requests endpoints print kube-apiserver's tables.
//
// Every request occupies one seat (kube-apiserver's work estimator gives
// large lists more), and each level's limit is its nominal concurrency
// limit: the periodic borrowing between levels is not run on the wall
// clock, so a level neither lends nor borrows seats.
package flowcontrol
