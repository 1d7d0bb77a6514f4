package authzchain

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"

	"github.com/kauth/kauth/internal/authn"
)

// Flags are kube-apiserver's authorization flags that kauth serve takes.
type Flags struct {
	// Modes is --authorization-mode; it excludes ConfigFile.
	Modes []string
	// ConfigFile is --authorization-config.
	ConfigFile string
	// Webhook are the --authorization-webhook-* flags.
	Webhook WebhookFlags
	// PolicyFile is --authorization-policy-file (ABAC).
	PolicyFile string
}

// BuildOptions are what the server knows that the flags do not say.
type BuildOptions struct {
	RBAC         RBACAuthorizer
	RetryBackoff *wait.Backoff
	// Breaker tunes each webhook's circuit breaker (Name is set to the
	// webhook's name).
	Breaker authn.BreakerOptions
	Logger  *slog.Logger
}

// Built is the server's authorizer and the breakers of its webhooks.
type Built struct {
	*Chain
	Config   *apiserver.AuthorizationConfiguration
	Breakers []*authn.Breaker
}

// Build reads the configuration file (or converts the flags) and builds
// the chain with a circuit breaker in front of every webhook.
func Build(f Flags, o BuildOptions) (*Built, error) {
	cfg, err := f.configuration()
	if err != nil {
		return nil, err
	}
	var abac ABAC
	if f.PolicyFile != "" {
		if abac, err = LoadABAC(f.PolicyFile); err != nil {
			return nil, fmt.Errorf("--authorization-policy-file: %w", err)
		}
	}
	b := &Built{Config: cfg}
	wrap := func(name string) func(http.RoundTripper) http.RoundTripper {
		bo := o.Breaker
		bo.Name, bo.Logger = "authorization-webhook-"+name, o.Logger
		br := authn.NewBreaker(bo)
		b.Breakers = append(b.Breakers, br)
		return br.Wrap
	}
	ch, err := NewChain(cfg, Options{RBAC: o.RBAC, ABAC: abac, RetryBackoff: o.RetryBackoff, WrapTransport: wrap})
	if err != nil {
		return nil, err
	}
	b.Chain = ch
	return b, nil
}

func (f Flags) configuration() (*apiserver.AuthorizationConfiguration, error) {
	if f.ConfigFile != "" {
		if len(f.Modes) > 0 {
			return nil, errors.New("--authorization-config and --authorization-mode are mutually exclusive")
		}
		if f.Webhook.ConfigFile != "" {
			return nil, errors.New("--authorization-config and --authorization-webhook-config-file are mutually exclusive")
		}
		c, err := LoadAuthorizationConfiguration(f.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("--authorization-config: %w", err)
		}
		return c, nil
	}
	if slices.Contains(f.Modes, TypeABAC) && f.PolicyFile == "" {
		return nil, errors.New("--authorization-mode ABAC needs --authorization-policy-file")
	}
	if f.PolicyFile != "" && !slices.Contains(f.Modes, TypeABAC) {
		return nil, errors.New("--authorization-policy-file is only used with --authorization-mode ABAC")
	}
	return FromModes(f.Modes, f.Webhook)
}
