package cert

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type caInitOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	CN     string
	OutDir string
	Key    certs.KeySpec
	Expiry time.Duration
	Force  bool
}

func newCAInitCmd(f *cli.Factory, runF func(*caInitOptions) error) *cobra.Command {
	opts := &caInitOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "init --cn NAME --out-dir DIR [--key-algo ecdsa|rsa] [--key-size N] [--expiry DURATION]",
		Short: "Create a CA: ca.crt and ca.key (0600) in a folder",
		Long: `Create a self-signed certificate authority through cfssl's CA policy
(CA:TRUE, cert sign, CRL sign). The default key is ECDSA P-256 and the
default lifetime ten years. Give ca.crt to kube-apiserver as
--client-ca-file to make it accept the client certificates kauth issues.`,
		Example: `  # Create a CA in pki/
  kauth cert ca init --cn my-ca --out-dir pki

  # An RSA CA that lives five years
  kauth cert ca init --cn rsa-ca --out-dir rsa-pki --key-algo rsa --expiry 5y`,
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
			return runCAInit(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.CN, "cn", "", "common name of the CA (required)")
	fl.StringVar(&opts.OutDir, "out-dir", "", "folder to write ca.crt and ca.key to (required; created if missing)")
	keyFlags(cmd, &opts.Key)
	cli.DurationVar(fl, &opts.Expiry, "expiry", certs.DefaultCAExpiry, "lifetime of the CA (e.g. 10y, 365d)")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *caInitOptions) validate() error {
	if strings.TrimSpace(o.CN) == "" {
		return cli.UsageErrorf("--cn is required: the CA's common name, such as my-ca")
	}
	if o.OutDir == "" {
		return cli.UsageErrorf("--out-dir is required: the folder for ca.crt and ca.key")
	}
	if o.Expiry <= 0 {
		return cli.UsageErrorf("--expiry %s: must be positive", cli.FormatDuration(o.Expiry))
	}
	return nil
}

func runCAInit(o *caInitOptions) error {
	now := o.Clock()
	res, err := certs.InitCA(certs.InitCARequest{CommonName: o.CN, Key: o.Key, Expiry: o.Expiry, Now: now}, o.OutDir, o.Force)
	if err != nil {
		return coreError(err)
	}
	c := res.Certificate
	output.Success(o.IO, "wrote %s (expires %s, in %s)", strings.Join(res.Files, " and "), c.NotAfter.Format(time.DateOnly), formatLeft(c.TimeLeftSeconds))
	return output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"CA", "KEY", "NOT AFTER", "FILES"}}
		t.AddRow(c.Subject, fmt.Sprintf("%s %d", c.KeyAlgorithm, c.KeySize), formatTime(c.NotAfter), strings.Join(res.Files, ","))
		return t
	})
}
