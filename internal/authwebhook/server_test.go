package authwebhook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	authorizationcel "k8s.io/apiserver/pkg/authorization/cel"
	"k8s.io/apiserver/pkg/util/webhook"
	tokenwebhook "k8s.io/apiserver/plugin/pkg/authenticator/token/webhook"
	authzwebhook "k8s.io/apiserver/plugin/pkg/authorizer/webhook"
	webhookmetrics "k8s.io/apiserver/plugin/pkg/authorizer/webhook/metrics"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/rbac"
)

type pki struct {
	dir                         string
	caFile                      string
	serverCert, serverKey       string
	apiserverCert, apiserverKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "webhook CA", Expiry: time.Hour, Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, req certs.IssueRequest) (string, string) {
		req.Now, req.Expiry = now, time.Hour
		is, err := certs.Issue(ca, req)
		if err != nil {
			t.Fatal(err)
		}
		c, k := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		if err := os.WriteFile(c, is.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(k, is.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	p := pki{dir: dir, caFile: filepath.Join(dir, certs.CACertFile)}
	p.serverCert, p.serverKey = write("webhook", certs.IssueRequest{User: "kauth-webhook", Usage: "server", Hosts: []string{"127.0.0.1"}})
	p.apiserverCert, p.apiserverKey = write("apiserver", certs.IssueRequest{User: "kube-apiserver"})
	return p
}

// recorder keeps the raw bodies that cross the wire.
type recorder struct {
	mu        sync.Mutex
	requests  []string
	responses []string
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rw := httptest.NewRecorder()
		next.ServeHTTP(rw, r)
		rec.mu.Lock()
		rec.requests = append(rec.requests, string(body))
		rec.responses = append(rec.responses, rw.Body.String())
		rec.mu.Unlock()
		for k, v := range rw.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rw.Code)
		_, _ = w.Write(rw.Body.Bytes())
	})
}

func startServer(t *testing.T, p pki) (*Server, *recorder) {
	t.Helper()
	s, err := New(context.Background(), Config{
		Listen: "127.0.0.1:0", CertFile: p.serverCert, KeyFile: p.serverKey, ClientCAFile: p.caFile,
		TokenAuthFile: "testdata/tokens.csv", Policy: rbac.Sources{From: []string{"testdata/rbac.yaml"}},
		Options: Options{TokenTTL: DefaultTokenTTL, AuthorizedTTL: DefaultAuthorizedTTL, UnauthorizedTTL: DefaultUnauthorizedTTL, Rate: DefaultRate, Burst: DefaultBurst},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s.srv.Handler = rec.wrap(s.Handler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return s, rec
}

var fastBackoff = wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}

// TestKubeAPIServerClients calls kauth webhook serve with the webhook
// clients of k8s.io/apiserver, configured from the files "kauth webhook
// config" writes: exactly what a kube-apiserver sends and reads.
func TestKubeAPIServerClients(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	s, rec := startServer(t, p)
	files, err := WriteKubeconfigs(KubeconfigRequest{URL: s.URL(), CAFile: p.caFile, ClientCertFile: p.apiserverCert, ClientKeyFile: p.apiserverKey, Dir: p.dir})
	if err != nil {
		t.Fatal(err)
	}
	authnCfg, err := webhook.LoadKubeconfig(files[0].Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	authzCfg, err := webhook.LoadKubeconfig(files[1].Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	for _, version := range []string{"v1", "v1beta1"} {
		tw, err := tokenwebhook.New(authnCfg, version, authenticator.Audiences{"https://kubernetes.default.svc"}, fastBackoff)
		if err != nil {
			t.Fatal(err)
		}
		actx := authenticator.WithAudiences(ctx, authenticator.Audiences{"https://kubernetes.default.svc"})
		resp, ok, err := tw.AuthenticateToken(actx, "alice-token")
		if err != nil || !ok {
			t.Fatalf("%s: AuthenticateToken(alice) = %v, %v", version, ok, err)
		}
		got := []any{resp.User.GetName(), resp.User.GetUID(), resp.User.GetGroups(), []string(resp.Audiences)}
		want := []any{"alice", "1001", []string{"dev", "qa"}, []string{"https://kubernetes.default.svc"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: user mismatch (-want +got):\n%s", version, diff)
		}
		if _, ok, err := tw.AuthenticateToken(actx, "wrong-token"); ok || err != nil {
			t.Errorf("%s: wrong token = %v, %v; want not authenticated, no error", version, ok, err)
		}

		az, err := authzwebhook.New(authzCfg, version, 0, 0, fastBackoff, authorizer.DecisionNoOpinion, nil, "kauth", webhookmetrics.NoopAuthorizerMetrics{}, authorizationcel.NewDefaultCompiler())
		if err != nil {
			t.Fatal(err)
		}
		alice := &user.DefaultInfo{Name: "alice", UID: "1001", Groups: []string{"dev", "qa", "system:authenticated"}}
		tests := []struct {
			a    authorizer.AttributesRecord
			want authorizer.Decision
		}{
			{authorizer.AttributesRecord{User: alice, Verb: "get", Resource: "pods", Namespace: "team-a", ResourceRequest: true}, authorizer.DecisionAllow},
			{authorizer.AttributesRecord{User: alice, Verb: "delete", Resource: "pods", Namespace: "team-a", ResourceRequest: true}, authorizer.DecisionNoOpinion},
			{authorizer.AttributesRecord{User: alice, Verb: "get", Path: "/healthz"}, authorizer.DecisionNoOpinion},
			{authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "root", Groups: []string{"system:masters"}}, Verb: "delete", Resource: "nodes", ResourceRequest: true}, authorizer.DecisionAllow},
		}
		for _, tc := range tests {
			d, reason, err := az.Authorize(ctx, tc.a)
			if d != tc.want || err != nil {
				t.Errorf("%s: Authorize(%s %s %s) = %v %q %v, want %v", version, tc.a.Verb, tc.a.Resource, tc.a.Path, d, reason, err, tc.want)
			}
		}
	}

	// The exact bodies: kube-apiserver's v1 TokenReview and kauth's answer.
	wantReq := `{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{},"spec":{"token":"alice-token","audiences":["https://kubernetes.default.svc"]},"status":{"user":{}}}`
	wantResp := `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,"user":{"username":"alice","uid":"1001","groups":["dev","qa"]},"audiences":["https://kubernetes.default.svc"]}}`
	if diff := cmp.Diff([]string{wantReq, wantResp}, []string{strings.TrimSpace(rec.requests[0]), strings.TrimSpace(rec.responses[0])}); diff != "" {
		t.Errorf("wire mismatch (-want +got):\n%s", diff)
	}
	wantSAR := `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","status":{"allowed":true,"reason":"RBAC: allowed by RoleBinding \"dev-reads-pods/team-a\" of Role \"pod-reader\" to Group \"dev\""}}`
	if diff := cmp.Diff(wantSAR, strings.TrimSpace(rec.responses[2])); diff != "" {
		t.Errorf("SubjectAccessReview answer mismatch (-want +got):\n%s", diff)
	}
	if st := s.Handler.Stats(); st.CacheHits == 0 {
		t.Errorf("stats = %+v, want cache hits for the repeated v1beta1 reviews", st)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	t.Parallel()
	clock := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tf, err := os.ReadFile("testdata/tokenreview-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Options{Tokens: staticToken{}, Rate: 1, Burst: 2, Clock: clock})
	post := func(ip string) int {
		r := httptest.NewRequest(http.MethodPost, "/authenticate", bytes.NewReader(tf))
		r.RemoteAddr = ip + ":5555"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	got := []int{post("10.0.0.1"), post("10.0.0.1"), post("10.0.0.1"), post("10.0.0.2")}
	clock.Step(time.Second)
	got = append(got, post("10.0.0.1"))
	want := []int{200, 200, 429, 200, 200}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status codes mismatch (-want +got):\n%s", diff)
	}
	if st := h.Stats(); st.RateLimited != 1 {
		t.Errorf("RateLimited = %d, want 1", st.RateLimited)
	}
}

type staticToken struct{}

func (staticToken) AuthenticateToken(_ context.Context, tok string) (*authenticator.Response, bool, error) {
	if tok == "alice-token" {
		return &authenticator.Response{User: &user.DefaultInfo{Name: "alice"}}, true, nil
	}
	return nil, false, nil
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	h := NewHandler(Options{Tokens: staticToken{}, Authorizer: authorizerFunc(func() authorizer.Decision { return authorizer.DecisionAllow })})
	tests := []struct {
		name, path, body string
		code             int
		message          string
	}{
		{"empty", "/authenticate", "", 400, "empty body: expected a JSON TokenReview"},
		{"wrong kind", "/authenticate", `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview"}`, 400, `got apiVersion "authorization.k8s.io/v1" kind "SubjectAccessReview": expected kind TokenReview of authentication.k8s.io/v1 or authentication.k8s.io/v1beta1`},
		{"no token", "/authenticate", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{}}`, 400, "spec.token: required"},
		{"wrong type", "/authorize", `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":5}}`, 400, ""},
		{"invalid review", "/authorize", `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"a"}}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body)))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), `"kind":"Status"`) || !strings.Contains(w.Body.String(), jsonEscape(tc.message)) {
				t.Errorf("got %d %s, want %d with %q", w.Code, w.Body.String(), tc.code, tc.message)
			}
		})
	}
}

func jsonEscape(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }

type authorizerFunc func() authorizer.Decision

func (f authorizerFunc) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return f(), "", nil
}

func (f authorizerFunc) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(f.Authorize(ctx, a))
}

func (authorizerFunc) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

func FuzzDecodeReviews(f *testing.F) {
	for _, name := range []string{"testdata/tokenreview-v1.json", "testdata/sar-v1.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if tr, err := DecodeTokenReview(data); err == nil && tr.Spec.Token == "" {
			t.Fatal("decoded a TokenReview without a token")
		}
		if sar, err := DecodeSubjectAccessReview(data); err == nil && sar.Kind != "SubjectAccessReview" {
			t.Fatalf("decoded kind %q", sar.Kind)
		}
	})
}

// TestReload: a changed policy and token file take effect on Reload, the
// cache is not consulted for the old answers, and a broken file keeps the
// server answering from what it had.
func TestReload(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := t.TempDir()
	tokens, policy := filepath.Join(dir, "tokens.csv"), filepath.Join(dir, "rbac.yaml")
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("testdata/tokens.csv", tokens)
	copyFile("testdata/rbac.yaml", policy)
	s, err := New(context.Background(), Config{Listen: "127.0.0.1:0", CertFile: p.serverCert, KeyFile: p.serverKey, TokenAuthFile: tokens,
		Policy: rbac.Sources{From: []string{policy}}, Options: Options{TokenTTL: time.Hour, AuthorizedTTL: time.Hour, UnauthorizedTTL: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.ln.Close() })
	sar, err := os.ReadFile("testdata/sar-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := os.ReadFile("testdata/tokenreview-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(path string, body []byte) string {
		w := httptest.NewRecorder()
		s.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		if strings.Contains(w.Body.String(), `"allowed":true`) || strings.Contains(w.Body.String(), `"authenticated":true`) {
			return "yes"
		}
		return "no"
	}
	got := []string{ask("/authorize", sar), ask("/authenticate", tr)}
	if err := os.WriteFile(policy, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nothing, namespace: x}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokens, []byte("other-token,other,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reload(context.Background()); err != nil || n != 0 {
		t.Fatalf("Reload() = %d, %v", n, err)
	}
	got = append(got, ask("/authorize", sar), ask("/authenticate", tr))
	copyFile("testdata/rbac.yaml", policy)
	if err := os.WriteFile(tokens, []byte("broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reload(context.Background()); err == nil {
		t.Error("Reload() with a broken token file: want an error")
	}
	got = append(got, ask("/authorize", sar))
	if diff := cmp.Diff([]string{"yes", "yes", "no", "no", "no"}, got); diff != "" {
		t.Errorf("answers mismatch (-want +got):\n%s", diff)
	}
}
