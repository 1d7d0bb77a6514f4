package authn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tokenBackend is a webhook token authenticator on loopback that counts
// the reviews it answers.
type tokenBackend struct {
	srv    *httptest.Server
	calls  atomic.Int64
	broken atomic.Bool
}

func newTokenBackend(t *testing.T) *tokenBackend {
	t.Helper()
	b := &tokenBackend{}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		if b.broken.Load() {
			http.Error(w, "identity service down", http.StatusInternalServerError)
			return
		}
		var tr authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr.Status = authenticationv1.TokenReviewStatus{}
		if tr.Spec.Token == "good-token" || tr.Spec.Token == "good-token-2" {
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "alice", UID: "42", Groups: []string{"dev"}}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tr)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// writeWebhookKubeconfig writes the kubeconfig-format file kube-apiserver
// takes, pointing at srv.
func writeWebhookKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["webhook"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: pemCert(srv)}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "webhook", AuthInfo: "apiserver"}
	cfg.CurrentContext = "webhook"
	p := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenWebhookCachesPerToken(t *testing.T) {
	t.Parallel()
	b := newTokenBackend(t)
	a, err := NewTokenWebhook(TokenWebhookOptions{ConfigFile: writeWebhookKubeconfig(t, b.srv), CacheTTL: DefaultWebhookCacheTTL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		resp, ok, err := a.AuthenticateToken(ctx, "good-token")
		if err != nil || !ok {
			t.Fatalf("AuthenticateToken(good) = %v, %v", ok, err)
		}
		got := identity{Name: resp.User.GetName(), Groups: resp.User.GetGroups()}
		if diff := cmp.Diff(identity{Name: "alice", Groups: []string{"dev"}}, got); diff != "" {
			t.Fatalf("user mismatch (-want +got):\n%s", diff)
		}
	}
	for range 3 {
		if _, ok, _ := a.AuthenticateToken(ctx, "bad-token"); ok {
			t.Fatal("bad token authenticated")
		}
	}
	// One review for the good token and one for the bad one: kube-apiserver
	// caches both answers for the TTL.
	if got := b.calls.Load(); got != 2 {
		t.Errorf("backend calls = %d, want 2 (one per token within the cache TTL)", got)
	}
}

func TestTokenWebhookBreakerOpens(t *testing.T) {
	t.Parallel()
	b := newTokenBackend(t)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	br := NewBreaker(BreakerOptions{Name: "authn", Failures: 3, Cooldown: time.Minute, Now: clock.Now})
	backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5}
	a, err := NewTokenWebhook(TokenWebhookOptions{ConfigFile: writeWebhookKubeconfig(t, b.srv), CacheTTL: DefaultWebhookCacheTTL, RetryBackoff: &backoff, Breaker: br})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b.broken.Store(true)
	for i := range 10 {
		if _, ok, err := a.AuthenticateToken(ctx, "token-"+string(rune('a'+i))); ok || err == nil {
			t.Fatalf("request %d: want an error from a broken backend, got ok=%v err=%v", i, ok, err)
		}
	}
	// The first request is retried until the third consecutive failure
	// opens the breaker; nothing reaches the backend after that.
	if got := b.calls.Load(); got != 3 {
		t.Errorf("backend calls while failing = %d, want 3", got)
	}
	st := br.State()
	if st.State != BreakerOpen || st.Opened != 1 || br.Check(nil) == nil {
		t.Errorf("breaker state = %+v, want open once and a failing health check", st)
	}

	// After the cooldown one probe goes through; the backend has recovered.
	b.broken.Store(false)
	clock.Step(time.Minute)
	if _, ok, err := a.AuthenticateToken(ctx, "good-token"); !ok || err != nil {
		t.Fatalf("after cooldown: ok=%v err=%v", ok, err)
	}
	if got := b.calls.Load(); got != 4 {
		t.Errorf("backend calls after probe = %d, want 4", got)
	}
	if st := br.State(); st.State != BreakerClosed || st.ConsecutiveFailures != 0 {
		t.Errorf("breaker state after probe = %+v, want closed", st)
	}
}

func TestBreakerFailedProbeReopens(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	br := NewBreaker(BreakerOptions{Name: "x", Failures: 2, Cooldown: 10 * time.Second, Now: clock.Now})
	calls := 0
	rt := br.Wrap(roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable", Body: http.NoBody}, nil
	}))
	do := func() error {
		req, _ := http.NewRequest(http.MethodPost, "https://127.0.0.1/", nil)
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		return err
	}
	var states []string
	for range 3 {
		_ = do()
		states = append(states, br.State().State)
	}
	clock.Step(10 * time.Second)
	_ = do() // failed probe
	states = append(states, br.State().State)
	_ = do()
	states = append(states, br.State().State)
	want := []string{BreakerClosed, BreakerOpen, BreakerOpen, BreakerOpen, BreakerOpen}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("states mismatch (-want +got):\n%s", diff)
	}
	if calls != 3 {
		t.Errorf("backend calls = %d, want 3 (two failures, one probe)", calls)
	}
	if got := br.State(); got.Opened != 2 || got.RetryAfterSeconds != 10 {
		t.Errorf("state = %+v, want opened twice, retry in 10s", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
