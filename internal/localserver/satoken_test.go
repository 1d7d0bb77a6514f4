package localserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/client-go/util/keyutil"
)

// fakeObjects is an objectGetter over a fixed set of objects.
type fakeObjects struct {
	sas     map[string]*corev1.ServiceAccount
	secrets map[string]*corev1.Secret
	pods    map[string]*corev1.Pod
}

func notFound(res, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: res}, name)
}

func (f *fakeObjects) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if o, ok := f.sas[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("serviceaccounts", name)
}

func (f *fakeObjects) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if o, ok := f.secrets[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("secrets", name)
}

func (f *fakeObjects) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if o, ok := f.pods[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("pods", name)
}

func newTestSATokens(t *testing.T, objs *fakeObjects, now func() time.Time, issuers ...string) *saTokens {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.ServiceAccountIssuers = issuers
	cfg.Now = now
	sa, err := newSATokens(&cfg, &PKI{SAKey: key, SAPublicKeys: []any{key.Public()}}, objs)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

func TestServiceAccountTokens(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bot", UID: "sa-uid"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "pod-uid"}}
	tests := []struct {
		name      string
		req       authenticationv1.TokenRequestSpec
		mutate    func(*fakeObjects)
		at        time.Duration // after issuing
		audiences authenticator.Audiences
		wantUser  string
		wantErr   string
	}{
		{name: "valid", wantUser: "system:serviceaccount:ns:bot"},
		{name: "bound to a live pod", req: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p"}}, wantUser: "system:serviceaccount:ns:bot"},
		{name: "expired", at: 2 * time.Hour, wantErr: "service account token has expired"},
		{name: "service account deleted", mutate: func(f *fakeObjects) { delete(f.sas, "ns/bot") }, wantErr: `serviceaccounts "bot" not found`},
		{name: "service account recreated", mutate: func(f *fakeObjects) {
			f.sas["ns/bot"] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bot", UID: "other"}}
		}, wantErr: "service account UID (other) does not match claim (sa-uid)"},
		{name: "bound pod deleted", req: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p"}}, mutate: func(f *fakeObjects) { delete(f.pods, "ns/p") }, wantErr: "service account token has been invalidated"},
		{name: "audience not for this server", req: authenticationv1.TokenRequestSpec{Audiences: []string{"vault"}}, wantErr: `token audiences ["vault"] is invalid for the target audiences`},
		{name: "audience requested by the caller", req: authenticationv1.TokenRequestSpec{Audiences: []string{"vault"}}, audiences: authenticator.Audiences{"vault"}, wantUser: "system:serviceaccount:ns:bot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := &fakeObjects{sas: map[string]*corev1.ServiceAccount{"ns/bot": sa}, pods: map[string]*corev1.Pod{"ns/p": pod}}
			now := t0
			tokens := newTestSATokens(t, objs, func() time.Time { return now })
			resp, err := tokens.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{Spec: tc.req})
			if err != nil {
				t.Fatalf("TokenRequest() error = %v", err)
			}
			if tc.mutate != nil {
				tc.mutate(objs)
			}
			now = t0.Add(tc.at)
			ctx := context.Background()
			if tc.audiences != nil {
				ctx = authenticator.WithAudiences(ctx, tc.audiences)
			}
			got, ok, err := tokens.AuthenticateToken(ctx, resp.Status.Token)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("AuthenticateToken() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("AuthenticateToken() = %v, %v", ok, err)
			}
			if got.User.GetName() != tc.wantUser || got.User.GetUID() != "sa-uid" {
				t.Errorf("user = %q uid %q, want %q uid sa-uid", got.User.GetName(), got.User.GetUID(), tc.wantUser)
			}
			if diff := cmp.Diff([]string{"system:serviceaccounts", "system:serviceaccounts:ns"}, got.User.GetGroups()); diff != "" {
				t.Errorf("groups mismatch (-want +got):\n%s", diff)
			}
			if ids := got.User.GetExtra()["authentication.kubernetes.io/credential-id"]; len(ids) != 1 || !strings.HasPrefix(ids[0], "JTI=") {
				t.Errorf("credential-id extra = %v, want JTI=<uuid>", ids)
			}
		})
	}
}

func TestServiceAccountTokenRequestDefaults(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bot", UID: "sa-uid"}}
	tokens := newTestSATokens(t, &fakeObjects{}, func() time.Time { return t0 }, "https://a", "https://b")
	resp, err := tokens.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://a", "https://b"}, resp.Spec.Audiences); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}
	if got, want := resp.Status.ExpirationTimestamp.Time, t0.Add(time.Hour); !got.Equal(want) {
		t.Errorf("expiration = %v, want %v", got, want)
	}
	_, err = tokens.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrInt64(60)}})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "may not specify a duration less than 10 minutes") {
		t.Errorf("60s token error = %v, want Invalid", err)
	}
	_, err = tokens.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "p", UID: types.UID("x")}}})
	if !apierrors.IsNotFound(err) {
		t.Errorf("token bound to a missing pod: error = %v, want NotFound", err)
	}
}

func TestServiceAccountTokensIgnoreOtherIssuers(t *testing.T) {
	t.Parallel()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bot", UID: "u"}}
	objs := &fakeObjects{sas: map[string]*corev1.ServiceAccount{"ns/bot": sa}}
	other := newTestSATokens(t, objs, time.Now, "https://other")
	ours := newTestSATokens(t, objs, time.Now, "https://ours")
	resp, err := other.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{"https://ours"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{resp.Status.Token, "not-a-jwt", "a.b.c", `{"iss":"https://ours"}`} {
		if _, ok, err := ours.AuthenticateToken(context.Background(), tok); ok || err != nil {
			t.Errorf("AuthenticateToken(%.20q) = %v, %v; want not ours, no error", tok, ok, err)
		}
	}
	// Same issuer, another key: a signature error, as kube-apiserver reports.
	forged := newTestSATokens(t, objs, time.Now, "https://ours")
	resp, err = forged.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ours.AuthenticateToken(context.Background(), resp.Status.Token); ok || err == nil {
		t.Errorf("token signed by another key: ok=%v err=%v, want an error", ok, err)
	}
}

func FuzzServiceAccountToken(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCJ9.c2ln")
	f.Add("a.b.c")
	f.Add("abcdef.0123456789abcdef")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	cfg := Default()
	tokens, err := newSATokens(&cfg, &PKI{SAKey: key, SAPublicKeys: []any{key.Public()}}, &fakeObjects{})
	if err != nil {
		f.Fatal(err)
	}
	boot := &bootstrapTokens{secrets: &fakeObjects{}, now: time.Now}
	f.Fuzz(func(t *testing.T, tok string) {
		_, _, _ = tokens.AuthenticateToken(context.Background(), tok)
		_, _, _ = boot.AuthenticateToken(context.Background(), tok)
	})
}

// TestServiceAccountKeyFiles reads --service-account-signing-key-file and
// --service-account-key-file: tokens of another signer whose public key is
// listed verify, next to the server's own.
func TestServiceAccountKeyFiles(t *testing.T) {
	t.Parallel()
	keyPEM := func() ([]byte, *ecdsa.PrivateKey) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		b, err := keyutil.MarshalPrivateKeyToPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		return b, k
	}
	signPEM, _ := keyPEM()
	_, other := keyPEM()
	pubDER, err := x509.MarshalPKIXPublicKey(other.Public())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.ServiceAccountSigningKeyFile = writeFile(t, "sa.key", string(signPEM))
	cfg.ServiceAccountKeyFiles = []string{writeFile(t, "other.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})))}
	p, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bot", UID: "u"}}
	objs := &fakeObjects{sas: map[string]*corev1.ServiceAccount{"ns/bot": sa}}
	ours, err := newSATokens(&cfg, p, objs)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := newSATokens(&cfg, &PKI{SAKey: other, SAPublicKeys: []any{other.Public()}}, objs)
	if err != nil {
		t.Fatal(err)
	}
	for name, issuer := range map[string]*saTokens{"own": ours, "listed": theirs} {
		resp, err := issuer.TokenRequest(context.Background(), sa, &authenticationv1.TokenRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := ours.AuthenticateToken(context.Background(), resp.Status.Token); !ok || err != nil {
			t.Errorf("%s key: AuthenticateToken() = %v, %v", name, ok, err)
		}
	}
	cfg.ServiceAccountSigningKeyFile = writeFile(t, "bad.key", "not a key")
	if _, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1")); err == nil || !strings.HasPrefix(err.Error(), "--service-account-signing-key-file: ") {
		t.Errorf("bad signing key file: %v", err)
	}
}
