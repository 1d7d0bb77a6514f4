package serve

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/localserver"
	"github.com/kauth/kauth/internal/output"
)

func TestNewServeCmd(t *testing.T) {
	t.Parallel()
	def := localserver.Default()
	tests := []struct {
		name        string
		args        []string
		wantConfig  func(*localserver.Config)
		wantCommand []string
		wantErr     string
	}{
		{name: "defaults", args: nil},
		{
			name: "kube-apiserver flags",
			args: []string{
				"--listen", "0.0.0.0:7443", "--data-dir", "d", "--kubeconfig-out", "kc", "--seed", "a/", "--seed", "b.yaml",
				"--client-ca-file", "ca.crt", "--token-auth-file", "t.csv", "--enable-bootstrap-token-auth",
				"--service-account-key-file", "1.pub", "--service-account-key-file", "2.pub", "--service-account-signing-key-file", "sa.key",
				"--service-account-issuer", "https://a", "--service-account-issuer", "https://b", "--anonymous-auth=false",
				"--authorization-mode", "AlwaysDeny,RBAC", "--audit-log-path", "-", "--audit-policy-file", "p.yaml",
				"--max-requests-inflight", "10", "--max-mutating-requests-inflight", "5", "--request-timeout", "2m", "--force", "--profiling=false",
			},
			wantConfig: func(c *localserver.Config) {
				c.Listen, c.DataDir, c.KubeconfigOut, c.Seed = "0.0.0.0:7443", "d", "kc", []string{"a/", "b.yaml"}
				c.ClientCAFile, c.TokenAuthFile, c.EnableBootstrapTokenAuth = "ca.crt", "t.csv", true
				c.ServiceAccountKeyFiles, c.ServiceAccountSigningKeyFile = []string{"1.pub", "2.pub"}, "sa.key"
				c.ServiceAccountIssuers, c.AnonymousAuth, c.AnonymousAuthSet = []string{"https://a", "https://b"}, false, true
				c.AuthorizationModes, c.AuditLogPath, c.AuditPolicyFile = []string{"AlwaysDeny", "RBAC"}, "-", "p.yaml"
				c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight, c.RequestTimeout, c.Force = 10, 5, 2*time.Minute, true
				c.Profiling = false
			},
		},
		{
			name: "external identity flags",
			args: []string{
				"--oidc-issuer-url", "https://idp", "--oidc-client-id", "kauth", "--oidc-ca-file", "idp.crt", "--oidc-username-claim", "email",
				"--oidc-username-prefix", "-", "--oidc-groups-claim", "groups", "--oidc-groups-prefix", "oidc:", "--oidc-required-claim", "hd=example.com,x",
				"--authentication-token-webhook-config-file", "authn.kubeconfig", "--authentication-token-webhook-cache-ttl", "30s", "--client-crl-file", "ca.crl",
				"--authorization-mode", "RBAC,ABAC,Webhook", "--authorization-policy-file", "abac.jsonl", "--authorization-webhook-config-file", "authz.kubeconfig",
				"--authorization-webhook-cache-authorized-ttl", "1m", "--authorization-webhook-cache-unauthorized-ttl", "0s",
			},
			wantConfig: func(c *localserver.Config) {
				c.ExternalAuthn.OIDC.IssuerURL, c.ExternalAuthn.OIDC.ClientID, c.ExternalAuthn.OIDC.CAFile = "https://idp", "kauth", "idp.crt"
				c.ExternalAuthn.OIDC.UsernameClaim, c.ExternalAuthn.OIDC.UsernamePrefix = "email", "-"
				c.ExternalAuthn.OIDC.GroupsClaim, c.ExternalAuthn.OIDC.GroupsPrefix = "groups", "oidc:"
				c.ExternalAuthn.OIDC.RequiredClaims = map[string]string{"hd": "example.com,x"}
				c.ExternalAuthn.TokenWebhookConfigFile, c.ExternalAuthn.TokenWebhookCacheTTL, c.ExternalAuthn.ClientCRLFile = "authn.kubeconfig", 30*time.Second, "ca.crl"
				c.AuthorizationModes, c.AuthorizationPolicyFile = []string{"RBAC", "ABAC", "Webhook"}, "abac.jsonl"
				c.AuthorizationWebhook.ConfigFile, c.AuthorizationWebhook.AuthorizedTTL, c.AuthorizationWebhook.UnauthorizedTTL = "authz.kubeconfig", time.Minute, 0
			},
		},
		{name: "authorization config replaces the default mode", args: []string{"--authorization-config", "authz.yaml"}, wantConfig: func(c *localserver.Config) {
			c.AuthorizationConfigFile, c.AuthorizationModes = "authz.yaml", nil
		}},
		{name: "authorization config and mode", args: []string{"--authorization-config", "authz.yaml", "--authorization-mode", "RBAC"}, wantErr: "--authorization-config and --authorization-mode are mutually exclusive"},
		{name: "authentication config and oidc", args: []string{"--authentication-config", "a.yaml", "--oidc-issuer-url", "https://idp"}, wantErr: "--authentication-config and --oidc-* flags are mutually exclusive"},
		{name: "command after --", args: []string{"--listen", "127.0.0.1:0", "--", "kubectl", "get", "pods"}, wantConfig: func(c *localserver.Config) { c.Listen = "127.0.0.1:0" }, wantCommand: []string{"kubectl", "get", "pods"}},
		{name: "argument without --", args: []string{"kubectl"}, wantErr: `unexpected argument "kubectl": put a command to run after "--"`},
		{name: "bad mode", args: []string{"--authorization-mode", "Node"}, wantErr: `--authorization-mode "Node": must be one of RBAC, AlwaysAllow, AlwaysDeny, Webhook, ABAC`},
		{name: "bad duration", args: []string{"--request-timeout", "soon"}, wantErr: `invalid argument "soon" for "--request-timeout" flag: "soon" is not a duration (examples: 90m, 12h, 30d, 1y)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			streams, _, _, _ := output.Test()
			f := &cli.Factory{IO: streams, Clock: time.Now, Getenv: func(string) string { return "" }}
			var got *serveOptions
			cmd := newServeCmd(f, func(_ context.Context, o *serveOptions) error { got = o; return nil })
			cmd.SetArgs(tc.args)
			cmd.SetOut(streams.Out)
			cmd.SetErr(streams.ErrOut)
			err := cmd.Execute()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				if code := cli.ExitCode(err); code != cli.ExitUsage && !regexp.MustCompile(`flag`).MatchString(err.Error()) {
					t.Errorf("exit code %d, want %d", code, cli.ExitUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := def
			if tc.wantConfig != nil {
				tc.wantConfig(&want)
			}
			if diff := cmp.Diff(want, got.Config, cmpopts.IgnoreFields(localserver.Config{}, "Logger", "Now", "Rand", "Stdin", "AuditOut")); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCommand, got.Command); diff != "" {
				t.Errorf("command mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunServe(t *testing.T) {
	t.Parallel()
	streams, _, out, errOut := output.Test()
	o := &serveOptions{IO: streams, Clock: time.Now, Format: output.JSON, Config: localserver.Default(), Command: []string{"sh", "-c", "test -s \"$KUBECONFIG\"; exit 7"}}
	o.Config.Listen = "127.0.0.1:0"
	o.Config.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")
	err := runServe(context.Background(), o)
	var re *cli.ResultError
	if !errors.As(err, &re) || re.Code != 7 {
		t.Fatalf("runServe() = %v, want the command's exit code 7", err)
	}
	for _, re := range []string{`(?m)^kauth serve: ready on https://127\.0\.0\.1:\d+ in \S+$`, `(?m)^export KUBECONFIG=` + regexp.QuoteMeta(o.Config.KubeconfigOut) + `$`} {
		if !regexp.MustCompile(re).MatchString(errOut.String()) {
			t.Errorf("stderr %q does not match %s", errOut.String(), re)
		}
	}
	if !regexp.MustCompile(`"kubeconfig": "` + regexp.QuoteMeta(o.Config.KubeconfigOut) + `"`).MatchString(out.String()) {
		t.Errorf("stdout %q lacks the kubeconfig path", out.String())
	}
}

func TestWarnIfExposed(t *testing.T) {
	t.Parallel()
	for listen, want := range map[string]string{
		"127.0.0.1:6443": "",
		"[::1]:6443":     "",
		"localhost:6443": "",
		"0.0.0.0:6443":   "kauth: warning: --listen 0.0.0.0:6443 is reachable from other machines; kauth serve is a sandbox\n",
		"10.0.0.5:6443":  "kauth: warning: --listen 10.0.0.5:6443 is reachable from other machines; kauth serve is a sandbox\n",
	} {
		streams, _, _, errOut := output.Test()
		warnIfExposed(streams, listen)
		if got := errOut.String(); got != want {
			t.Errorf("warnIfExposed(%q) printed %q, want %q", listen, got, want)
		}
	}
}
