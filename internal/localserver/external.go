package localserver

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	certutil "k8s.io/client-go/util/cert"

	"github.com/kauth/kauth/internal/authn"
	"github.com/kauth/kauth/internal/authzchain"
)

// jwtReadyTimeout bounds how long start-up waits for the JWT issuers'
// keys: kube-apiserver does not wait, but a sandbox that is ready in
// milliseconds should not refuse its first OIDC tokens.
const jwtReadyTimeout = 10 * time.Second

// buildExternal builds the external identity authenticators of issue 8
// (JWT issuers, the token webhook, the CRL check) from their flags.
func buildExternal(ctx context.Context, c *Config, p *PKI) (*authn.External, error) {
	var cas []*x509.Certificate
	if len(p.ClientCAPEM) > 0 {
		parsed, err := certutil.ParseCertsPEM(p.ClientCAPEM)
		if err != nil {
			return nil, configError(fmt.Errorf("client CA bundle: %w", err))
		}
		cas = parsed
	}
	ext, err := authn.Build(ctx, c.ExternalAuthn, authn.BuildOptions{
		ServiceAccountIssuers: c.issuers(), APIAudiences: authenticator.Audiences(c.issuers()), ClientCAs: cas, RetryBackoff: c.WebhookRetryBackoff, Logger: c.logger(),
	})
	if err != nil {
		return nil, configError(err)
	}
	if ext.JWT != nil {
		wctx, cancel := context.WithTimeout(ctx, jwtReadyTimeout)
		defer cancel()
		if err := ext.JWT.WaitReady(wctx); err != nil {
			c.logger().Warn("JWT issuers not ready; their tokens are refused until they are", "error", err.Error())
		}
	}
	return ext, nil
}

// buildAuthorizationChain builds kube-apiserver's authorizer from
// --authorization-mode or --authorization-config, with the ABAC policy
// file and webhooks, each webhook behind a circuit breaker.
func buildAuthorizationChain(c *Config, rbacAuth *rbacKeeper) (*authzchain.Built, error) {
	b, err := authzchain.Build(authzchain.Flags{
		Modes: c.AuthorizationModes, ConfigFile: c.AuthorizationConfigFile, Webhook: c.AuthorizationWebhook, PolicyFile: c.AuthorizationPolicyFile,
	}, authzchain.BuildOptions{RBAC: rbacAuth, RetryBackoff: c.WebhookRetryBackoff, Logger: c.logger()})
	if err != nil {
		return nil, configError(err)
	}
	return b, nil
}
