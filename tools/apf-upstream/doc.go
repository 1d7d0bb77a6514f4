// Package apfupstream is a differential test of kauth's APF simulation
// (internal/apf) against k8s.io/apiserver's own APF controller and
// queueset, borrowing between priority levels included.
//
// The controller's borrowing adjustment (updateBorrowing) is unexported
// and runs every 10 s of wall-clock time from Run, so verify.sh builds a
// temporary copy of the k8s.io/apiserver module with two small exported
// hooks added (hook/*.go.txt) and runs the tests tagged kauth_apf_hook
// against it. Without that tag only the workload half (arrival times and
// request digests, which need no hook) is built and tested.
package apfupstream
