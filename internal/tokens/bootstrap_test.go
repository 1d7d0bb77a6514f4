package tokens

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecretutil "k8s.io/cluster-bootstrap/util/secrets"
	"sigs.k8s.io/yaml"
)

var testNow = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// TestCreateBootstrapTokenPassesClusterBootstrap checks created Secrets
// with k8s.io/cluster-bootstrap's own helpers, the ones kube-apiserver's
// bootstrap token authenticator and token cleaner use.
func TestCreateBootstrapTokenPassesClusterBootstrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		req        BootstrapRequest
		wantGroups []string
		wantExp    string
	}{
		{
			name:       "defaults",
			req:        BootstrapRequest{TTL: 24 * time.Hour, Usages: DefaultBootstrapUsages},
			wantGroups: []string{"system:bootstrappers"},
			wantExp:    "2026-11-29T06:00:00Z",
		},
		{
			name:       "extra groups, no expiry, description",
			req:        BootstrapRequest{Usages: []string{"authentication"}, Groups: []string{"system:bootstrappers:kubeadm:default-node-token", "system:bootstrappers:worker"}, Description: "joins workers"},
			wantGroups: []string{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:bootstrappers:worker"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.req.Now = testNow
			res, err := CreateBootstrapToken(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("CreateBootstrapToken() error = %v", err)
			}
			s := res.Secret
			if !bootstraputil.IsValidBootstrapToken(res.Token) {
				t.Errorf("token %q is not valid", res.Token)
			}
			id, ok := bootstrapsecretutil.ParseName(s.Name)
			if !ok || id != res.ID || bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenIDKey) != id {
				t.Errorf("name %q, id %q do not match", s.Name, res.ID)
			}
			if got := bootstraputil.TokenFromIDAndSecret(id, bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenSecretKey)); got != res.Token {
				t.Errorf("secret holds another token")
			}
			if s.Namespace != "kube-system" || s.Type != bootstrapapi.SecretTypeBootstrapToken || s.APIVersion != "v1" || s.Kind != "Secret" {
				t.Errorf("secret meta = %s/%s type %s %s/%s", s.Namespace, s.Name, s.Type, s.APIVersion, s.Kind)
			}
			groups, err := bootstrapsecretutil.GetGroups(s)
			if err != nil {
				t.Fatalf("GetGroups() error = %v", err)
			}
			if diff := cmp.Diff(tc.wantGroups, groups); diff != "" {
				t.Errorf("groups mismatch (-want +got):\n%s", diff)
			}
			if bootstrapsecretutil.HasExpired(s, testNow) {
				t.Error("new token has expired")
			}
			if got := bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenExpirationKey); got != tc.wantExp {
				t.Errorf("expiration = %q, want %q", got, tc.wantExp)
			}
			if got := bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenUsageAuthentication); got != "true" {
				t.Errorf("usage-bootstrap-authentication = %q", got)
			}
			info := InspectBootstrapSecret(s, res.Token[7:], testNow)
			want := &UserInfo{Username: "system:bootstrap:" + id, Groups: append(tc.wantGroups, "system:authenticated")}
			if diff := cmp.Diff(want, info.User); diff != "" {
				t.Errorf("user mismatch (-want +got):\n%s (problems %v)", diff, info.Problems)
			}
			// The printed YAML decodes back to the same Secret.
			y, err := yaml.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ReadBootstrapSecret("s.yaml", y)
			if err != nil {
				t.Fatalf("ReadBootstrapSecret() error = %v", err)
			}
			if diff := cmp.Diff(s.Data, back.Data); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateBootstrapTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     BootstrapRequest
		wantErr string
	}{
		{name: "bad token", req: BootstrapRequest{Token: "ABCDEF.0123456789abcdef"}, wantErr: "--token: not a bootstrap token"},
		{name: "bad usage", req: BootstrapRequest{Usages: []string{"signing", "login"}}, wantErr: "--usages: invalid bootstrap token usage string: login"},
		{name: "bad group", req: BootstrapRequest{Groups: []string{"system:masters"}}, wantErr: "--groups: bootstrap group \"system:masters\" is invalid"},
		{name: "negative ttl", req: BootstrapRequest{TTL: -time.Hour}, wantErr: "--ttl -1h0m0s: expected 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := CreateBootstrapToken(context.Background(), tc.req)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("CreateBootstrapToken() error = %v, want prefix %q", err, tc.wantErr)
			}
		})
	}
}

func TestInspectBootstrapSecret(t *testing.T) {
	t.Parallel()
	base := func(mut func(s *corev1.Secret)) *corev1.Secret {
		s := BootstrapSecret("abcdef", "0123456789abcdef", BootstrapRequest{Now: testNow, TTL: time.Hour, Usages: DefaultBootstrapUsages})
		mut(s)
		return s
	}
	tests := []struct {
		name   string
		secret *corev1.Secret
		token  string
		want   []string
	}{
		{name: "valid", secret: base(func(*corev1.Secret) {}), token: "0123456789abcdef", want: []string{}},
		{name: "wrong secret", secret: base(func(*corev1.Secret) {}), token: "0123456789abcdeX", want: []string{"token-secret does not match the token"}},
		{name: "expired", secret: base(func(s *corev1.Secret) { s.Data["expiration"] = []byte("2026-11-28T05:00:00Z") }), want: []string{"expired at 2026-11-28T05:00:00Z"}},
		{name: "bad expiration", secret: base(func(s *corev1.Secret) { s.Data["expiration"] = []byte("tomorrow") }), want: []string{"expiration \"tomorrow\": not an RFC 3339 time, so kube-apiserver treats the token as expired"}},
		{
			name:   "wrong name, namespace, type",
			secret: base(func(s *corev1.Secret) { s.Name, s.Namespace, s.Type = "tok", "default", corev1.SecretTypeOpaque }),
			want: []string{
				"name \"tok\": expected bootstrap-token-<id> with an id of 6 characters [a-z0-9]",
				"namespace \"default\": bootstrap tokens are read from kube-system only",
				"type \"Opaque\": expected bootstrap.kubernetes.io/token",
			},
		},
		{name: "being deleted", secret: base(func(s *corev1.Secret) { s.DeletionTimestamp = &metav1.Time{Time: testNow} }), want: []string{"the Secret is being deleted"}},
		{name: "id mismatch", secret: base(func(s *corev1.Secret) { s.Data["token-id"] = []byte("zzzzzz") }), want: []string{"token-id \"zzzzzz\" does not match the id \"abcdef\" in the Secret's name"}},
		{
			name: "no authentication usage, unknown usage",
			secret: base(func(s *corev1.Secret) {
				s.Data["usage-bootstrap-authentication"] = []byte("false")
				s.Data["usage-bootstrap-login"] = []byte("true")
			}),
			want: []string{"usage-bootstrap-authentication is not \"true\": kube-apiserver does not accept the token for authentication"},
		},
		{name: "bad groups", secret: base(func(s *corev1.Secret) { s.Data["auth-extra-groups"] = []byte("system:masters") }), want: []string{"auth-extra-groups: bootstrap group \"system:masters\" is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := InspectBootstrapSecret(tc.secret, tc.token, testNow)
			if diff := cmp.Diff(tc.want, got.Problems); diff != "" {
				t.Errorf("Problems mismatch (-want +got):\n%s", diff)
			}
			if tc.name == "no authentication usage, unknown usage" && len(got.Warnings) != 1 {
				t.Errorf("Warnings = %q, want the unknown usage", got.Warnings)
			}
			if (got.User != nil) != (len(tc.want) == 0) {
				t.Errorf("User = %v with problems %v", got.User, got.Problems)
			}
		})
	}
}

func TestBootstrapCluster(t *testing.T) {
	t.Parallel()
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "kube-system"}, Type: corev1.SecretTypeOpaque}
	client := fake.NewClientset(other)
	ctx := context.Background()
	for _, tok := range []string{"bbbbbb.0123456789abcdef", "aaaaaa.0123456789abcdef"} {
		res, err := CreateBootstrapToken(ctx, BootstrapRequest{Token: tok, TTL: time.Hour, Usages: DefaultBootstrapUsages, Now: testNow, Client: client})
		if err != nil || !res.Applied {
			t.Fatalf("CreateBootstrapToken(apply) = %v, %v", res, err)
		}
	}
	if _, err := CreateBootstrapToken(ctx, BootstrapRequest{Token: "aaaaaa.0123456789abcdef", Now: testNow, Client: client}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create error = %v", err)
	}
	list, err := ListBootstrapTokens(ctx, client, testNow.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range list {
		ids = append(ids, b.ID)
		if b.TTLSeconds != 1800 || !b.Valid() {
			t.Errorf("token %s: ttl %d, problems %v", b.ID, b.TTLSeconds, b.Problems)
		}
	}
	if diff := cmp.Diff([]string{"aaaaaa", "bbbbbb"}, ids); diff != "" {
		t.Errorf("ids mismatch (-want +got):\n%s", diff)
	}
	name, err := DeleteBootstrapToken(ctx, client, "aaaaaa.0123456789abcdef")
	if err != nil || name != "bootstrap-token-aaaaaa" {
		t.Fatalf("DeleteBootstrapToken() = %q, %v", name, err)
	}
	if _, err := DeleteBootstrapToken(ctx, client, "aaaaaa"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("delete again error = %v", err)
	}
	if _, err := DeleteBootstrapToken(ctx, client, "AB"); err == nil || !strings.Contains(err.Error(), "not a token id") {
		t.Errorf("delete bad id error = %v", err)
	}
	if _, err := client.CoreV1().Secrets("kube-system").Get(ctx, "other", metav1.GetOptions{}); err != nil {
		t.Errorf("unrelated secret gone: %v", err)
	}
}

func TestValidateBootstrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arg     string
		want    []string
		wantErr string
	}{
		{name: "valid file", arg: "testdata/secrets/valid.yaml", want: []string{}},
		{name: "bad groups", arg: "testdata/secrets/invalid-groups.yaml", want: []string{"auth-extra-groups: bootstrap group \"system:masters\" is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)"}},
		{name: "not a secret", arg: "testdata/secrets/invalid-kind.json", wantErr: "testdata/secrets/invalid-kind.json:1: apiVersion \"v1\", kind \"ConfigMap\": expected apiVersion v1, kind Secret"},
		{name: "missing file", arg: "testdata/nope.yaml", wantErr: "reading testdata/nope.yaml: file does not exist"},
		{name: "token", arg: "abcdef.0123456789abcdef", want: []string{}},
		{name: "bad token", arg: "abcdef.0123", want: []string{"not a bootstrap token: expected the form \\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateBootstrap(tc.arg, testNow)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ValidateBootstrap() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Problems); diff != "" {
				t.Errorf("Problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzReadBootstrapSecret(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "secrets", "*"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadBootstrapSecret("s.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "s.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		info := InspectBootstrapSecret(s, "", testNow)
		if info.Valid() != (info.User != nil) {
			t.Fatalf("Valid() = %v but User = %v", info.Valid(), info.User)
		}
		if info.Valid() {
			if _, err := bootstrapsecretutil.GetGroups(s); err != nil {
				t.Fatalf("valid secret with bad groups: %v", err)
			}
			if bootstrapsecretutil.HasExpired(s, testNow) {
				t.Fatal("valid secret has expired")
			}
		}
	})
}
