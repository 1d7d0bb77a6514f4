package localserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kauth/kauth/internal/admission"
	"github.com/kauth/kauth/internal/authn"
	"github.com/kauth/kauth/internal/authzchain"
)

// Authorization modes of --authorization-mode, as kube-apiserver names them.
const (
	ModeRBAC        = "RBAC"
	ModeAlwaysAllow = "AlwaysAllow"
	ModeAlwaysDeny  = "AlwaysDeny"
	ModeWebhook     = "Webhook"
	ModeABAC        = "ABAC"
)

// SupportedAuthorizationModes lists the modes the server supports, for help
// and errors.
func SupportedAuthorizationModes() []string {
	return []string{ModeRBAC, ModeAlwaysAllow, ModeAlwaysDeny, ModeWebhook, ModeABAC}
}

// DefaultServiceAccountIssuer is the issuer used when --service-account-issuer
// is not given; it is the one kubeadm configures.
const DefaultServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// Config is the server's configuration. Field names follow kube-apiserver's
// flags; the zero value plus [Config.Default] is a working sandbox on
// 127.0.0.1:6443.
type Config struct {
	// Listen is the host:port to serve TLS on (--listen).
	Listen string `json:"listen"`
	// DataDir keeps the PKI, the kubeconfig and the bbolt database; empty
	// means everything lives in memory.
	DataDir string `json:"dataDir,omitempty"`
	// KubeconfigOut is where the admin kubeconfig is written; empty picks
	// DataDir/kubeconfig, or a fresh temporary directory.
	KubeconfigOut string `json:"kubeconfigOut,omitempty"`
	// Seed lists sources of objects to create at start (internal/loader).
	Seed []string `json:"seed,omitempty"`
	// Force allows replacing an existing KubeconfigOut that differs.
	Force bool `json:"force,omitempty"`

	ClientCAFile                 string   `json:"clientCAFile,omitempty"`
	TokenAuthFile                string   `json:"tokenAuthFile,omitempty"`
	EnableBootstrapTokenAuth     bool     `json:"enableBootstrapTokenAuth,omitempty"`
	ServiceAccountKeyFiles       []string `json:"serviceAccountKeyFiles,omitempty"`
	ServiceAccountSigningKeyFile string   `json:"serviceAccountSigningKeyFile,omitempty"`
	ServiceAccountIssuers        []string `json:"serviceAccountIssuers,omitempty"`
	AnonymousAuth                bool     `json:"anonymousAuth"`
	AuthorizationModes           []string `json:"authorizationModes"`
	AuditLogPath                 string   `json:"auditLogPath,omitempty"`
	AuditPolicyFile              string   `json:"auditPolicyFile,omitempty"`
	// EnableAdmissionPlugins and DisableAdmissionPlugins adjust
	// kube-apiserver's default admission plugins
	// (--enable-admission-plugins, --disable-admission-plugins).
	EnableAdmissionPlugins  []string `json:"enableAdmissionPlugins,omitempty"`
	DisableAdmissionPlugins []string `json:"disableAdmissionPlugins,omitempty"`
	// EnablePriorityAndFairness queues requests with API Priority and
	// Fairness (--enable-priority-and-fairness); off, the in-flight limits
	// apply as such.
	EnablePriorityAndFairness   bool          `json:"enablePriorityAndFairness"`
	MaxRequestsInFlight         int           `json:"maxRequestsInFlight"`
	MaxMutatingRequestsInFlight int           `json:"maxMutatingRequestsInFlight"`
	RequestTimeout              time.Duration `json:"-"`
	// Profiling serves /debug/pprof to users allowed the nonResourceURL
	// (--profiling, kube-apiserver's default true).
	Profiling bool `json:"profiling"`
	// TokenSuccessCacheTTL caches successful token authentications, as
	// kube-apiserver does (10s); zero disables the cache.
	TokenSuccessCacheTTL time.Duration `json:"-"`

	// External identity: the --oidc-* flags, --authentication-config,
	// the token webhook and --client-crl-file.
	ExternalAuthn authn.Flags `json:"externalAuthn"`
	// AnonymousAuthSet is true when --anonymous-auth was given; it then
	// may not be combined with an anonymous section in
	// --authentication-config.
	AnonymousAuthSet bool `json:"-"`
	// AuthorizationConfigFile is --authorization-config; it replaces
	// --authorization-mode.
	AuthorizationConfigFile string `json:"authorizationConfig,omitempty"`
	// AuthorizationWebhook are the --authorization-webhook-* flags.
	AuthorizationWebhook authzchain.WebhookFlags `json:"-"`
	// AuthorizationPolicyFile is --authorization-policy-file (ABAC).
	AuthorizationPolicyFile string `json:"authorizationPolicyFile,omitempty"`
	// WebhookRetryBackoff is the retry backoff of the authentication and
	// authorization webhooks; nil is kube-apiserver's.
	WebhookRetryBackoff *wait.Backoff `json:"-"`

	// Logger receives the server's diagnostics; nil discards them.
	Logger *slog.Logger `json:"-"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `json:"-"`
	// Rand is the source of keys and tokens; nil means crypto/rand.
	Rand io.Reader `json:"-"`
	// Stdin is read by a "-" seed source.
	Stdin io.Reader `json:"-"`
	// AuditOut receives the audit log when AuditLogPath is "-" (stdout in
	// kube-apiserver).
	AuditOut io.Writer `json:"-"`
}

// ConfigError is a mistake in the configuration or in a file a flag
// names (a malformed token file, an unreadable CA bundle, an invalid seed
// object), as opposed to a failure of the server itself.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configError(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Err: err}
}

// Default returns the configuration kube-apiserver would have with no flags,
// adapted to a sandbox: loopback, RBAC (kube-apiserver's default is
// AlwaysAllow; kauth fails closed), anonymous authentication on.
func Default() Config {
	return Config{
		Listen:                      "127.0.0.1:6443",
		AnonymousAuth:               true,
		AuthorizationModes:          []string{ModeRBAC},
		EnablePriorityAndFairness:   true,
		MaxRequestsInFlight:         400,
		MaxMutatingRequestsInFlight: 200,
		RequestTimeout:              60 * time.Second,
		Profiling:                   true,
		TokenSuccessCacheTTL:        10 * time.Second,
		ExternalAuthn: authn.Flags{
			OIDC:                 authn.OIDCFlags{UsernameClaim: "sub", SigningAlgs: []string{"RS256"}},
			TokenWebhookVersion:  "v1",
			TokenWebhookCacheTTL: authn.DefaultWebhookCacheTTL,
		},
		AuthorizationWebhook: authzchain.WebhookFlags{Version: "v1", AuthorizedTTL: authzchain.DefaultAuthorizedTTL, UnauthorizedTTL: authzchain.DefaultUnauthorizedTTL},
	}
}

// Validate checks the configuration the way kube-apiserver checks its
// flags, naming the flag in each error.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: expected host:port: %w", c.Listen, err))
	}
	if c.AuthorizationConfigFile != "" && len(c.AuthorizationModes) > 0 {
		errs = append(errs, errors.New("--authorization-config and --authorization-mode are mutually exclusive"))
	}
	if err := c.ExternalAuthn.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.AuthorizationModes) == 0 && c.AuthorizationConfigFile == "" {
		errs = append(errs, fmt.Errorf("--authorization-mode: at least one mode is required (one of %s)", strings.Join(SupportedAuthorizationModes(), ", ")))
	}
	seen := map[string]bool{}
	for _, m := range c.AuthorizationModes {
		if !slices.Contains(SupportedAuthorizationModes(), m) {
			errs = append(errs, fmt.Errorf("--authorization-mode %q: must be one of %s", m, strings.Join(SupportedAuthorizationModes(), ", ")))
		}
		if seen[m] {
			errs = append(errs, fmt.Errorf("--authorization-mode %q: specified more than once", m))
		}
		seen[m] = true
	}
	if c.MaxRequestsInFlight < 0 {
		errs = append(errs, fmt.Errorf("--max-requests-inflight %d: must not be negative", c.MaxRequestsInFlight))
	}
	if c.MaxMutatingRequestsInFlight < 0 {
		errs = append(errs, fmt.Errorf("--max-mutating-requests-inflight %d: must not be negative", c.MaxMutatingRequestsInFlight))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--request-timeout %s: must be positive", c.RequestTimeout))
	}
	if c.EnablePriorityAndFairness && c.MaxRequestsInFlight == 0 && c.MaxMutatingRequestsInFlight == 0 {
		errs = append(errs, errors.New("--max-requests-inflight plus --max-mutating-requests-inflight must be positive when --enable-priority-and-fairness is true"))
	}
	if _, err := admission.Select(c.EnableAdmissionPlugins, c.DisableAdmissionPlugins); err != nil {
		errs = append(errs, err)
	}
	if c.AuditPolicyFile != "" && c.AuditLogPath == "" {
		errs = append(errs, errors.New("--audit-policy-file needs --audit-log-path: the log backend is the only audit backend"))
	}
	for _, iss := range c.ServiceAccountIssuers {
		if iss == "" {
			errs = append(errs, errors.New("--service-account-issuer: must not be empty"))
		}
	}
	return configError(errors.Join(errs...))
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Config) issuers() []string {
	if len(c.ServiceAccountIssuers) == 0 {
		return []string{DefaultServiceAccountIssuer}
	}
	return c.ServiceAccountIssuers
}
