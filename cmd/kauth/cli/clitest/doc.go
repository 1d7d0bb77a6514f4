// Package clitest holds what the command tests of the kauth command
// groups (cmd/kauth/cli/<group>) share: running a command the way the
// root runs it, so that argv-to-options tests see the same usage errors,
// and writing input files into a test's temporary folder. It is imported
// by _test.go files only.
package clitest
