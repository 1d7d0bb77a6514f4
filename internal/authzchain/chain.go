package authzchain

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/apis/apiserver/load"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authorizationcel "k8s.io/apiserver/pkg/authorization/cel"
	authzunion "k8s.io/apiserver/pkg/authorization/union"
	"k8s.io/apiserver/pkg/util/webhook"
	authzwebhook "k8s.io/apiserver/plugin/pkg/authorizer/webhook"
	webhookmetrics "k8s.io/apiserver/plugin/pkg/authorizer/webhook/metrics"
)

// Authorizer types of an AuthorizationConfiguration.
const (
	TypeRBAC        = "RBAC"
	TypeABAC        = "ABAC"
	TypeAlwaysAllow = "AlwaysAllow"
	TypeAlwaysDeny  = "AlwaysDeny"
	TypeWebhook     = "Webhook"
	TypeNode        = "Node"
)

// Webhook defaults of kube-apiserver's --authorization-webhook-* flags.
const (
	DefaultAuthorizedTTL   = 5 * time.Minute
	DefaultUnauthorizedTTL = 30 * time.Second
	defaultWebhookName     = "default"
)

// LoadAuthorizationConfiguration reads --authorization-config strictly,
// with k8s.io/apiserver's defaults, and validates it as kube-apiserver
// does.
func LoadAuthorizationConfiguration(path string) (*apiserver.AuthorizationConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAuthorizationConfiguration(path, data)
}

// ParseAuthorizationConfiguration is LoadAuthorizationConfiguration for
// bytes already read.
func ParseAuthorizationConfiguration(name string, data []byte) (*apiserver.AuthorizationConfiguration, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty authorization configuration", name)
	}
	c, err := load.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := Validate(c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Validate checks c as kube-apiserver does, with the types kauth serve
// knows (Node is refused: there are no nodes).
func Validate(c *apiserver.AuthorizationConfiguration) error {
	known := sets.New(TypeRBAC, TypeABAC, TypeAlwaysAllow, TypeAlwaysDeny, TypeWebhook)
	errs := validation.ValidateAuthorizationConfiguration(authorizationcel.NewDefaultCompiler(), field.NewPath(""), c, known, sets.New(TypeWebhook))
	return errs.ToAggregate()
}

// WebhookFlags are the --authorization-webhook-* flags.
type WebhookFlags struct {
	ConfigFile      string
	Version         string
	AuthorizedTTL   time.Duration
	UnauthorizedTTL time.Duration
}

// FromModes turns --authorization-mode and the webhook flags into the
// AuthorizationConfiguration kube-apiserver builds from them: a webhook
// named "default" with a 30s timeout and failure policy NoOpinion, cache
// switched off by a zero TTL.
func FromModes(modes []string, w WebhookFlags) (*apiserver.AuthorizationConfiguration, error) {
	if len(modes) != sets.New(modes...).Len() {
		return nil, errors.New("--authorization-mode: modes should not be repeated")
	}
	c := &apiserver.AuthorizationConfiguration{}
	known := sets.New(TypeRBAC, TypeABAC, TypeAlwaysAllow, TypeAlwaysDeny, TypeWebhook)
	for _, m := range modes {
		if !known.Has(m) {
			return nil, fmt.Errorf("--authorization-mode %q: unknown mode (supported: %s)", m, strings.Join(sets.List(known), ", "))
		}
		if m != TypeWebhook {
			c.Authorizers = append(c.Authorizers, apiserver.AuthorizerConfiguration{Type: apiserver.AuthorizerType(m), Name: modeName(m)})
			continue
		}
		if w.ConfigFile == "" {
			return nil, errors.New("--authorization-mode Webhook needs --authorization-webhook-config-file")
		}
		version := w.Version
		if version == "" {
			version = "v1"
		}
		file := w.ConfigFile
		c.Authorizers = append(c.Authorizers, apiserver.AuthorizerConfiguration{
			Type: TypeWebhook, Name: defaultWebhookName,
			Webhook: &apiserver.WebhookConfiguration{
				AuthorizedTTL: metav1.Duration{Duration: w.AuthorizedTTL}, CacheAuthorizedRequests: w.AuthorizedTTL != 0,
				UnauthorizedTTL: metav1.Duration{Duration: w.UnauthorizedTTL}, CacheUnauthorizedRequests: w.UnauthorizedTTL != 0,
				Timeout: metav1.Duration{Duration: 30 * time.Second}, FailurePolicy: apiserver.FailurePolicyNoOpinion,
				SubjectAccessReviewVersion: version, MatchConditionSubjectAccessReviewVersion: "v1",
				ConnectionInfo: apiserver.WebhookConnectionInfo{Type: apiserver.AuthorizationWebhookConnectionInfoTypeKubeConfigFile, KubeConfigFile: &file},
			},
		})
	}
	// kube-apiserver does not validate the configuration it builds from
	// flags (a zero TTL switches a cache off instead).
	return c, nil
}

// modeName is kube-apiserver's authorizer name for a mode: the mode
// lower-cased ("rbac", "alwaysallow").
func modeName(m string) string {
	b := []byte(m)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

// RBACAuthorizer is what the chain needs of RBAC: decisions and rules.
type RBACAuthorizer interface {
	authorizer.Authorizer
	authorizer.RuleResolver
}

// Options give the chain the authorizers built elsewhere.
type Options struct {
	// RBAC is required when the configuration names RBAC.
	RBAC RBACAuthorizer
	// ABAC is required when it names ABAC.
	ABAC ABAC
	// RetryBackoff defaults to kube-apiserver's (500ms, x1.5, 5 steps).
	RetryBackoff *wait.Backoff
	// WrapTransport, if set, wraps the transport of the named webhook
	// (a circuit breaker).
	WrapTransport func(name string) func(http.RoundTripper) http.RoundTripper
}

// Chain is kube-apiserver's authorizer: the system:masters group first,
// then the configured authorizers in order, the first decision winning.
type Chain struct {
	authorizer.Authorizer
	authorizer.RuleResolver
	// Names are the authorizers in order, for logs.
	Names []string
}

// NewChain builds the union for c.
func NewChain(c *apiserver.AuthorizationConfiguration, o Options) (*Chain, error) {
	if len(c.Authorizers) == 0 {
		return nil, errors.New("at least one authorization mode must be passed")
	}
	named := []authzunion.NamedAuthorizer{{AuthorizerName: "kubernetes.io/system-privileged-group", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)}}
	var resolvers []authorizer.RuleResolver
	ch := &Chain{}
	for i, ac := range c.Authorizers {
		a, r, err := build(ac, o)
		if err != nil {
			return nil, fmt.Errorf("authorizers[%d] (%s %q): %w", i, ac.Type, ac.Name, err)
		}
		named = append(named, authzunion.NamedAuthorizer{AuthorizerName: ac.Name, Authorizer: a})
		resolvers = append(resolvers, r)
		ch.Names = append(ch.Names, ac.Name)
	}
	u, err := authzunion.New(named...)
	if err != nil {
		return nil, err
	}
	ch.Authorizer, ch.RuleResolver = u, authzunion.NewRuleResolvers(resolvers...)
	return ch, nil
}

type authorizerAndRules interface {
	authorizer.Authorizer
	authorizer.RuleResolver
}

func build(ac apiserver.AuthorizerConfiguration, o Options) (authorizer.Authorizer, authorizer.RuleResolver, error) {
	var a authorizerAndRules
	switch string(ac.Type) {
	case TypeAlwaysAllow:
		a = authorizerfactory.NewAlwaysAllowAuthorizer()
	case TypeAlwaysDeny:
		a = authorizerfactory.NewAlwaysDenyAuthorizer()
	case TypeRBAC:
		if o.RBAC == nil {
			return nil, nil, errors.New("no RBAC authorizer")
		}
		a = o.RBAC
	case TypeABAC:
		if o.ABAC == nil {
			return nil, nil, errors.New("ABAC needs --authorization-policy-file")
		}
		a = o.ABAC
	case TypeWebhook:
		w, err := NewWebhook(ac.Name, ac.Webhook, o)
		if err != nil {
			return nil, nil, err
		}
		a = w
	default:
		return nil, nil, fmt.Errorf("unsupported authorizer type (supported: %s, %s, %s, %s, %s)", TypeRBAC, TypeABAC, TypeAlwaysAllow, TypeAlwaysDeny, TypeWebhook)
	}
	return a, a, nil
}

// NewWebhook builds k8s.io/apiserver's SubjectAccessReview webhook
// authorizer for one configured webhook as kube-apiserver does: its
// timeout, failure policy (the decision when the backend fails), caches
// and CEL match conditions.
func NewWebhook(name string, w *apiserver.WebhookConfiguration, o Options) (*authzwebhook.WebhookAuthorizer, error) {
	if w == nil || w.ConnectionInfo.KubeConfigFile == nil {
		return nil, errors.New("webhook needs connectionInfo.kubeConfigFile (in-cluster connections are not supported)")
	}
	cfg, err := webhook.LoadKubeconfig(*w.ConnectionInfo.KubeConfigFile, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", *w.ConnectionInfo.KubeConfigFile, err)
	}
	if w.Timeout.Duration != 0 {
		cfg.Timeout = w.Timeout.Duration
	}
	if o.WrapTransport != nil {
		if wrap := o.WrapTransport(name); wrap != nil {
			cfg.Wrap(wrap)
		}
	}
	var onError authorizer.Decision
	switch w.FailurePolicy {
	case apiserver.FailurePolicyNoOpinion:
		onError = authorizer.DecisionNoOpinion
	case apiserver.FailurePolicyDeny:
		onError = authorizer.DecisionDeny
	default:
		return nil, fmt.Errorf("unknown failurePolicy %q", w.FailurePolicy)
	}
	authorizedTTL, unauthorizedTTL := w.AuthorizedTTL.Duration, w.UnauthorizedTTL.Duration
	if !w.CacheAuthorizedRequests {
		authorizedTTL = 0
	}
	if !w.CacheUnauthorizedRequests {
		unauthorizedTTL = 0
	}
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	if o.RetryBackoff != nil {
		backoff = *o.RetryBackoff
	}
	return authzwebhook.New(cfg, w.SubjectAccessReviewVersion, authorizedTTL, unauthorizedTTL, backoff, onError,
		w.MatchConditions, name, webhookmetrics.NoopAuthorizerMetrics{}, authorizationcel.NewDefaultCompiler())
}
