package serve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/admission"
	"github.com/kauth/kauth/internal/localserver"
)

// addFlags binds kube-apiserver's flags, with its names and meanings, to c.
func addFlags(cmd *cobra.Command, c *localserver.Config) {
	fs := cmd.Flags()
	fs.StringVar(&c.Listen, "listen", c.Listen, "HOST:PORT to serve TLS on (port 0 picks a free port)")
	fs.StringVar(&c.DataDir, "data-dir", "", "keep the PKI, the kubeconfig and every object in DIR (bbolt); in memory when empty")
	fs.StringVar(&c.KubeconfigOut, "kubeconfig-out", "", "write the admin kubeconfig to FILE (default DIR/kubeconfig with --data-dir, else a temporary file)")
	fs.StringArrayVar(&c.Seed, "seed", nil, "create the objects of PATH at start: a file, a folder (recursive), - for stdin, or git:REF:PATH (repeatable)")
	cli.ForceFlag(cmd, &c.Force)
	fs.StringVar(&c.ClientCAFile, "client-ca-file", "", "verify client certificates with the CA bundle in FILE instead of the serve CA (the admin kubeconfig then uses a token)")
	fs.StringVar(&c.TokenAuthFile, "token-auth-file", "", "authenticate bearer tokens listed in FILE (token,user,uid[,\"group1,group2\"])")
	fs.BoolVar(&c.EnableBootstrapTokenAuth, "enable-bootstrap-token-auth", false, "authenticate bootstrap tokens from Secrets of type bootstrap.kubernetes.io/token in kube-system")
	fs.StringArrayVar(&c.ServiceAccountKeyFiles, "service-account-key-file", nil, "also verify service-account tokens with the public keys in FILE (repeatable)")
	fs.StringVar(&c.ServiceAccountSigningKeyFile, "service-account-signing-key-file", "", "sign service-account tokens with the private key in FILE (default: a key the server makes)")
	fs.StringArrayVar(&c.ServiceAccountIssuers, "service-account-issuer", nil, "issuer of service-account tokens; the first signs, all are accepted (default "+localserver.DefaultServiceAccountIssuer+")")
	fs.BoolVar(&c.AnonymousAuth, "anonymous-auth", c.AnonymousAuth, "authenticate requests without credentials as system:anonymous")
	fs.StringSliceVar(&c.AuthorizationModes, "authorization-mode", c.AuthorizationModes, "ordered list of authorizers after system:masters: RBAC, AlwaysAllow, AlwaysDeny, Webhook, ABAC")
	fs.StringVar(&c.AuditLogPath, "audit-log-path", "", "write audit events as JSON lines to FILE (- for stdout)")
	fs.StringVar(&c.AuditPolicyFile, "audit-policy-file", "", "audit policy (audit.k8s.io/v1 Policy); without it every request is logged at Metadata level")
	fs.IntVar(&c.MaxRequestsInFlight, "max-requests-inflight", c.MaxRequestsInFlight, "maximum non-mutating requests in flight (0 is unlimited)")
	fs.IntVar(&c.MaxMutatingRequestsInFlight, "max-mutating-requests-inflight", c.MaxMutatingRequestsInFlight, "maximum mutating requests in flight (0 is unlimited)")
	cli.DurationVar(fs, &c.RequestTimeout, "request-timeout", c.RequestTimeout, "default timeout of non-long-running requests")
	fs.BoolVar(&c.Profiling, "profiling", c.Profiling, "serve /debug/pprof (Go's profiles: goroutines, heap, CPU) to users allowed the nonResourceURL, as kube-apiserver does")
	fs.BoolVar(&c.EnablePriorityAndFairness, "enable-priority-and-fairness", c.EnablePriorityAndFairness, "queue requests with API Priority and Fairness (the stored FlowSchemas and PriorityLevelConfigurations); off, the in-flight limits apply")
	fs.StringSliceVar(&c.EnableAdmissionPlugins, "enable-admission-plugins", nil, "admission plugins to enable in addition to the default ones ("+strings.Join(admission.DefaultEnabled(), ", ")+"); they run in kube-apiserver's order whatever the order here")
	fs.StringSliceVar(&c.DisableAdmissionPlugins, "disable-admission-plugins", nil, "default admission plugins to disable")
	addExternalFlags(cmd, c)
	_ = cmd.RegisterFlagCompletionFunc("enable-admission-plugins", cobra.FixedCompletions(admission.OrderedPlugins(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("disable-admission-plugins", cobra.FixedCompletions(admission.DefaultEnabled(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("authorization-mode", cobra.FixedCompletions(localserver.SupportedAuthorizationModes(), cobra.ShellCompDirectiveNoFileComp))
}

// addExternalFlags binds kube-apiserver's external identity flags: OIDC,
// structured authentication and authorization configuration, webhooks,
// ABAC, and kauth's --client-crl-file.
func addExternalFlags(cmd *cobra.Command, c *localserver.Config) {
	fs := cmd.Flags()
	o := &c.ExternalAuthn.OIDC
	fs.StringVar(&o.IssuerURL, "oidc-issuer-url", "", "URL of the OpenID issuer (https); its ID tokens authenticate users")
	fs.StringVar(&o.ClientID, "oidc-client-id", "", "client ID every ID token must be issued for (its aud)")
	fs.StringVar(&o.CAFile, "oidc-ca-file", "", "CA bundle that verifies the issuer's serving certificate (default: the host's roots)")
	fs.StringVar(&o.UsernameClaim, "oidc-username-claim", o.UsernameClaim, "JWT claim used as the user name; other than email it is prefixed with the issuer URL and # unless --oidc-username-prefix is set")
	fs.StringVar(&o.UsernamePrefix, "oidc-username-prefix", "", "prefix of user names (- for none)")
	fs.StringVar(&o.GroupsClaim, "oidc-groups-claim", "", "JWT claim holding the user's groups (a string or an array of strings)")
	fs.StringVar(&o.GroupsPrefix, "oidc-groups-prefix", "", "prefix of group names")
	fs.StringSliceVar(&o.SigningAlgs, "oidc-signing-algs", o.SigningAlgs, "signing algorithms accepted")
	fs.Var(&claimsValue{m: &o.RequiredClaims}, "oidc-required-claim", "KEY=VALUE claim every ID token must carry (repeatable)")
	a := &c.ExternalAuthn
	fs.StringVar(&a.AuthenticationConfigFile, "authentication-config", "", "AuthenticationConfiguration file (apiserver.config.k8s.io/v1): JWT issuers with claim mappings and CEL rules, anonymous settings; excludes --oidc-*")
	fs.StringVar(&a.TokenWebhookConfigFile, "authentication-token-webhook-config-file", "", "kubeconfig-format file of a TokenReview webhook (see kauth webhook config)")
	fs.StringVar(&a.TokenWebhookVersion, "authentication-token-webhook-version", a.TokenWebhookVersion, "TokenReview version sent to the webhook: v1 or v1beta1")
	cli.DurationVar(fs, &a.TokenWebhookCacheTTL, "authentication-token-webhook-cache-ttl", a.TokenWebhookCacheTTL, "how long the webhook's answers are cached")
	fs.StringVar(&a.ClientCRLFile, "client-crl-file", "", "refuse client certificates revoked in this CRL (as kauth cert revoke writes it); re-read when it changes")
	fs.StringVar(&c.AuthorizationConfigFile, "authorization-config", "", "AuthorizationConfiguration file: ordered RBAC, ABAC, AlwaysAllow, AlwaysDeny and Webhook authorizers; excludes --authorization-mode")
	w := &c.AuthorizationWebhook
	fs.StringVar(&w.ConfigFile, "authorization-webhook-config-file", "", "kubeconfig-format file of a SubjectAccessReview webhook, for --authorization-mode Webhook")
	fs.StringVar(&w.Version, "authorization-webhook-version", w.Version, "SubjectAccessReview version sent to the webhook: v1 or v1beta1")
	cli.DurationVar(fs, &w.AuthorizedTTL, "authorization-webhook-cache-authorized-ttl", w.AuthorizedTTL, "how long the webhook's allowed answers are cached")
	cli.DurationVar(fs, &w.UnauthorizedTTL, "authorization-webhook-cache-unauthorized-ttl", w.UnauthorizedTTL, "how long the webhook's other answers are cached")
	fs.StringVar(&c.AuthorizationPolicyFile, "authorization-policy-file", "", "ABAC policy, one JSON object per line, for --authorization-mode ABAC")
}

// claimsValue is --oidc-required-claim KEY=VALUE, repeatable; commas stay
// in the value, as in kube-apiserver.
type claimsValue struct{ m *map[string]string }

func (v *claimsValue) String() string {
	if v.m == nil || len(*v.m) == 0 {
		return ""
	}
	var parts []string
	for k, val := range *v.m {
		parts = append(parts, k+"="+val)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// Set adds one KEY=VALUE.
func (v *claimsValue) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: expected KEY=VALUE", s)
	}
	if *v.m == nil {
		*v.m = map[string]string{}
	}
	(*v.m)[k] = val
	return nil
}

// Type names the value in help.
func (*claimsValue) Type() string { return "KEY=VALUE" }
