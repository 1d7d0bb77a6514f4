package cert

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type checkOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	Paths    []string
	Warn     time.Duration
	Critical time.Duration
	CRL      string
}

func newCheckCmd(f *cli.Factory, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "check PATH... [--warn 30d] [--critical 7d] [--crl FILE]",
		Short: "List certificates by expiry and fail when any expires soon: for cron and CI",
		Long: `Scan files and folders (recursively, skipping hidden folders; kubeconfigs
too) and list every certificate with its expiry, soonest first. Each is
ok, warning (inside --warn), critical (inside --critical), expired, or
revoked (with --crl). The command exits 1 when any certificate is not ok,
and 2 when the paths hold no certificate at all (a wrong path).`,
		Example: `  # Everything under pki/, warning 30 days ahead
  kauth cert check pki

  # A kubeconfig and a folder, with wider windows, as JSON
  kauth cert check alice.kubeconfig pki --warn 90d --critical 30d -o json`,
		Args: cli.WrapArgs(cobra.MinimumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format, opts.Paths = format, args
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(opts)
		},
	}
	cli.DurationVar(cmd.Flags(), &opts.Warn, "warn", certs.DefaultWarn, "warning window before expiry")
	cli.DurationVar(cmd.Flags(), &opts.Critical, "critical", certs.DefaultCritical, "critical window before expiry")
	cmd.Flags().StringVar(&opts.CRL, "crl", "", "CRL to report revoked certificates from, such as the CA folder's ca.crl")
	return cmd
}

func (o *checkOptions) validate() error {
	if o.Critical > o.Warn {
		return cli.UsageErrorf("--critical %s is longer than --warn %s: expected critical <= warn", cli.FormatDuration(o.Critical), cli.FormatDuration(o.Warn))
	}
	return nil
}

func runCheck(o *checkOptions) error {
	res, err := certs.Check(certs.CheckRequest{Paths: o.Paths, Warn: o.Warn, Critical: o.Critical, CRLFile: o.CRL, Now: o.Clock()})
	if err != nil {
		return coreError(err)
	}
	err = output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"STATUS", "NOT AFTER", "LEFT", "USER", "SOURCE"}}
		for _, e := range res.Certificates {
			info := certs.CertInfo{File: e.File, Index: e.Index, KubeconfigUser: e.KubeconfigUser}
			t.AddRowLevel(statusLevel(e.Status), e.Status, formatTime(e.NotAfter), formatLeft(e.TimeLeftSeconds), e.User, info.Source())
		}
		return t
	})
	if err != nil {
		return err
	}
	if res.Findings > 0 {
		return &cli.ResultError{Code: cli.ExitResult, Msg: fmt.Sprintf("%d of %d certificates expire within %s, have expired or are revoked",
			res.Findings, len(res.Certificates), cli.FormatDuration(o.Warn))}
	}
	return nil
}

func statusLevel(s string) output.Level {
	switch s {
	case certs.StatusOK:
		return output.Good
	case certs.StatusWarning:
		return output.Warn
	default:
		return output.Bad
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
