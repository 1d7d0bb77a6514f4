// Package cli holds what every kauth command shares: the [Factory] that
// hands a command its dependencies (streams, clock, cluster clients), the
// global flags, the shared flag types, and the typed errors that
// [github.com/kauth/kauth/cmd/kauth/cli/root.Main] maps to exit codes.
// Command groups live in sub-packages, one file per verb.
package cli
