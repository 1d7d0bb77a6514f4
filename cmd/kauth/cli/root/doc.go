// Package root assembles the kauth command tree and runs it: [Main] parses
// the arguments, runs one command, prints its error with hints, and returns
// the exit code. Only cmd/kauth/main.go exits.
package root
