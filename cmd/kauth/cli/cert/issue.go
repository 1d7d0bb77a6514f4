package cert

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type issueOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	CADir       string
	User        string
	Groups      []string
	Usage       string
	Hosts       []string
	Expiry      time.Duration
	Key         certs.KeySpec
	OutDir      string
	Name        string
	Kubeconfig  string
	Server      string
	ClusterName string
	Force       bool
}

func newIssueCmd(f *cli.Factory, runF func(*issueOptions) error) *cobra.Command {
	opts := &issueOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "issue --ca-dir DIR --user NAME [--group G]... [--usage client|server|client,server] [--host H]... [--expiry DURATION] [--out-dir DIR] [--name BASENAME] [--kubeconfig FILE --server URL]",
		Short: "Issue a client or server certificate signed by a kauth CA",
		Long: `Issue a certificate and its key (NAME.crt and NAME.key, 0600), signed by
the CA in --ca-dir through cfssl's signer with one profile per usage.

For client certificates the subject CommonName is the user and each group
one Organization, exactly as kube-apiserver's x509 authenticator reads
them. Server certificates carry the hosts as DNS or IP SANs. The expiry
never outlives the CA: kauth refuses and names the longest it can issue.

With --kubeconfig FILE --server URL it also writes a kubeconfig (0600)
that embeds the certificate, the key and the CA, with cluster, user and
context "USER@CLUSTER" set as current.`,
		Example: `  # A client certificate for alice in groups dev and ops
  kauth cert issue --ca-dir pki --user alice --group dev --group ops --out-dir pki

  # A kubeconfig for alice as well
  kauth cert issue --ca-dir pki --user alice --name alice-kc --kubeconfig alice.kubeconfig --server https://127.0.0.1:6443

  # A serving certificate with DNS and IP SANs, valid 90 days
  kauth cert issue --ca-dir pki --user kube-apiserver --usage server --host kubernetes.default --host 10.96.0.1 --expiry 90d`,
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
			return runIssue(opts)
		},
	}
	fl := cmd.Flags()
	signerFlags(cmd, &opts.CADir, &opts.Expiry)
	fl.StringVar(&opts.User, "user", "", "user name: the subject CommonName (required)")
	fl.StringArrayVar(&opts.Groups, "group", nil, "group: one subject Organization each (repeatable)")
	cli.EnumVar(cmd, &opts.Usage, "usage", certs.UsageClient, certs.Usages, "what the certificate is for")
	fl.StringArrayVar(&opts.Hosts, "host", nil, "DNS name or IP address of a server certificate (repeatable)")
	keyFlags(cmd, &opts.Key)
	fl.StringVar(&opts.OutDir, "out-dir", ".", "folder to write NAME.crt and NAME.key to")
	fl.StringVar(&opts.Name, "name", "", "base name of the files (default: the user name)")
	fl.StringVar(&opts.Kubeconfig, "kubeconfig", "", "also write a kubeconfig embedding the certificate, key and CA to FILE (needs --server)")
	fl.StringVar(&opts.Server, "server", "", "API server URL for --kubeconfig, such as https://127.0.0.1:6443")
	fl.StringVar(&opts.ClusterName, "cluster-name", "", "cluster name in the kubeconfig (default: the server's host name)")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *issueOptions) validate() error {
	switch {
	case o.CADir == "":
		return cli.UsageErrorf("--ca-dir is required: the folder holding ca.crt and ca.key")
	case o.User == "":
		return cli.UsageErrorf("--user is required: the user name, such as alice")
	case o.Kubeconfig != "" && o.Server == "":
		return cli.UsageErrorf("--kubeconfig needs --server: the API server URL, such as https://127.0.0.1:6443")
	case o.Server != "" && o.Kubeconfig == "":
		return cli.UsageErrorf("--server is only used with --kubeconfig FILE")
	case o.Expiry <= 0:
		return cli.UsageErrorf("--expiry %s: must be positive", cli.FormatDuration(o.Expiry))
	}
	return nil
}

func runIssue(o *issueOptions) error {
	warnCommaGroups(o.IO, o.Groups)
	req := certs.IssueFilesRequest{
		IssueRequest: certs.IssueRequest{
			User: o.User, Groups: o.Groups, Usage: o.Usage, Hosts: o.Hosts,
			Expiry: o.Expiry, Key: o.Key, Now: o.Clock(),
		},
		CADir: o.CADir, OutDir: o.OutDir, Name: o.Name, Force: o.Force,
	}
	if o.Kubeconfig != "" {
		req.Kubeconfig = &certs.KubeconfigRequest{Path: o.Kubeconfig, Server: o.Server, Cluster: o.ClusterName}
	}
	res, err := certs.IssueFiles(req)
	if err != nil {
		return coreError(err)
	}
	c := res.Certificate
	output.Success(o.IO, "wrote %s (expires %s, in %s)", strings.Join(res.Files, ", "), c.NotAfter.Format(time.DateOnly), formatLeft(c.TimeLeftSeconds))
	return output.Print(o.IO, o.Format, res, func() *output.TableView {
		t := &output.TableView{Headers: []string{"USER", "GROUPS", "USAGES", "NOT AFTER", "FILES"}}
		t.AddRow(c.User, orNone(c.Groups), orNone(c.ExtKeyUsages), formatTime(c.NotAfter), strings.Join(res.Files, ","))
		return t
	})
}
