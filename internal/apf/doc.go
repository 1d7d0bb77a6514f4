// Package apf models kube-apiserver v1.37's API Priority and Fairness:
// the configuration (the built-in FlowSchemas and
// PriorityLevelConfigurations of k8s.io/apiserver's bootstrap package, or
// user objects validated with the API's rules), the concurrency limits the
// APF controller derives from the server's total (nominal, lendable,
// borrowing), request classification, and a queue model that follows
// k8s.io/apiserver's fairqueuing/queueset: hands dealt by the
// shufflesharding package, fair queuing by virtual finish time in
// seat-seconds, queue length limits and the controller's periodic
// borrowing adjustment. An event-driven simulator replays a workload file
// through the model in simulated time and reports per client and per
// priority level.
package apf
