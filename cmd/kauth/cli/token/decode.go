package token

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type decodeOptions struct {
	IO    *output.Streams
	Clock func() time.Time

	Token      string
	TokenFile  string
	SecretFile string
	KeyFile    string
	Issuers    []string
	Audiences  []string
	ShowSecret bool
	Format     output.Format
}

func newDecodeCmd(f *cli.Factory, runF func(*decodeOptions) error) *cobra.Command {
	opts := &decodeOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "decode TOKEN|- [--token-file FILE] [--secret FILE] [--key PUB] [--issuer URL]... [--audience A]... [--show-secret]",
		Short: "Show which user kube-apiserver would authenticate a token as",
		Long: `Decode tells a bootstrap token, a service-account JWT and a static token
apart and shows what kube-apiserver would authenticate it as (user, uid,
groups including system:authenticated, extra), with the claims or Secret
fields it read, and why it would refuse the token.

  bootstrap token  format; with --secret FILE the Secret's checks too
  JWT              claims, times (with kube-apiserver's 1m leeway), and
                   with --key the signature, --issuer and --audience the
                   issuer and audience checks
  anything else    looked up in --token-file as kube-apiserver does

With --token-file the file is consulted first, whatever the token looks
like, as kube-apiserver's authenticator chain starts with it.

The token is never printed unless --show-secret is given. "-" reads it from
stdin. Exits 1 when kube-apiserver would refuse the token.`,
		Example: `  # Who is this static token? (read from stdin)
  echo "$TOKEN" | kauth token decode - --token-file tokens.csv

  # Check a service-account token against the public key and issuer
  kauth token decode "$(cat sa.jwt)" --key sa.pub --issuer https://kubernetes.default.svc

  # A bootstrap token against its Secret, as JSON
  kauth token decode abcdef.0123456789abcdef --secret secret.yaml -o json`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(f, args[0]); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runDecode(opts)
		},
	}
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "static token file to look an opaque token up in")
	cmd.Flags().StringVar(&opts.SecretFile, "secret", "", "bootstrap-token Secret (YAML or JSON) to check a bootstrap token against")
	cmd.Flags().StringVar(&opts.KeyFile, "key", "", "PEM public (or private) keys to verify a JWT's signature (kube-apiserver's --service-account-key-file)")
	cmd.Flags().StringArrayVar(&opts.Issuers, "issuer", nil, "accepted JWT issuer (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Audiences, "audience", nil, "API audience the JWT must carry one of (repeatable)")
	cmd.Flags().BoolVar(&opts.ShowSecret, "show-secret", false, "print the token itself too")
	return cmd
}

func (o *decodeOptions) complete(f *cli.Factory, arg string) error {
	tok, err := readTokenArg(o.IO, arg)
	if err != nil {
		return err
	}
	if strings.TrimSpace(tok) == "" {
		return cli.UsageErrorf("the token argument is empty")
	}
	o.Token = tok
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runDecode(o *decodeOptions) error {
	d, err := tokens.Decode(o.Token, tokens.DecodeOptions{
		TokenFile: o.TokenFile, SecretFile: o.SecretFile, ShowSecret: o.ShowSecret, Now: o.Clock(),
		Verify: tokens.VerifyOptions{KeyFile: o.KeyFile, Issuers: o.Issuers, Audiences: o.Audiences},
	})
	if err != nil {
		return cli.InputError(err)
	}
	if err := output.Print(o.IO, o.Format, d, func() *output.TableView { return decodeTable(d) }); err != nil {
		return err
	}
	if len(d.Problems) > 0 {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func decodeTable(d *tokens.Decoded) *output.TableView {
	t := &output.TableView{Headers: []string{"FIELD", "VALUE"}}
	t.AddRow("kind", d.Kind)
	if d.Token != "" {
		t.AddRow("token", d.Token)
	}
	switch {
	case d.Static != nil:
		t.AddRow("file", d.Static.File)
		if d.Static.Line > 0 {
			t.AddRow("line", strconv.Itoa(d.Static.Line))
		}
	case d.Bootstrap != nil:
		b := d.Bootstrap
		t.AddRow("id", b.ID)
		t.AddRow("secret", "kube-system/"+b.SecretName)
		if len(b.Usages) > 0 {
			t.AddRow("expiration", expiresText(b.Expiration))
			if b.Expiration != "" && !b.Expired {
				t.AddRow("time left", cli.FormatDuration(time.Duration(b.TTLSeconds)*time.Second))
			}
			t.AddRow("usages", strings.Join(b.Usages, ","))
		}
	case d.JWT != nil:
		jwtRows(t, d.JWT)
	}
	addUserRows(t, d.User)
	for _, p := range d.Problems {
		t.AddRowLevel(output.Bad, "problem", p)
	}
	for _, n := range d.Notes {
		t.AddRowLevel(output.Dim, "note", n)
	}
	return t
}

func jwtRows(t *output.TableView, j *tokens.JWTInfo) {
	t.AddRow("algorithm", j.Algorithm)
	if j.KeyID != "" {
		t.AddRow("kid", j.KeyID)
	}
	verified := "no"
	if j.SignatureVerified {
		verified = "yes"
	}
	t.AddRow("signature verified", verified)
	t.AddRow("iss", j.Issuer)
	t.AddRow("sub", j.Subject)
	t.AddRow("aud", strings.Join(j.Audiences, ","))
	for _, kv := range [][2]string{{"jti", j.ID}, {"iat", j.IssuedAt}, {"nbf", j.NotBefore}, {"exp", j.Expiration}} {
		if kv[1] != "" {
			t.AddRow(kv[0], kv[1])
		}
	}
	if j.ExpiresInSeconds != nil {
		left := time.Duration(*j.ExpiresInSeconds) * time.Second
		text := cli.FormatDuration(left)
		if left < 0 {
			text = "expired " + cli.FormatDuration(-left) + " ago"
		}
		t.AddRow("time left", text)
	}
}
