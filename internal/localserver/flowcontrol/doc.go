// Package flowcontrol is kauth serve's API Priority and Fairness filter:
// every request is classified with the FlowSchemas and
// PriorityLevelConfigurations stored in the server (internal/apf's
// classifier) and queued in its priority level's queues (internal/apf's
// queue model, driven on the wall clock), or rejected with 429 and
// Retry-After as kube-apiserver does. Responses carry
// X-Kubernetes-PF-FlowSchema-UID and X-Kubernetes-PF-PriorityLevel-UID.
// The /debug/api_priority_and_fairness/dump_priority_levels, dump_queues
// and dump_requests endpoints print kube-apiserver's tables, and
// /metrics the controller's limit gauges (apiserver_flowcontrol_*).
//
// Each request occupies the seats k8s.io/apiserver's work estimator gives
// it, fed with the object counts of the server's storage
// ([ObjectCounter]) and the watches in progress. Every 10 seconds, and
// after every configuration change, the current limits of the levels are
// re-allocated from their seat demand with internal/apf's allocation (the
// one `kauth apf simulate` runs): idle levels lend seats to busy ones
// within lendablePercent and borrowingLimitPercent.
package flowcontrol
