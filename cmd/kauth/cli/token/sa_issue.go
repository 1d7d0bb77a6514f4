package token

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type saIssueOptions struct {
	IO    *output.Streams
	Clock func() time.Time
	// Rand is the jti source; nil means crypto/rand.
	Rand io.Reader

	SigningKey string
	Issuer     string
	Namespace  string
	Name       string
	UID        string
	Audiences  []string
	TTL        time.Duration
	Format     output.Format
}

func newSAIssueCmd(f *cli.Factory, runF func(*saIssueOptions) error) *cobra.Command {
	opts := &saIssueOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "issue --signing-key KEY --issuer URL --namespace NS --name SA [--uid UID] [--audience A]... [--ttl 1h]",
		Short: "Sign a service-account token offline with the cluster's signing key",
		Long: `Issue signs a bound-style service-account JWT with the key kube-apiserver
signs with (--service-account-signing-key-file): RS256 for an RSA key,
ES256/ES384/ES512 for an ECDSA key by curve, and a kid derived from the
public key as kube-apiserver derives it. The claims are those of tokens
issued through the TokenRequest API: iss, sub (system:serviceaccount:NS:SA),
aud (default: the issuer, like --api-audiences), exp, iat, nbf, jti and
kubernetes.io {namespace, serviceaccount {name, uid}}.

kube-apiserver checks that the service account exists with the token's uid,
so pass --uid with the service account's metadata.uid.`,
		Example: `  # Sign a one-hour token for team-a/deployer
  kauth token sa issue --signing-key sa.key --issuer https://kubernetes.default.svc --namespace team-a --name deployer --uid 3f1c2d4e-0000-4000-8000-000000000001

  # A token for another audience, valid one day, with its claims as JSON
  kauth token sa issue --signing-key sa.key --issuer https://kubernetes.default.svc -n team-a --name deployer --audience vault --ttl 1d -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSAIssue(opts)
		},
	}
	cmd.Flags().StringVar(&opts.SigningKey, "signing-key", "", "PEM RSA or ECDSA private key (kube-apiserver's --service-account-signing-key-file)")
	cmd.Flags().StringVar(&opts.Issuer, "issuer", "", "issuer (kube-apiserver's --service-account-issuer)")
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "", "namespace of the service account")
	cmd.Flags().StringVar(&opts.Name, "name", "", "name of the service account")
	cmd.Flags().StringVar(&opts.UID, "uid", "", "uid of the service account (its metadata.uid)")
	cmd.Flags().StringArrayVar(&opts.Audiences, "audience", nil, "audience (repeatable; default: the issuer)")
	cli.DurationVar(cmd.Flags(), &opts.TTL, "ttl", time.Hour, "lifetime of the token")
	return cmd
}

func (o *saIssueOptions) complete(f *cli.Factory) error {
	if o.SigningKey == "" || o.Namespace == "" || o.Name == "" {
		return cli.UsageErrorf("--signing-key, --namespace and --name are required")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runSAIssue(o *saIssueOptions) error {
	res, err := tokens.IssueServiceAccountToken(tokens.IssueRequest{
		SigningKeyFile: o.SigningKey, Issuer: o.Issuer, Namespace: o.Namespace, Name: o.Name, UID: o.UID,
		Audiences: o.Audiences, TTL: o.TTL, Now: o.Clock(), Rand: o.Rand,
	})
	if err != nil {
		return classify(err)
	}
	for _, w := range res.Warnings {
		output.Warning(o.IO, "%s", w)
	}
	if err := printToken(o.IO, o.Format, res.Token, res); err != nil {
		return err
	}
	output.Success(o.IO, "signed a token for %s (%s, expires %s)", res.Subject, res.Algorithm, res.Expiration)
	return nil
}
