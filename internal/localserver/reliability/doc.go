// Package reliability holds kauth serve's reliability and security tests:
// sustained overload, a thousand concurrent watches, SIGKILL in the middle
// of writes to a --data-dir, slow clients, hostile input, secrets in logs
// and audit events, and the modes of the files the server writes. The
// tests drive the server through localserver's exported API, the kauth
// binary and real HTTP on loopback; docs/reliability.md lists what each
// proves and how to run the long versions (KAUTH_LONG=1).
package reliability
