package authn

import (
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	tokencache "k8s.io/apiserver/pkg/authentication/token/cache"
	"k8s.io/apiserver/pkg/util/webhook"
	tokenwebhook "k8s.io/apiserver/plugin/pkg/authenticator/token/webhook"
)

// DefaultWebhookCacheTTL is --authentication-token-webhook-cache-ttl's
// default.
const DefaultWebhookCacheTTL = 2 * time.Minute

// DefaultRetryBackoff is kube-apiserver's retry backoff for
// authentication and authorization webhooks.
func DefaultRetryBackoff() wait.Backoff {
	return wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// TokenWebhookOptions configure the token webhook authenticator.
type TokenWebhookOptions struct {
	// ConfigFile is the kubeconfig-format file of
	// --authentication-token-webhook-config-file.
	ConfigFile string
	// Version is the TokenReview version: v1 (default) or v1beta1.
	Version string
	// CacheTTL caches both answers (authenticated and not) as
	// kube-apiserver does; 0 or less caches nothing.
	CacheTTL time.Duration
	// RetryBackoff defaults to [DefaultRetryBackoff].
	RetryBackoff *wait.Backoff
	// APIAudiences are sent as the review's audiences.
	APIAudiences authenticator.Audiences
	// Breaker, if set, stands between the client and the backend.
	Breaker *Breaker
}

// NewTokenWebhook builds kube-apiserver's webhook token authenticator:
// k8s.io/apiserver's client (with its retries) wrapped in the token cache
// with the same TTL for success and failure, and errors not cached.
func NewTokenWebhook(o TokenWebhookOptions) (authenticator.Token, error) {
	cfg, err := webhook.LoadKubeconfig(o.ConfigFile, nil)
	if err != nil {
		return nil, fmt.Errorf("--authentication-token-webhook-config-file %s: %w", o.ConfigFile, err)
	}
	if o.Breaker != nil {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return o.Breaker.Wrap(rt) })
	}
	version := o.Version
	if version == "" {
		version = "v1"
	}
	backoff := DefaultRetryBackoff()
	if o.RetryBackoff != nil {
		backoff = *o.RetryBackoff
	}
	wh, err := tokenwebhook.New(cfg, version, o.APIAudiences, backoff)
	if err != nil {
		return nil, fmt.Errorf("--authentication-token-webhook-config-file %s: %w", o.ConfigFile, err)
	}
	if o.CacheTTL <= 0 {
		return wh, nil
	}
	return tokencache.New(wh, false, o.CacheTTL, o.CacheTTL), nil
}
