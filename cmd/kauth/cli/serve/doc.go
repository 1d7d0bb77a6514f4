// Package serve implements "kauth serve": it turns flags (kube-apiserver's
// names and meanings) into a localserver.Config, runs the server until
// SIGINT or SIGTERM, and tells the user how to reach it. The server itself
// lives in internal/localserver.
package serve
