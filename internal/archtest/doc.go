// Package archtest holds no code, only a test: it enforces kauth's
// dependency direction (what depguard would), so the architecture is
// checked on every run instead of in review. Core packages never import
// cobra, pflag or lipgloss; nothing imports k8s.io/kubernetes, io/ioutil,
// log or github.com/pkg/errors; only cmd/kauth/main.go exits.
package archtest
