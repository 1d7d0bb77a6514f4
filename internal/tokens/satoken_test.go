package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// writeKey writes a PKCS#8 private key and its PKIX public key to dir
// and returns their paths.
func writeKey(t *testing.T, dir, name string, key crypto.Signer) (priv, pub string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestIssueServiceAccountTokenVerifies(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		key     crypto.Signer
		alg     string
		aud     []string
		wantAud []string
	}{
		{name: "rsa", key: rsaKey, alg: "RS256", aud: []string{"api", "vault"}, wantAud: []string{"api", "vault"}},
		{name: "ecdsa p-256, audience defaults to issuer", key: ecKey, alg: "ES256", wantAud: []string{"https://kubernetes.default.svc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			priv, pub := writeKey(t, dir, "sa", tc.key)
			res, err := IssueServiceAccountToken(IssueRequest{
				SigningKeyFile: priv, Issuer: "https://kubernetes.default.svc", Namespace: "team-a", Name: "deployer",
				UID: "3f1c2d4e-0000-4000-8000-000000000001", Audiences: tc.aud, TTL: time.Hour, Now: testNow,
				Rand: bytes.NewReader(bytes.Repeat([]byte{1}, 16)),
			})
			if err != nil {
				t.Fatalf("IssueServiceAccountToken() error = %v", err)
			}
			tok, err := jwt.ParseSigned(res.Token)
			if err != nil {
				t.Fatal(err)
			}
			if h := tok.Headers[0]; h.Algorithm != tc.alg || h.KeyID != res.KeyID {
				t.Errorf("header alg=%s kid=%s, want %s %s", h.Algorithm, h.KeyID, tc.alg, res.KeyID)
			}
			var public jwt.Claims
			var raw map[string]any
			if err := tok.Claims(tc.key.Public(), &public, &raw); err != nil {
				t.Fatalf("signature does not verify with the public key: %v", err)
			}
			if err := public.Validate(jwt.Expected{Issuer: "https://kubernetes.default.svc", Subject: apiserverserviceaccount.MakeUsername("team-a", "deployer"), Audience: tc.wantAud, Time: testNow}); err != nil {
				t.Errorf("claims do not validate: %v", err)
			}
			wantClaims := map[string]any{
				"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:team-a:deployer",
				"exp": float64(testNow.Add(time.Hour).Unix()), "iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()),
				"jti": "01010101-0101-4101-8101-010101010101",
				"kubernetes.io": map[string]any{
					"namespace":      "team-a",
					"serviceaccount": map[string]any{"name": "deployer", "uid": "3f1c2d4e-0000-4000-8000-000000000001"},
				},
			}
			// go-jose, which kube-apiserver uses too, always writes aud as
			// an array.
			var wantAud []any
			for _, a := range tc.wantAud {
				wantAud = append(wantAud, a)
			}
			wantClaims["aud"] = wantAud
			if diff := cmp.Diff(wantClaims, raw); diff != "" {
				t.Errorf("claims mismatch (-want +got):\n%s", diff)
			}
			info, err := InspectJWT(res.Token, VerifyOptions{KeyFile: pub, Issuers: []string{"https://kubernetes.default.svc"}, Audiences: tc.wantAud[:1], Now: testNow.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			wantUser := &UserInfo{
				Username: "system:serviceaccount:team-a:deployer", UID: "3f1c2d4e-0000-4000-8000-000000000001",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"},
				Extra:  map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=01010101-0101-4101-8101-010101010101"}},
			}
			if diff := cmp.Diff(wantUser, info.User); diff != "" || !info.SignatureVerified || len(info.Problems) != 0 {
				t.Errorf("InspectJWT() user mismatch (-want +got):\n%s\nverified=%v problems=%v", diff, info.SignatureVerified, info.Problems)
			}
		})
	}
}

func TestInspectJWTProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	priv, _ := writeKey(t, dir, "sa", key)
	_, otherPub := writeKey(t, dir, "other", other)
	res, err := IssueServiceAccountToken(IssueRequest{SigningKeyFile: priv, Issuer: "https://issuer", Namespace: "ns", Name: "sa", UID: "u", TTL: time.Hour, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts VerifyOptions
		want []string
	}{
		{name: "other key", opts: VerifyOptions{KeyFile: otherPub, Now: testNow}, want: []string{"signature does not verify with any key in " + otherPub + ": the token was signed with another key"}},
		{name: "expired", opts: VerifyOptions{Now: testNow.Add(2 * time.Hour)}, want: []string{"exp: the token expired at 2026-11-28T07:00:00Z"}},
		{name: "within leeway", opts: VerifyOptions{Now: testNow.Add(time.Hour + 30*time.Second)}, want: []string{}},
		{name: "not yet valid", opts: VerifyOptions{Now: testNow.Add(-2 * time.Minute)}, want: []string{"nbf: the token is not valid before 2026-11-28T06:00:00Z"}},
		{name: "issuer and audience", opts: VerifyOptions{Issuers: []string{"https://other"}, Audiences: []string{"api"}, Now: testNow}, want: []string{
			"issuer \"https://issuer\" is not one of https://other: kube-apiserver's service-account authenticator ignores the token",
			"audiences [\"https://issuer\"] do not include any of the API audiences [\"api\"]",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info, err := InspectJWT(res.Token, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, info.Problems); diff != "" {
				t.Errorf("Problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIssueServiceAccountTokenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notKey := filepath.Join(dir, "not.key")
	if err := os.WriteFile(notKey, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     IssueRequest
		wantErr string
	}{
		{name: "no issuer", req: IssueRequest{Namespace: "a", Name: "b", TTL: time.Hour}, wantErr: "--issuer is required"},
		{name: "bad namespace", req: IssueRequest{Issuer: "i", Namespace: "A_B", Name: "b", TTL: time.Hour}, wantErr: "--namespace \"A_B\":"},
		{name: "bad name", req: IssueRequest{Issuer: "i", Namespace: "a", Name: "", TTL: time.Hour}, wantErr: "--name \"\":"},
		{name: "no ttl", req: IssueRequest{Issuer: "i", Namespace: "a", Name: "b"}, wantErr: "--ttl 0s: expected a positive duration"},
		{name: "not a key", req: IssueRequest{SigningKeyFile: notKey, Issuer: "i", Namespace: "a", Name: "b", TTL: time.Hour}, wantErr: notKey + ": data does not contain a valid RSA or ECDSA private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := IssueServiceAccountToken(tc.req)
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("IssueServiceAccountToken() error = %v, want prefix %q", err, tc.wantErr)
			}
		})
	}
}

func TestRequestServiceAccountToken(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	var got *authenticationv1.TokenRequest
	client.PrependReactor("create", "serviceaccounts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		ca := a.(clienttesting.CreateAction)
		if ca.GetSubresource() != "token" || ca.GetNamespace() != "team-a" {
			return false, nil, nil
		}
		got = ca.GetObject().(*authenticationv1.TokenRequest)
		resp := got.DeepCopy()
		resp.Status = authenticationv1.TokenRequestStatus{Token: "issued.jwt.value", ExpirationTimestamp: metav1.NewTime(testNow.Add(time.Hour))}
		return true, resp, nil
	})
	res, err := RequestServiceAccountToken(context.Background(), client, "team-a", "deployer", []string{"vault"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := &RequestedToken{Token: "issued.jwt.value", Namespace: "team-a", Name: "deployer", Audiences: []string{"vault"}, Expiration: "2026-11-28T07:00:00Z"}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("RequestServiceAccountToken() mismatch (-want +got):\n%s", diff)
	}
	if got == nil || *got.Spec.ExpirationSeconds != 3600 {
		t.Errorf("request = %+v", got)
	}
	if _, err := RequestServiceAccountToken(context.Background(), client, "team-a", "deployer", nil, time.Minute); err == nil || !strings.Contains(err.Error(), "at least 10m0s") {
		t.Errorf("short duration error = %v", err)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	priv, pub := writeKey(t, dir, "sa", key)
	sa, err := IssueServiceAccountToken(IssueRequest{SigningKeyFile: priv, Issuer: "https://issuer", Namespace: "ns", Name: "robot", UID: "u1", TTL: time.Hour, Now: testNow, Rand: bytes.NewReader(bytes.Repeat([]byte{2}, 16))})
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens.csv")
	static, err := AddStaticToken(tokens, AddRequest{User: "alice", UID: "1", Groups: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		token    string
		opts     DecodeOptions
		wantKind string
		wantUser *UserInfo
		problems []string
		wantErr  string
	}{
		{name: "static", token: static.Token, opts: DecodeOptions{TokenFile: tokens}, wantKind: "static", wantUser: &UserInfo{Username: "alice", UID: "1", Groups: []string{"dev", "system:authenticated"}}, problems: []string{}},
		{name: "static unknown", token: "nope-0123456789abcdefghij", opts: DecodeOptions{TokenFile: tokens}, wantKind: "static", problems: []string{"the token is not in " + tokens}},
		{name: "bootstrap-shaped static token", token: "aaaaaa.0123456789abcdef", opts: DecodeOptions{TokenFile: "testdata/static/bootstrap-shaped.csv"}, wantKind: "static", wantUser: &UserInfo{Username: "carol", UID: "3", Groups: []string{"system:authenticated"}}, problems: []string{}},
		{name: "bootstrap token not in the file", token: "abcdef.0123456789abcdef", opts: DecodeOptions{TokenFile: "testdata/static/bootstrap-shaped.csv"}, wantKind: "bootstrap", wantUser: &UserInfo{Username: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers", "system:authenticated"}}, problems: []string{}},
		{name: "static without file", token: "nope-0123456789abcdefghij", wantErr: "not a bootstrap token or a JWT; give --token-file to look a static token up"},
		{name: "bootstrap alone", token: "abcdef.0123456789abcdef", wantKind: "bootstrap", wantUser: &UserInfo{Username: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers", "system:authenticated"}}, problems: []string{}},
		{name: "bootstrap with secret", token: "abcdef.0123456789abcdef", opts: DecodeOptions{SecretFile: "testdata/secrets/valid.yaml"}, wantKind: "bootstrap", wantUser: &UserInfo{Username: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"}}, problems: []string{}},
		{name: "bootstrap wrong secret", token: "abcdef.0123456789abcdee", opts: DecodeOptions{SecretFile: "testdata/secrets/valid.yaml"}, wantKind: "bootstrap", problems: []string{"token-secret does not match the token"}},
		{name: "bootstrap other id", token: "zzzzzz.0123456789abcdef", opts: DecodeOptions{SecretFile: "testdata/secrets/valid.yaml"}, wantKind: "bootstrap", problems: []string{"kube-apiserver looks the token up in Secret bootstrap-token-zzzzzz, not bootstrap-token-abcdef"}},
		{
			name: "service account", token: sa.Token, opts: DecodeOptions{Verify: VerifyOptions{KeyFile: pub}}, wantKind: "serviceAccount",
			wantUser: &UserInfo{Username: "system:serviceaccount:ns:robot", UID: "u1", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"}, Extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=02020202-0202-4202-8202-020202020202"}}},
			problems: []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Now = testNow
			d, err := Decode(tc.token, tc.opts)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Decode() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind != tc.wantKind {
				t.Errorf("Kind = %q, want %q", d.Kind, tc.wantKind)
			}
			if diff := cmp.Diff(tc.wantUser, d.User); diff != "" {
				t.Errorf("User mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.problems, d.Problems); diff != "" {
				t.Errorf("Problems mismatch (-want +got):\n%s", diff)
			}
			b, _ := json.Marshal(d)
			secret := tc.token
			if i := strings.IndexByte(secret, '.'); i == 6 {
				secret = secret[7:]
			}
			if strings.Contains(string(b), secret) {
				t.Errorf("result carries the secret part: %s", b)
			}
		})
	}
}

func TestDecodeNonKubernetesJWT(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _, _, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "https://accounts.example.com", Subject: "alice", Expiry: jwt.NewNumericDate(testNow.Add(time.Hour))}).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(tok, DecodeOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kubernetes.io: missing; not a Kubernetes service-account token"}
	if d.Kind != KindJWT || d.User != nil || !cmp.Equal(want, d.Problems) {
		t.Errorf("Decode() = kind %q, user %v, problems %q", d.Kind, d.User, d.Problems)
	}
}

func TestDecodeLegacyServiceAccountToken(t *testing.T) {
	t.Parallel()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _, _, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:ns:builder",
		"kubernetes.io/serviceaccount/namespace":            "ns",
		"kubernetes.io/serviceaccount/secret.name":          "builder-token-x7k2p",
		"kubernetes.io/serviceaccount/service-account.name": "builder",
		"kubernetes.io/serviceaccount/service-account.uid":  "u-9",
	}
	tok, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(tok, DecodeOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := &UserInfo{Username: "system:serviceaccount:ns:builder", UID: "u-9", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"}}
	if diff := cmp.Diff(want, d.User); diff != "" || d.Kind != KindServiceAccount || !d.JWT.Legacy || len(d.Problems) != 0 {
		t.Errorf("Decode() user mismatch (-want +got):\n%s\nkind %q legacy %v problems %q", diff, d.Kind, d.JWT.Legacy, d.Problems)
	}
}
