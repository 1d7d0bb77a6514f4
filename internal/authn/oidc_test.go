package authn

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/apis/apiserver"

	"github.com/kauth/kauth/internal/authn/oidctest"
)

type identity struct {
	Name   string
	Groups []string
	Extra  map[string][]string
}

func startIssuer(t *testing.T) *oidctest.Issuer {
	t.Helper()
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	return iss
}

func newReadyJWT(t *testing.T, jwts []apiserver.JWTAuthenticator, opts JWTOptions) *JWT {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	j, err := NewJWT(ctx, jwts, opts)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := j.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return j
}

func authenticate(t *testing.T, j *JWT, token string) (*identity, error) {
	t.Helper()
	resp, ok, err := j.AuthenticateToken(context.Background(), token)
	if err != nil || !ok {
		return nil, err
	}
	return &identity{Name: resp.User.GetName(), Groups: resp.User.GetGroups(), Extra: resp.User.GetExtra()}, nil
}

func TestOIDCFromFlags(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	caFile := filepath.Join(t.TempDir(), "oidc-ca.crt")
	if err := os.WriteFile(caFile, iss.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	flags := OIDCFlags{
		IssuerURL: iss.URL, ClientID: "kauth", UsernameClaim: "email", GroupsClaim: "groups",
		GroupsPrefix: "oidc:", CAFile: caFile, RequiredClaims: map[string]string{"hd": "example.com"},
	}
	jwtCfg, err := flags.JWTAuthenticator()
	if err != nil {
		t.Fatal(err)
	}
	j := newReadyJWT(t, []apiserver.JWTAuthenticator{jwtCfg}, JWTOptions{})
	now := time.Now()
	good := oidctest.Claims{"sub": "u-1", "aud": "kauth", "email": "alice@example.com", "email_verified": true, "groups": []string{"dev", "ops"}, "hd": "example.com"}

	tests := []struct {
		name    string
		sign    func() (string, error)
		want    *identity
		wantErr bool
	}{
		{"mapped username and groups", func() (string, error) { return iss.Sign(good, now) },
			&identity{Name: "alice@example.com", Groups: []string{"oidc:dev", "oidc:ops"}}, false},
		{"expired", func() (string, error) {
			return iss.Sign(with(good, "exp", now.Add(-time.Minute).Unix(), "iat", now.Add(-time.Hour).Unix()), now)
		}, nil, true},
		{"wrongly signed", func() (string, error) { return iss.SignWithForeignKey(good, now) }, nil, true},
		{"wrong audience", func() (string, error) { return iss.Sign(with(good, "aud", "other"), now) }, nil, true},
		{"required claim missing", func() (string, error) { return iss.Sign(with(good, "hd", "evil.com"), now) }, nil, true},
		{"email not verified", func() (string, error) { return iss.Sign(with(good, "email_verified", false), now) }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.sign()
			if err != nil {
				t.Fatal(err)
			}
			got, err := authenticate(t, j, tok)
			if (err != nil) != tc.wantErr {
				t.Fatalf("AuthenticateToken() error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AuthenticateToken() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func with(c oidctest.Claims, kv ...any) oidctest.Claims {
	out := oidctest.Claims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestOIDCFlagsPrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flags OIDCFlags
		want  string
	}{
		{"sub gets issuer prefix", OIDCFlags{IssuerURL: "https://idp", ClientID: "c"}, "https://idp#"},
		{"email has no prefix", OIDCFlags{IssuerURL: "https://idp", ClientID: "c", UsernameClaim: "email"}, ""},
		{"dash means none", OIDCFlags{IssuerURL: "https://idp", ClientID: "c", UsernamePrefix: "-"}, ""},
		{"explicit", OIDCFlags{IssuerURL: "https://idp", ClientID: "c", UsernamePrefix: "oidc:"}, "oidc:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j, err := tc.flags.JWTAuthenticator()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *j.ClaimMappings.Username.Prefix); diff != "" {
				t.Errorf("prefix mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (OIDCFlags{IssuerURL: "https://idp"}).JWTAuthenticator(); err == nil {
		t.Error("issuer without client id: want error")
	}
}

const authnConfigTmpl = `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: ISSUER
    audiences: [kauth]
    certificateAuthority: |
CA
  claimValidationRules:
  - expression: 'claims.hd == "example.com"'
    message: hosted domain must be example.com
  claimMappings:
    username:
      expression: '"oidc:" + claims.preferred_username'
    groups:
      expression: 'claims.roles.split(",").map(r, "role:" + r)'
    uid:
      claim: sub
    extra:
    - key: example.com/tenant
      valueExpression: claims.tenant
  userValidationRules:
  - expression: "!user.username.startsWith('oidc:system:')"
    message: username cannot use reserved system prefix
anonymous:
  enabled: true
  conditions:
  - path: /healthz
`

func TestOIDCFromAuthenticationConfiguration(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	data := authnConfigTmpl
	data = replace(data, "ISSUER", iss.URL)
	data = replace(data, "CA\n", indent(string(iss.CAPEM), "      "))
	cfg, err := ParseAuthenticationConfiguration("authn.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Anonymous == nil || !cfg.Anonymous.Enabled || len(cfg.Anonymous.Conditions) != 1 {
		t.Fatalf("anonymous settings not read: %+v", cfg.Anonymous)
	}
	j := newReadyJWT(t, cfg.JWT, JWTOptions{SigningAlgs: []string{"RS256"}})
	now := time.Now()
	base := oidctest.Claims{"sub": "u-7", "aud": "kauth", "preferred_username": "bob", "roles": "admin,dev", "tenant": "blue", "hd": "example.com"}
	tests := []struct {
		name    string
		claims  oidctest.Claims
		want    *identity
		wantErr bool
	}{
		{"CEL mappings", base, &identity{Name: "oidc:bob", Groups: []string{"role:admin", "role:dev"}, Extra: map[string][]string{"example.com/tenant": {"blue"}}}, false},
		{"claim validation rule", with(base, "hd", "other.com"), nil, true},
		{"user validation rule", with(base, "preferred_username", "system:admin"), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := iss.Sign(tc.claims, now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := authenticate(t, j, tok)
			if (err != nil) != tc.wantErr {
				t.Fatalf("AuthenticateToken() error = %v, wantErr %v", err, tc.wantErr)
			}
			if got != nil {
				delete(got.Extra, "authentication.kubernetes.io/credential-id")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AuthenticateToken() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAuthenticationConfigurationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"unknown field", "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nbogus: 1\n"},
		{"http issuer", "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'http://x', audiences: [a]}\n  claimMappings: {username: {claim: sub, prefix: ''}}\n"},
		{"bad CEL", "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://x', audiences: [a]}\n  claimMappings: {username: {expression: 'claims.('}}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseAuthenticationConfiguration("a.yaml", []byte(tc.data)); err == nil {
				t.Error("want error")
			}
		})
	}
}
