package cert

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type csrOptions struct {
	IO     *output.Streams
	Format output.Format

	User              string
	Groups            []string
	Key               certs.KeySpec
	OutDir            string
	Name              string
	K8s               bool
	SignerName        string
	ExpirationSeconds int32
	Force             bool
}

func newCSRCmd(f *cli.Factory, runF func(*csrOptions) error) *cobra.Command {
	opts := &csrOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "csr --user NAME [--group G]... [--out-dir DIR] [--k8s] [--signer-name NAME] [--expiration-seconds N]",
		Short: "Create a key and a certificate signing request for a user",
		Long: `Create a private key (NAME.key, 0600) and a PEM certificate signing
request (NAME.csr) whose subject is the user (CommonName) and groups (one
Organization each).

With --k8s it prints a certificates.k8s.io/v1 CertificateSigningRequest
on stdout, ready for kubectl apply: signer kubernetes.io/kube-apiserver-client
unless --signer-name says otherwise, usage client auth, and
spec.expirationSeconds when --expiration-seconds is given (at least 600).
For kubernetes.io/kube-apiserver-client-kubelet the request must be a
node's (--user system:node:NAME --group system:nodes) and gets the usages
that signer requires; kubernetes.io/kubelet-serving and the legacy signer
are refused.`,
		Example: `  # A key and CSR for bob in group ops
  kauth cert csr --user bob --group ops --out-dir csrs

  # A CertificateSigningRequest for the cluster, valid one day once signed
  kauth cert csr --user carol --k8s --expiration-seconds 86400 --out-dir csrs`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format = format
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCSR(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.User, "user", "", "user name: the subject CommonName (required)")
	fl.StringArrayVar(&opts.Groups, "group", nil, "group: one subject Organization each (repeatable)")
	keyFlags(cmd, &opts.Key)
	fl.StringVar(&opts.OutDir, "out-dir", ".", "folder to write NAME.key and NAME.csr to")
	fl.StringVar(&opts.Name, "name", "", "base name of the files and the object (default: the user name)")
	fl.BoolVar(&opts.K8s, "k8s", false, "print a certificates.k8s.io/v1 CertificateSigningRequest on stdout")
	fl.StringVar(&opts.SignerName, "signer-name", certs.DefaultSignerName, "spec.signerName of the CertificateSigningRequest")
	fl.Int32Var(&opts.ExpirationSeconds, "expiration-seconds", 0, "spec.expirationSeconds of the CertificateSigningRequest (at least 600)")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *csrOptions) validate(cmd *cobra.Command) error {
	if o.User == "" {
		return cli.UsageErrorf("--user is required: the user name, such as alice")
	}
	if !o.K8s && (cmd.Flags().Changed("signer-name") || cmd.Flags().Changed("expiration-seconds")) {
		return cli.UsageErrorf("--signer-name and --expiration-seconds need --k8s")
	}
	if cmd.Flags().Changed("expiration-seconds") && o.ExpirationSeconds < 600 {
		return cli.UsageErrorf("--expiration-seconds %d: must be at least 600 (kube-apiserver's minimum)", o.ExpirationSeconds)
	}
	return nil
}

func runCSR(o *csrOptions) error {
	warnCommaGroups(o.IO, o.Groups)
	req := certs.CSRRequest{
		User: o.User, Groups: o.Groups, Key: o.Key, OutDir: o.OutDir, Name: o.Name,
		K8s: o.K8s, SignerName: o.SignerName, Force: o.Force,
	}
	if o.ExpirationSeconds != 0 {
		req.ExpirationSeconds = &o.ExpirationSeconds
	}
	res, err := certs.WriteCSR(req)
	if err != nil {
		return coreError(err)
	}
	output.Success(o.IO, "wrote %s", strings.Join(res.Files, " and "))
	if res.Object != nil {
		return printObject(o.IO, o.Format, res.Object)
	}
	return output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"USER", "GROUPS", "FILES"}}
		t.AddRow(res.User, orNone(res.Groups), strings.Join(res.Files, ","))
		return t
	})
}
