package authn

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/apiserver/plugin/pkg/authenticator/token/oidc"
)

// Flags are kube-apiserver's external identity flags that kauth serve
// takes, plus --client-crl-file.
type Flags struct {
	OIDC OIDCFlags `json:"-"`
	// AuthenticationConfigFile is --authentication-config; it excludes
	// the --oidc-* flags.
	AuthenticationConfigFile string `json:"authenticationConfig,omitempty"`
	// TokenWebhookConfigFile is --authentication-token-webhook-config-file.
	TokenWebhookConfigFile string `json:"authenticationTokenWebhookConfigFile,omitempty"`
	// TokenWebhookVersion is --authentication-token-webhook-version.
	TokenWebhookVersion string `json:"authenticationTokenWebhookVersion,omitempty"`
	// TokenWebhookCacheTTL is --authentication-token-webhook-cache-ttl.
	TokenWebhookCacheTTL time.Duration `json:"-"`
	// ClientCRLFile is --client-crl-file.
	ClientCRLFile string `json:"clientCRLFile,omitempty"`
}

// Validate checks the flags against each other as kube-apiserver does.
func (f Flags) Validate() error {
	if f.AuthenticationConfigFile != "" && f.OIDC.Set() {
		return errors.New("--authentication-config and --oidc-* flags are mutually exclusive")
	}
	if f.AuthenticationConfigFile == "" && f.OIDC.Set() && (f.OIDC.IssuerURL == "" || f.OIDC.ClientID == "") {
		return errors.New("--oidc-issuer-url and --oidc-client-id must be specified together when any --oidc-* flag is set")
	}
	if f.TokenWebhookVersion != "" && f.TokenWebhookVersion != "v1" && f.TokenWebhookVersion != "v1beta1" {
		return fmt.Errorf("--authentication-token-webhook-version %q: must be v1 or v1beta1", f.TokenWebhookVersion)
	}
	return nil
}

// BuildOptions are what the server knows that the flags do not say.
type BuildOptions struct {
	// ServiceAccountIssuers may not be claimed by a JWT issuer.
	ServiceAccountIssuers []string
	// APIAudiences are the server's audiences (its --api-audiences, by
	// default the service-account issuers): JWT issuers and the webhook
	// are audience agnostic and answer for these.
	APIAudiences authenticator.Audiences
	// ClientCAs verify the CRL's signature.
	ClientCAs []*x509.Certificate
	// RetryBackoff of the token webhook; default kube-apiserver's.
	RetryBackoff *wait.Backoff
	// Breaker tunes the token webhook's circuit breaker (Name is set).
	Breaker BreakerOptions
	Logger  *slog.Logger
}

// External is what the flags add to the server's authenticators.
type External struct {
	// Tokens go after the server's own token authenticators, in
	// kube-apiserver's order: JWT issuers, then the webhook.
	Tokens []authenticator.Token
	// JWT is set when issuers are configured.
	JWT *JWT
	// CRL is set by --client-crl-file; wrap the x509 authenticator with
	// it.
	CRL *CRL
	// Anonymous is the configuration file's anonymous section, if any.
	Anonymous *apiserver.AnonymousAuthConfig
	// Breakers guard webhook backends; each is a /readyz check.
	Breakers []*Breaker
}

// Build reads the files the flags name and builds the authenticators;
// issuers start fetching their keys in the background until ctx ends.
func Build(ctx context.Context, f Flags, o BuildOptions) (*External, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	ext := &External{}
	jwts, algs, err := jwtConfig(f, ext)
	if err != nil {
		return nil, err
	}
	if len(jwts) > 0 {
		j, err := NewJWT(ctx, jwts, JWTOptions{SigningAlgs: algs, DisallowedIssuers: o.ServiceAccountIssuers, APIAudiences: o.APIAudiences})
		if err != nil {
			return nil, err
		}
		ext.JWT = j
		ext.Tokens = append(ext.Tokens, j)
	}
	if f.TokenWebhookConfigFile != "" {
		bo := o.Breaker
		bo.Name, bo.Logger = "authentication-token-webhook", o.Logger
		br := NewBreaker(bo)
		wh, err := NewTokenWebhook(TokenWebhookOptions{ConfigFile: f.TokenWebhookConfigFile, Version: f.TokenWebhookVersion,
			CacheTTL: f.TokenWebhookCacheTTL, RetryBackoff: o.RetryBackoff, Breaker: br, APIAudiences: o.APIAudiences})
		if err != nil {
			return nil, err
		}
		ext.Tokens = append(ext.Tokens, wh)
		ext.Breakers = append(ext.Breakers, br)
	}
	if f.ClientCRLFile != "" {
		crl, err := NewCRL(f.ClientCRLFile, o.ClientCAs)
		if err != nil {
			return nil, err
		}
		ext.CRL = crl
	}
	return ext, nil
}

// jwtConfig returns the issuers of the configuration file or of the
// --oidc-* flags, and the signing algorithms kube-apiserver allows for
// each: all of them for a file, RS256 for flags.
func jwtConfig(f Flags, ext *External) ([]apiserver.JWTAuthenticator, []string, error) {
	if f.AuthenticationConfigFile != "" {
		c, err := LoadAuthenticationConfiguration(f.AuthenticationConfigFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--authentication-config: %w", err)
		}
		ext.Anonymous = c.Anonymous
		return c.JWT, oidc.AllValidSigningAlgorithms(), nil
	}
	if !f.OIDC.Set() {
		return nil, nil, nil
	}
	j, err := f.OIDC.JWTAuthenticator()
	if err != nil {
		return nil, nil, err
	}
	return []apiserver.JWTAuthenticator{j}, f.OIDC.SigningAlgs, nil
}

// WrapX509 puts the CRL check (if any) in front of a client certificate
// authenticator.
func (e *External) WrapX509(a authenticator.Request) authenticator.Request {
	if e == nil || e.CRL == nil {
		return a
	}
	return e.CRL.WrapRequest(a)
}

// AnonymousConfig decides anonymous access as kube-apiserver does: the
// configuration file's section and --anonymous-auth exclude each other
// when the flag was set explicitly.
func (e *External) AnonymousConfig(flagSet, flagValue bool) (apiserver.AnonymousAuthConfig, error) {
	if e != nil && e.Anonymous != nil {
		if flagSet {
			return apiserver.AnonymousAuthConfig{}, errors.New("--anonymous-auth cannot be set when the anonymous field is configured in --authentication-config")
		}
		return *e.Anonymous, nil
	}
	return apiserver.AnonymousAuthConfig{Enabled: flagValue}, nil
}

// Checks are the /readyz checks of the breakers.
func (e *External) Checks() []healthz.HealthChecker {
	if e == nil {
		return nil
	}
	out := make([]healthz.HealthChecker, 0, len(e.Breakers))
	for _, b := range e.Breakers {
		out = append(out, b)
	}
	return out
}
