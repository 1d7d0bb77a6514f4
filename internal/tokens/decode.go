package tokens

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// Token kinds [Decode] tells apart.
const (
	KindStatic         = "static"
	KindBootstrap      = "bootstrap"
	KindServiceAccount = "serviceAccount"
	// KindJWT is a JWT without Kubernetes service-account claims (an OIDC
	// token, say), which the service-account authenticator does not take.
	KindJWT = "jwt"
)

// DecodeOptions give Decode what it needs to check a token fully.
type DecodeOptions struct {
	// TokenFile is a static token file to look an opaque token up in.
	TokenFile string
	// SecretFile is the bootstrap-token Secret (YAML or JSON) to check a
	// bootstrap token against.
	SecretFile string
	// Verify checks service-account JWTs.
	Verify VerifyOptions
	// ShowSecret puts the token itself into the result.
	ShowSecret bool
	Now        time.Time
}

// Decoded is what kube-apiserver would make of a bearer token.
type Decoded struct {
	Kind string `json:"kind"`
	// Token is set only when asked for with ShowSecret.
	Token string `json:"token,omitempty"`
	// User is the identity kube-apiserver would assign, including the
	// system:authenticated group every authenticated user gets.
	User      *UserInfo      `json:"user,omitempty"`
	Static    *StaticMatch   `json:"static,omitempty"`
	Bootstrap *BootstrapInfo `json:"bootstrap,omitempty"`
	JWT       *JWTInfo       `json:"jwt,omitempty"`
	// Problems say why kube-apiserver would not authenticate the token.
	Problems []string `json:"problems"`
	// Notes name checks that could not be made with what was given.
	Notes []string `json:"notes,omitempty"`
}

// StaticMatch is where a static token was found.
type StaticMatch struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// ErrUnknownToken is returned for an opaque token when there is no token
// file to look it up in.
var ErrUnknownToken = errors.New("not a bootstrap token or a JWT")

// Decode identifies token (bootstrap token, service-account JWT, or else
// a static token) and says which user kube-apiserver would authenticate
// it as, or why it would not. The token appears in the result only with
// ShowSecret; it never appears in an error.
func Decode(token string, opts DecodeOptions) (*Decoded, error) {
	token = strings.TrimSpace(token)
	opts.Verify.Now = opts.Now
	d, err := decodeStaticFirst(token, opts)
	switch {
	case err != nil || d != nil:
	case bootstraputil.IsValidBootstrapToken(token):
		d, err = decodeBootstrap(token, opts)
	case strings.Count(token, ".") == 2:
		d, err = decodeJWT(token, opts)
	default:
		d, err = decodeStatic(token, opts)
	}
	if err != nil {
		return nil, err
	}
	if opts.ShowSecret {
		d.Token = token
	}
	if d.Problems == nil {
		d.Problems = []string{}
	}
	return d, nil
}

func decodeBootstrap(token string, opts DecodeOptions) (*Decoded, error) {
	d := &Decoded{Kind: KindBootstrap}
	if opts.SecretFile == "" {
		info, err := InspectBootstrapToken(token)
		if err != nil {
			return nil, err
		}
		d.Bootstrap, d.User = info, info.User
		d.Notes = append(d.Notes, fmt.Sprintf("Secret %s/%s not checked (give --secret FILE): it decides expiry, usages and extra groups", "kube-system", info.SecretName))
		return d, nil
	}
	data, err := os.ReadFile(opts.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("reading secret file: %w", err)
	}
	s, err := ReadBootstrapSecret(opts.SecretFile, data)
	if err != nil {
		return nil, err
	}
	id, secret := token[:bootstrapapi.BootstrapTokenIDBytes], token[bootstrapapi.BootstrapTokenIDBytes+1:]
	info := InspectBootstrapSecret(s, secret, opts.Now)
	if want := bootstraputil.BootstrapTokenSecretName(id); s.Name != want {
		info.Problems = slices.Insert(info.Problems, 0, fmt.Sprintf("kube-apiserver looks the token up in Secret %s, not %s", want, s.Name))
		info.User = nil
	}
	d.Bootstrap, d.User, d.Problems, d.Notes = info, info.User, info.Problems, info.Warnings
	return d, nil
}

func decodeJWT(token string, opts DecodeOptions) (*Decoded, error) {
	info, err := InspectJWT(token, opts.Verify)
	if errors.Is(err, ErrNotJWT) {
		return decodeStatic(token, opts)
	}
	if err != nil {
		return nil, err
	}
	kind := KindServiceAccount
	if info.Namespace == "" && !info.Legacy {
		kind = KindJWT
	}
	return &Decoded{Kind: kind, JWT: info, User: info.User, Problems: info.Problems, Notes: info.Notes}, nil
}

// decodeStaticFirst looks token up in the token file first, as
// kube-apiserver's authenticator chain starts with --token-auth-file: a
// bootstrap- or JWT-shaped token listed there is a static token. It
// returns nil when there is no file or the token is not in it.
func decodeStaticFirst(token string, opts DecodeOptions) (*Decoded, error) {
	if opts.TokenFile == "" {
		return nil, nil
	}
	d, err := decodeStatic(token, opts)
	if err != nil || d.User == nil {
		return nil, err
	}
	return d, nil
}

func decodeStatic(token string, opts DecodeOptions) (*Decoded, error) {
	if opts.TokenFile == "" {
		return nil, fmt.Errorf("%w; give --token-file to look a static token up", ErrUnknownToken)
	}
	data, err := os.ReadFile(opts.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	f, err := ReadStatic(opts.TokenFile, data)
	if err != nil {
		return nil, err
	}
	d := &Decoded{Kind: KindStatic, Static: &StaticMatch{File: opts.TokenFile}}
	r := f.Lookup(token)
	if r == nil {
		d.Problems = append(d.Problems, fmt.Sprintf("the token is not in %s", opts.TokenFile))
		return d, nil
	}
	d.Static.Line = r.Line
	d.User = withAuthenticated(&UserInfo{Username: r.User, UID: r.UID, Groups: slices.Clone(r.Groups)})
	return d, nil
}
