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

type inspectOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	Files []string
	CA    string
	CRL   string
}

func newInspectCmd(f *cli.Factory, runF func(*inspectOptions) error) *cobra.Command {
	opts := &inspectOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "inspect FILE... [--ca FILE] [--crl FILE]",
		Short: "Show who a certificate authenticates as, and whether it verifies",
		Long: `Describe every certificate in the files: a certificate, a chain, or a
kubeconfig (its users' embedded or file-referenced client certificates).

For each: the user and groups kube-apiserver would authenticate it as
(CommonName and Organizations), serial, issuer, validity and time left,
key algorithm and size, key usages and extended key usages, and SANs.

With --ca it checks the certificate as kube-apiserver checks a client
certificate (chain to the CA, validity now, client auth usage) and gives
the reason when it fails: expired, not yet valid, wrong usage, unknown
authority. With --crl it reports revocation. It exits 1 when a
certificate does not verify or is revoked.

-o json prints a list with stable field names: user, groups, serial,
notBefore, notAfter, timeLeftSeconds, verified, reason, revoked, ...`,
		Example: `  # Who is alice to kube-apiserver?
  kauth cert inspect pki/alice.crt

  # Verify against the CA and check the CRL, as JSON
  kauth cert inspect pki/alice.crt --ca pki/ca.crt --crl pki/ca.crl -o json

  # The client certificates of a kubeconfig
  kauth cert inspect alice.kubeconfig --ca pki/ca.crt`,
		Args: cli.WrapArgs(cobra.MinimumNArgs(1)),
		RunE: func(_ *cobra.Command, args []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format, opts.Files = format, args
			if runF != nil {
				return runF(opts)
			}
			return runInspect(opts)
		},
	}
	cmd.Flags().StringVar(&opts.CA, "ca", "", "CA certificate(s) to verify against, as kube-apiserver's --client-ca-file")
	cmd.Flags().StringVar(&opts.CRL, "crl", "", "CRL (PEM or DER) to check revocation against, such as the CA folder's ca.crl")
	return cmd
}

func runInspect(o *inspectOptions) error {
	infos, err := certs.Inspect(certs.InspectRequest{Paths: o.Files, CAFile: o.CA, CRLFile: o.CRL, Now: o.Clock()})
	if err != nil {
		return coreError(err)
	}
	if err := printInspect(o.IO, o.Format, infos); err != nil {
		return err
	}
	bad := 0
	for _, i := range infos {
		if (i.Verified != nil && !*i.Verified) || (i.Revoked != nil && *i.Revoked) {
			bad++
		}
	}
	if bad > 0 {
		return &cli.ResultError{Code: cli.ExitResult, Msg: fmt.Sprintf("%d of %d certificates do not verify or are revoked", bad, len(infos))}
	}
	return nil
}

// printInspect prints one FIELD/VALUE table per certificate, separated
// by a blank line; JSON and YAML print the list.
func printInspect(s *output.Streams, format output.Format, infos []certs.CertInfo) error {
	if format != output.Table {
		return output.Print(s, format, infos, nil)
	}
	for i, info := range infos {
		if i > 0 {
			if _, err := fmt.Fprintln(s.Out); err != nil {
				return err
			}
		}
		if err := output.RenderTable(s, inspectTable(info)); err != nil {
			return err
		}
	}
	return nil
}

func inspectTable(c certs.CertInfo) *output.TableView {
	t := &output.TableView{Headers: []string{"FIELD", "VALUE"}}
	user := c.User
	if user == "" {
		user = "<none: no common name, kube-apiserver ignores it>"
	}
	t.AddRow("source", c.Source())
	t.AddRow("user", user)
	t.AddRow("groups", orNone(c.Groups))
	t.AddRow("subject", c.Subject)
	t.AddRow("issuer", c.Issuer)
	t.AddRow("serial", c.Serial)
	t.AddRow("ca", strconv.FormatBool(c.IsCA))
	t.AddRow("not before", formatTime(c.NotBefore))
	t.AddRow("not after", formatTime(c.NotAfter))
	left := output.Plain
	if c.TimeLeftSeconds <= 0 {
		left = output.Bad
	}
	t.AddRowLevel(left, "time left", formatLeft(c.TimeLeftSeconds))
	t.AddRow("key", fmt.Sprintf("%s %d", c.KeyAlgorithm, c.KeySize))
	t.AddRow("key usages", orNone(c.KeyUsages))
	t.AddRow("ext key usages", orNone(c.ExtKeyUsages))
	t.AddRow("sans", orNone(sans(c)))
	if c.Verified != nil {
		if *c.Verified {
			t.AddRowLevel(output.Good, "verified", "yes")
		} else {
			t.AddRowLevel(output.Bad, "verified", "no: "+c.Reason)
		}
	}
	if c.Revoked != nil {
		if *c.Revoked {
			t.AddRowLevel(output.Bad, "revoked", fmt.Sprintf("yes: %s on %s", c.RevocationReason, formatTime(*c.RevokedAt)))
		} else {
			t.AddRow("revoked", "no")
		}
	}
	return t
}

func sans(c certs.CertInfo) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		out = append(out, "IP:"+ip)
	}
	for _, e := range c.EmailAddresses {
		out = append(out, "email:"+e)
	}
	for _, u := range c.URIs {
		out = append(out, "URI:"+u)
	}
	return out
}
