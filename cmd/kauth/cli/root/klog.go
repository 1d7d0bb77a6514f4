package root

import (
	"flag"
	"log/slog"
	"strconv"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// maxKlogVerbosity caps what -v asks of the k8s.io libraries: from 8,
// client-go logs request and response bodies (a TokenRequest's token, a
// Secret's data), and kauth never logs a secret. Up to 7, what they log
// is URLs, status codes, latencies and headers with Authorization masked.
const maxKlogVerbosity = 7

// configureKlog makes -v the verbosity of the k8s.io libraries, as
// kube-apiserver's and kubectl's -v are (capped at maxKlogVerbosity):
// their klog messages go to stderr in the same text format as kauth's own
// -v logs, V(n) messages shown from -v n. Without -v klog is left alone
// (commands that need quiet set it themselves).
func configureKlog(f *cli.Factory) {
	if f.Verbosity <= 0 {
		return
	}
	v := min(f.Verbosity, maxKlogVerbosity)
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("v", strconv.Itoa(v))
	klog.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: slog.Level(-v), ReplaceAttr: klogLevel})))
}

// klogLevel names klog's V(n) messages level=Vn instead of slog's
// DEBUG+k.
func klogLevel(groups []string, a slog.Attr) slog.Attr {
	if l, ok := a.Value.Any().(slog.Level); ok && len(groups) == 0 && a.Key == slog.LevelKey && l < slog.LevelInfo {
		return slog.String(slog.LevelKey, "V"+strconv.Itoa(int(-l)))
	}
	return a
}
