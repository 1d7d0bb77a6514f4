package cert

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type revokeOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	CADir     string
	Target    string
	Reason    string
	CRLExpiry time.Duration
}

func newRevokeCmd(f *cli.Factory, runF func(*revokeOptions) error) *cobra.Command {
	opts := &revokeOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "revoke --ca-dir DIR (SERIAL|FILE) [--reason R]",
		Short: "Revoke a certificate and rewrite the CA's CRL",
		Long: `Record a revocation in revoked.json in the CA folder and rewrite the CA's
CRL, ca.crl, through cfssl. The certificate is named by its file (which
must have been issued by this CA) or by its serial number in hex, as
"kauth cert inspect" and "openssl x509 -serial" print it.

Kubernetes itself has never enforced revocation of client certificates;
"kauth cert inspect --crl" and "kauth cert check --crl" report it.`,
		Example: `  # Revoke alice's certificate because its key leaked
  kauth cert revoke --ca-dir pki pki/alice.crt --reason keyCompromise

  # Revoke by serial number
  kauth cert revoke --ca-dir pki 5A3F09`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format, opts.Target = format, args[0]
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRevoke(opts)
		},
	}
	cmd.Flags().StringVar(&opts.CADir, "ca-dir", "", "folder holding ca.crt and ca.key (required); ca.crl and revoked.json are written there")
	cli.EnumVar(cmd, &opts.Reason, "reason", "unspecified", certs.RevocationReasons(), "RFC 5280 revocation reason")
	cli.DurationVar(cmd.Flags(), &opts.CRLExpiry, "crl-expiry", certs.DefaultCRLExpiry, "how long the CRL stays current (its nextUpdate)")
	return cmd
}

func (o *revokeOptions) validate() error {
	if o.CADir == "" {
		return cli.UsageErrorf("--ca-dir is required: the folder holding ca.crt and ca.key")
	}
	if o.CRLExpiry <= 0 {
		return cli.UsageErrorf("--crl-expiry %s: must be positive", cli.FormatDuration(o.CRLExpiry))
	}
	return nil
}

func runRevoke(o *revokeOptions) error {
	req := certs.RevokeRequest{CADir: o.CADir, Reason: o.Reason, CRLExpiry: o.CRLExpiry, Now: o.Clock()}
	if _, err := os.Stat(o.Target); err == nil {
		req.CertFile = o.Target
	} else {
		req.Serial = o.Target
	}
	res, err := certs.Revoke(req)
	if err != nil {
		return coreError(err)
	}
	r := res.Revoked
	output.Success(o.IO, "revoked %s; %s lists %d certificates", r.Serial, res.Files[0], res.Total)
	return output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"SERIAL", "SUBJECT", "REASON", "REVOKED AT", "CRL ENTRIES"}}
		subject := r.Subject
		if subject == "" {
			subject = "<unknown>"
		}
		t.AddRow(r.Serial, subject, r.Reason, formatTime(r.RevokedAt), itoa(res.Total))
		return t
	})
}
