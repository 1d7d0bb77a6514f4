// Package servebench holds the benchmarks of kauth serve: time from New to
// ready, and authenticated (static token) and authorized (RBAC) GET and
// LIST requests per second over TLS and HTTP/2, against a baseline of the
// same requests with AlwaysAllow instead of RBAC.
//
// Go benchmarks (client and server in one process):
//
//	go test ./bench/serve -run '^$' -bench . -benchtime 3s
//
// The end-to-end run (a real kauth process; resident memory idle and after
// load, requests per second from a separate load generator) is run.sh.
// rssmap explains a running process's resident memory (anonymous and file
// pages, mappings, resident sections of the executable, code by module):
//
//	go run ./bench/serve/rssmap -pid PID -by module
package servebench
