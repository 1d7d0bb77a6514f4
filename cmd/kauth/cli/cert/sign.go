package cert

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type signOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	CADir  string
	CSR    string
	Usage  string
	Expiry time.Duration
	Out    string
	Force  bool
}

func newSignCmd(f *cli.Factory, runF func(*signOptions) error) *cobra.Command {
	opts := &signOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "sign --ca-dir DIR --csr FILE [--expiry DURATION] [--usage client|server|client,server] [--out FILE]",
		Short: "Sign a PEM CSR or a CertificateSigningRequest with a kauth CA",
		Long: `Sign a certificate request with the CA in --ca-dir through cfssl's signer.

A PEM CSR becomes a certificate file (the CSR's name with .crt, or --out);
its subject is kept as the request has it, and --usage picks the profile.

A certificates.k8s.io/v1 CertificateSigningRequest (YAML or JSON) is
printed back with status.certificate filled in; its spec.usages pick the
profile, and the certificate lives for the shorter of
spec.expirationSeconds and --expiry, as kube-controller-manager's signer
does. --csr - reads stdin.`,
		Example: `  # Sign a PEM CSR: writes csrs/bob.crt
  kauth cert sign --ca-dir pki --csr csrs/bob.csr

  # Sign a CertificateSigningRequest object and print it with its certificate
  kauth cert sign --ca-dir pki --csr carol-csr.yaml --expiry 30d`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format = format
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSign(opts)
		},
	}
	fl := cmd.Flags()
	signerFlags(cmd, &opts.CADir, &opts.Expiry)
	fl.StringVar(&opts.CSR, "csr", "", "PEM CSR or CertificateSigningRequest file, - for stdin (required)")
	cli.EnumVar(cmd, &opts.Usage, "usage", certs.UsageClient, certs.Usages, "profile for a PEM CSR")
	fl.StringVar(&opts.Out, "out", "", "certificate file for a PEM CSR (default: the CSR's name with .crt)")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *signOptions) validate() error {
	switch {
	case o.CADir == "":
		return cli.UsageErrorf("--ca-dir is required: the folder holding ca.crt and ca.key")
	case o.CSR == "":
		return cli.UsageErrorf("--csr is required: a PEM CSR or a CertificateSigningRequest file")
	case o.Expiry <= 0:
		return cli.UsageErrorf("--expiry %s: must be positive", cli.FormatDuration(o.Expiry))
	}
	return nil
}

func (o *signOptions) readInput() ([]byte, string, error) {
	if o.CSR == "-" {
		b, err := io.ReadAll(o.IO.In)
		return b, certs.StdinName, err
	}
	b, err := os.ReadFile(o.CSR)
	return b, o.CSR, cli.InputError(err)
}

func runSign(o *signOptions) error {
	data, name, err := o.readInput()
	if err != nil {
		return err
	}
	res, err := certs.Sign(certs.SignRequest{
		CADir: o.CADir, Input: data, InputName: name, Usage: o.Usage,
		Expiry: o.Expiry, Out: o.Out, Force: o.Force, Now: o.Clock(),
	})
	if err != nil {
		return coreError(err)
	}
	for _, w := range res.Warnings {
		output.Warning(o.IO, "%s: %s", res.Certificate.File, w)
	}
	if res.Object != nil {
		return printObject(o.IO, o.Format, res.Object)
	}
	c := res.Certificate
	output.Success(o.IO, "wrote %s (expires %s, in %s)", strings.Join(res.Files, ", "), c.NotAfter.Format(time.DateOnly), formatLeft(c.TimeLeftSeconds))
	return output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"USER", "GROUPS", "USAGES", "NOT AFTER", "FILES"}}
		t.AddRow(c.User, orNone(c.Groups), orNone(c.ExtKeyUsages), formatTime(c.NotAfter), strings.Join(res.Files, ","))
		return t
	})
}
