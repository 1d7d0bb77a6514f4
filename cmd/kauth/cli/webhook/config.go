package webhook

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/authwebhook"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

type configOptions struct {
	IO     *output.Streams
	Format output.Format

	URL        string
	CAFile     string
	ClientCert string
	ClientKey  string
	OutDir     string
	Force      bool
}

func newConfigCmd(f *cli.Factory, runF func(*configOptions) error) *cobra.Command {
	opts := &configOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "config --url URL --ca-file FILE [--client-cert FILE --client-key FILE] [--out-dir DIR]",
		Short: "Write the webhook configuration files kube-apiserver takes",
		Long: `Write authn-webhook.kubeconfig and authz-webhook.kubeconfig: the
kubeconfig-format files of kube-apiserver's
--authentication-token-webhook-config-file and
--authorization-webhook-config-file. The cluster is kauth webhook serve at
URL/authenticate and URL/authorize, verified with the CA in --ca-file
(embedded); the user is the client certificate kube-apiserver presents,
referenced by absolute path so that its key stays where it is.`,
		Example: `  # Point kube-apiserver at kauth webhook serve
  kauth webhook config --url https://10.0.0.5:8443 --ca-file pki/ca.crt

  # With the client certificate kube-apiserver presents, into /etc/kubernetes
  kauth webhook config --url https://10.0.0.5:8443 --ca-file pki/ca.crt --client-cert pki/apiserver.crt --client-key pki/apiserver.key --out-dir /etc/kubernetes`,
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
			return runConfig(opts)
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "base URL of kauth webhook serve, https://HOST:PORT (required)")
	cmd.Flags().StringVar(&opts.CAFile, "ca-file", "", "CA certificate that verifies the webhook's serving certificate (required)")
	cmd.Flags().StringVar(&opts.ClientCert, "client-cert", "", "client certificate kube-apiserver presents to the webhook")
	cmd.Flags().StringVar(&opts.ClientKey, "client-key", "", "key of --client-cert")
	cmd.Flags().StringVar(&opts.OutDir, "out-dir", ".", "folder to write the two files to")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *configOptions) validate() error {
	switch {
	case o.URL == "":
		return cli.UsageErrorf("--url is required: the https://HOST:PORT of kauth webhook serve")
	case o.CAFile == "":
		return cli.UsageErrorf("--ca-file is required: the CA that signed the webhook's serving certificate")
	case (o.ClientCert == "") != (o.ClientKey == ""):
		return cli.UsageErrorf("--client-cert and --client-key go together")
	}
	return nil
}

func runConfig(o *configOptions) error {
	files, err := authwebhook.WriteKubeconfigs(authwebhook.KubeconfigRequest{
		URL: o.URL, CAFile: o.CAFile, ClientCertFile: o.ClientCert, ClientKeyFile: o.ClientKey, Dir: o.OutDir, Force: o.Force,
	})
	if err != nil {
		return configError(err)
	}
	output.Success(o.IO, "wrote %s and %s", files[0].Path, files[1].Path)
	return output.Print(o.IO, o.Format, files, func() *output.TableView {
		t := &output.TableView{Headers: []string{"FILE", "FLAG", "SERVER"}}
		for _, f := range files {
			t.AddRow(f.Path, f.Flag, f.Server)
		}
		return t
	})
}

func configError(err error) error {
	var we *certs.WriteError
	if errors.As(err, &we) {
		return err
	}
	var exists *certs.ExistsError
	if errors.As(err, &exists) {
		return cli.WithHint(cli.InputError(err), "use --force to overwrite it")
	}
	return cli.InputError(err)
}
