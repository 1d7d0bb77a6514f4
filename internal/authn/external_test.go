package authn

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/authn/oidctest"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "oidc-ca.crt")
	if err := os.WriteFile(caFile, iss.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	authnCfg := filepath.Join(dir, "authn.yaml")
	data := replace(replace(authnConfigTmpl, "ISSUER", iss.URL), "CA\n", indent(string(iss.CAPEM), "      "))
	if err := os.WriteFile(authnCfg, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newTokenBackend(t)
	tests := []struct {
		name       string
		flags      Flags
		flagSet    bool
		wantTokens int
		wantAnon   bool
		wantErr    string
	}{
		{"oidc flags and webhook", Flags{OIDC: OIDCFlags{IssuerURL: iss.URL, ClientID: "kauth", CAFile: caFile}, TokenWebhookConfigFile: writeWebhookKubeconfig(t, b.srv), TokenWebhookCacheTTL: time.Minute}, false, 2, false, ""},
		{"config file", Flags{AuthenticationConfigFile: authnCfg}, false, 1, true, ""},
		{"config file and --anonymous-auth", Flags{AuthenticationConfigFile: authnCfg}, true, 1, false, "--anonymous-auth cannot be set"},
		{"config file and oidc flags", Flags{AuthenticationConfigFile: authnCfg, OIDC: OIDCFlags{IssuerURL: iss.URL}}, false, 0, false, "mutually exclusive"},
		{"client id missing", Flags{OIDC: OIDCFlags{IssuerURL: iss.URL}}, false, 0, false, "must be specified together"},
		{"bad webhook version", Flags{TokenWebhookVersion: "v2"}, false, 0, false, "must be v1 or v1beta1"},
		{"nothing", Flags{}, false, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ext, err := Build(context.Background(), tc.flags, BuildOptions{})
			if err == nil {
				_, err = ext.AnonymousConfig(tc.flagSet, false)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			anon, _ := ext.AnonymousConfig(false, false)
			if diff := cmp.Diff([]any{tc.wantTokens, tc.wantAnon}, []any{len(ext.Tokens), anon.Enabled}); diff != "" {
				t.Errorf("tokens, anonymous mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// The flags' issuer works end to end: username prefixed with the
	// issuer URL, as kube-apiserver does for a claim other than email.
	ext, err := Build(context.Background(), Flags{OIDC: OIDCFlags{IssuerURL: iss.URL, ClientID: "kauth", CAFile: caFile}}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ext.JWT.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Sign(oidctest.Claims{"sub": "u-9", "aud": "kauth"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, ok, err := ext.Tokens[0].AuthenticateToken(context.Background(), tok)
	if err != nil || !ok || resp.User.GetName() != iss.URL+"#u-9" {
		t.Errorf("AuthenticateToken = %v, %v, %v; want %s#u-9", resp, ok, err, iss.URL)
	}
}
