package authn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/apis/apiserver/install"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	authenticationcel "k8s.io/apiserver/pkg/authentication/cel"
	tokenunion "k8s.io/apiserver/pkg/authentication/token/union"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"
	"k8s.io/utils/ptr"
)

// OIDCFlags are kube-apiserver's --oidc-* flags.
type OIDCFlags struct {
	IssuerURL      string
	ClientID       string
	UsernameClaim  string
	UsernamePrefix string
	GroupsClaim    string
	GroupsPrefix   string
	CAFile         string
	RequiredClaims map[string]string
	SigningAlgs    []string
}

// Set reports whether any flag that configures an issuer is set.
func (f OIDCFlags) Set() bool {
	return f.IssuerURL != "" || f.ClientID != "" || f.GroupsClaim != "" || f.CAFile != "" ||
		f.UsernamePrefix != "" || f.GroupsPrefix != "" || len(f.RequiredClaims) > 0
}

// JWTAuthenticator turns the flags into the JWTAuthenticator kube-apiserver
// builds from them: the username claim defaults to sub, and a username
// that is not the email claim is prefixed with the issuer URL and "#"
// unless --oidc-username-prefix says otherwise ("-" for no prefix).
func (f OIDCFlags) JWTAuthenticator() (apiserver.JWTAuthenticator, error) {
	if f.IssuerURL == "" || f.ClientID == "" {
		return apiserver.JWTAuthenticator{}, errors.New("--oidc-issuer-url and --oidc-client-id must be specified together when any --oidc-* flag is set")
	}
	claim := f.UsernameClaim
	if claim == "" {
		claim = "sub"
	}
	prefix := f.UsernamePrefix
	if prefix == "" && claim != "email" {
		prefix = f.IssuerURL + "#"
	}
	if prefix == "-" {
		prefix = ""
	}
	j := apiserver.JWTAuthenticator{
		Issuer: apiserver.Issuer{URL: f.IssuerURL, Audiences: []string{f.ClientID}},
		ClaimMappings: apiserver.ClaimMappings{
			Username: apiserver.PrefixedClaimOrExpression{Claim: claim, Prefix: ptr.To(prefix)},
		},
	}
	if f.GroupsClaim != "" {
		j.ClaimMappings.Groups = apiserver.PrefixedClaimOrExpression{Claim: f.GroupsClaim, Prefix: ptr.To(f.GroupsPrefix)}
	}
	if f.CAFile != "" {
		ca, err := os.ReadFile(f.CAFile)
		if err != nil {
			return apiserver.JWTAuthenticator{}, fmt.Errorf("--oidc-ca-file: %w", err)
		}
		j.Issuer.CertificateAuthority = string(ca)
	}
	for _, k := range sortedKeys(f.RequiredClaims) {
		j.ClaimValidationRules = append(j.ClaimValidationRules, apiserver.ClaimValidationRule{Claim: k, RequiredValue: f.RequiredClaims[k]})
	}
	return j, nil
}

// LoadAuthenticationConfiguration reads an AuthenticationConfiguration
// (apiserver.config.k8s.io/v1, v1beta1 or v1alpha1) strictly, as
// kube-apiserver's --authentication-config does, and validates it with
// k8s.io/apiserver's validation, CEL expressions included.
func LoadAuthenticationConfiguration(path string) (*apiserver.AuthenticationConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAuthenticationConfiguration(path, data)
}

// ParseAuthenticationConfiguration is LoadAuthenticationConfiguration for
// bytes already read; name is used in errors.
func ParseAuthenticationConfiguration(name string, data []byte) (*apiserver.AuthenticationConfiguration, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, fmt.Errorf("%s: empty authentication configuration", name)
	}
	obj, err := runtime.Decode(configCodecs().UniversalDecoder(), data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c, ok := obj.(*apiserver.AuthenticationConfiguration)
	if !ok {
		return nil, fmt.Errorf("%s: expected kind AuthenticationConfiguration, got %T", name, obj)
	}
	if errs := validation.ValidateAuthenticationConfiguration(celCompiler(), c, nil); len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errs.ToAggregate())
	}
	return c, nil
}

// configCodecs and celCompiler are built once: both are immutable after
// construction, and a CEL environment takes long to build.
var (
	configCodecs = sync.OnceValue(func() serializer.CodecFactory {
		scheme := runtime.NewScheme()
		install.Install(scheme)
		return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
	})
	celCompiler = sync.OnceValue(authenticationcel.NewDefaultCompiler)
)

// JWTOptions are the server-wide settings of the JWT authenticators.
type JWTOptions struct {
	// SigningAlgs defaults to RS256 for flags; a configuration file allows
	// every algorithm, as kube-apiserver does.
	SigningAlgs []string
	// DisallowedIssuers are the service-account issuers, which a JWT
	// authenticator may not claim.
	DisallowedIssuers []string
	// APIAudiences, if set, are the audiences of the server.
	APIAudiences authenticator.Audiences
}

// JWT is the union of the configured JWT issuers.
type JWT struct {
	authenticator.Token
	issuers []oidc.AuthenticatorTokenWithHealthCheck
	urls    []string
}

// NewJWT starts one k8s.io/apiserver OIDC authenticator per issuer; each
// fetches its discovery document and keys in the background until ctx
// ends. The union fails on the first issuer that recognises the token but
// rejects it, as kube-apiserver's does.
func NewJWT(ctx context.Context, jwts []apiserver.JWTAuthenticator, opts JWTOptions) (*JWT, error) {
	algs := opts.SigningAlgs
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	j := &JWT{}
	var tokens []authenticator.Token
	for i, c := range jwts {
		o := oidc.Options{JWTAuthenticator: c, SupportedSigningAlgs: algs, DisallowedIssuers: opts.DisallowedIssuers, Compiler: celCompiler()}
		if c.Issuer.CertificateAuthority != "" {
			ca, err := dynamiccertificates.NewStaticCAContent("oidc-authenticator", []byte(c.Issuer.CertificateAuthority))
			if err != nil {
				return nil, fmt.Errorf("jwt[%d].issuer.certificateAuthority: %w", i, err)
			}
			o.CAContentProvider = ca
		}
		a, err := oidc.New(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("jwt[%d] (issuer %s): %w", i, c.Issuer.URL, err)
		}
		j.issuers = append(j.issuers, a)
		j.urls = append(j.urls, c.Issuer.URL)
		tokens = append(tokens, a)
	}
	j.Token = authenticator.WrapAudienceAgnosticToken(opts.APIAudiences, tokenunion.NewFailOnError(tokens...))
	return j, nil
}

// HealthCheck returns the first issuer that is not initialised yet (its
// discovery document or keys could not be fetched).
func (j *JWT) HealthCheck() error {
	for i, a := range j.issuers {
		if err := a.HealthCheck(); err != nil {
			return fmt.Errorf("issuer %s: %w", j.urls[i], err)
		}
	}
	return nil
}

// WaitReady waits until every issuer has its keys or ctx ends, polling
// every 10ms; kube-apiserver does not wait, but a sandbox that starts in
// milliseconds should not refuse its first tokens.
func (j *JWT) WaitReady(ctx context.Context) error {
	err := wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		return j.HealthCheck() == nil, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for JWT issuers: %w", errors.Join(err, j.HealthCheck()))
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
