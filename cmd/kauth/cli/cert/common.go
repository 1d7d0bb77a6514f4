package cert

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

// warnCommaGroups warns about a --group value with a comma: it is one
// group (one Organization) to kube-apiserver, but "dev,ops" in a table
// reads like two. Several groups take several --group flags.
func warnCommaGroups(s *output.Streams, groups []string) {
	for _, g := range groups {
		if strings.Contains(g, ",") {
			output.Warning(s, "group %q contains a comma: it is one group (one Organization) named %q; repeat --group for several groups", g, g)
		}
	}
}

// coreError maps a core error to its exit code: bad input (a missing or
// invalid CA, a malformed file, an expiry the CA cannot cover, an
// existing output) exits 2 with a hint where one helps; failures to
// write exit 3.
func coreError(err error) error {
	if err == nil {
		return nil
	}
	var we *certs.WriteError
	if errors.As(err, &we) {
		return err
	}
	var exists *certs.ExistsError
	switch {
	case errors.As(err, &exists):
		return cli.WithHint(cli.InputError(err), "use --force to overwrite it")
	case errors.Is(err, certs.ErrNoCA):
		return cli.WithHint(cli.InputError(err), "create a CA with: kauth cert ca init --cn NAME --out-dir DIR")
	}
	return cli.InputError(err)
}

// keyFlags binds --key-algo and --key-size.
func keyFlags(cmd *cobra.Command, spec *certs.KeySpec) {
	cli.EnumVar(cmd, &spec.Algo, "key-algo", certs.AlgoECDSA, certs.KeyAlgos, "private key algorithm")
	cmd.Flags().IntVar(&spec.Size, "key-size", 0, "key size in bits: 256, 384 or 521 for ecdsa (default 256); 2048 to 8192 for rsa (default 2048)")
}

// signerFlags binds --ca-dir and --expiry, which the verbs that sign with
// a kauth CA (issue and sign) take with the same meaning and default.
func signerFlags(cmd *cobra.Command, caDir *string, expiry *time.Duration) {
	cmd.Flags().StringVar(caDir, "ca-dir", "", "folder holding ca.crt and ca.key (required)")
	cli.DurationVar(cmd.Flags(), expiry, "expiry", certs.DefaultExpiry, "lifetime (e.g. 90d, 1y); may not outlive the CA")
}

// formatLeft prints time left for people: whole days from two days up,
// else hours and minutes; "expired" once it is gone.
func formatLeft(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d <= 0:
		return "expired"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orNone(s []string) string {
	if len(s) == 0 {
		return "<none>"
	}
	return strings.Join(s, ",")
}

// printObject prints a Kubernetes object as kubectl would: apiVersion and
// kind set, without a null creationTimestamp or an empty status, so that
// it can be piped to kubectl apply -f -. The table format prints YAML.
func printObject(s *output.Streams, format output.Format, obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding object: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("encoding object: %w", err)
	}
	if meta, ok := m["metadata"].(map[string]any); ok && meta["creationTimestamp"] == nil {
		delete(meta, "creationTimestamp")
	}
	if st, ok := m["status"].(map[string]any); ok && len(st) == 0 {
		delete(m, "status")
	}
	return output.Print(s, format, m, nil)
}
