package serve

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
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
	fs.StringSliceVar(&c.AuthorizationModes, "authorization-mode", c.AuthorizationModes, "ordered list of authorizers after system:masters: RBAC, AlwaysAllow, AlwaysDeny")
	fs.StringVar(&c.AuditLogPath, "audit-log-path", "", "write audit events as JSON lines to FILE (- for stdout)")
	fs.StringVar(&c.AuditPolicyFile, "audit-policy-file", "", "audit policy (audit.k8s.io/v1 Policy); without it every request is logged at Metadata level")
	fs.IntVar(&c.MaxRequestsInFlight, "max-requests-inflight", c.MaxRequestsInFlight, "maximum non-mutating requests in flight (0 is unlimited)")
	fs.IntVar(&c.MaxMutatingRequestsInFlight, "max-mutating-requests-inflight", c.MaxMutatingRequestsInFlight, "maximum mutating requests in flight (0 is unlimited)")
	cli.DurationVar(fs, &c.RequestTimeout, "request-timeout", c.RequestTimeout, "default timeout of non-long-running requests")
	_ = cmd.RegisterFlagCompletionFunc("authorization-mode", cobra.FixedCompletions(localserver.SupportedAuthorizationModes(), cobra.ShellCompDirectiveNoFileComp))
}
