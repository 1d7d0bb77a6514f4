package reliability_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/authwebhook"
	"github.com/kauth/kauth/internal/localserver"
)

// TestSlowTokenWebhookUnderLoad: the token webhook answers one token, then
// hangs (it never answers again until the test ends). While requests with
// unknown tokens wait on it, the webhook's cached identity, a static-token
// user and the admin certificate keep being served, every one of their
// requests succeeds, and the backend sees no more calls than the unknown
// tokens sent (the cached token never reaches it again).
func TestSlowTokenWebhookUnderLoad(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	release := make(chan struct{})
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			var tr authenticationv1.TokenReview
			_ = json.NewDecoder(r.Body).Decode(&tr)
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "cached", Groups: []string{"heavy"}}}
			_ = json.NewEncoder(w).Encode(tr)
			return
		}
		select { // the identity service hangs
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "identity service down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(backend.Close)
	t.Cleanup(func() { close(release) }) // runs before backend.Close
	s, admin, cached := tokenWebhookServer(t, backend)

	// Requests with unknown tokens pile up on the hanging webhook.
	hanging := pick(16, 128)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range hanging {
		c := newClient(t, s, "webhook-token-unknown-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		wg.Go(func() {
			resp, err := c.request(ctx, http.MethodGet, cmPath("x"), "")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	static := newClient(t, s, "static-token-4d5e6f7a8b9c")
	n := pick(100, 2000)
	var lat []time.Duration
	for i := range n {
		for _, c := range []*client{cached, static, admin} {
			start := time.Now()
			if code, body := c.do(t, http.MethodGet, cmPath("x"), ""); code != http.StatusOK {
				t.Fatalf("request %d while the webhook hangs: HTTP %d %s", i, code, body)
			}
			lat = append(lat, time.Since(start))
		}
	}
	if got := calls.Load(); got > int64(1+hanging) {
		t.Errorf("backend calls = %d, want at most %d (one answer, then one per unknown token)", got, 1+hanging)
	}
	slices.Sort(lat)
	t.Logf("%d unknown tokens waiting on the hung webhook; %d requests of the cached webhook identity, a static token and the admin all served: p50 %s, p99 %s, max %s; backend calls %d",
		hanging, len(lat), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond), calls.Load())
}

// webhookKubeconfig writes the kubeconfig-format file of a webhook at srv,
// as "kauth webhook config" writes it.
func webhookKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	data, err := authwebhook.Kubeconfig(srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), &clientcmdapi.AuthInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDownTokenWebhookUnderLoad: the token webhook answers one token,
// then is down (503 to every call). Under a concurrent load that mixes
// unknown tokens with the webhook's cached identity, a static-token user
// and the admin certificate, the unknown tokens are refused (401), every
// request of the others is served, and the backend sees a bounded number
// of calls: after 5 failures in a row the circuit breaker stops calling
// it (plus at most one call per other worker already on its way), however
// many unknown tokens follow.
func TestDownTokenWebhookUnderLoad(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	var down atomic.Bool
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if down.Load() {
			http.Error(w, "identity service down", http.StatusServiceUnavailable)
			return
		}
		var tr authenticationv1.TokenReview
		_ = json.NewDecoder(r.Body).Decode(&tr)
		tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "cached", Groups: []string{"heavy"}}}
		_ = json.NewEncoder(w).Encode(tr)
	}))
	t.Cleanup(backend.Close)
	s, admin, cached := tokenWebhookServer(t, backend)
	down.Store(true)

	const workers, unknown = 8, 32
	others, otherWant := map[string]*client{}, map[string]int{}
	for i := range unknown {
		name := fmt.Sprintf("unknown-%d", i)
		others[name] = newClient(t, s, fmt.Sprintf("webhook-token-unknown-%04d", i))
		otherWant[name] = http.StatusUnauthorized
	}
	known := map[string]*client{"cached": cached, "static": newClient(t, s, "static-token-4d5e6f7a8b9c"), "admin": admin}
	knownWant := map[string]int{"cached": http.StatusOK, "static": http.StatusOK, "admin": http.StatusOK}
	rounds := pick(100, 2000)
	var load, refused identityLoad
	var wg sync.WaitGroup
	wg.Go(func() { refused.run(t, workers, rounds, others, otherWant) })
	load.run(t, workers/2, rounds, known, knownWant)
	wg.Wait()
	const failures = 5 // the breaker's default
	if got, limit := calls.Load(), int64(1+failures+workers-1); got > limit {
		t.Errorf("backend calls = %d for %d requests with unknown tokens, want at most %d (1 answer, %d failures open the breaker, %d calls already on their way)",
			got, refused.answers, limit, failures, workers-1)
	}
	t.Logf("token webhook down: %d requests with %d unknown tokens from %d workers, all 401 (%s); meanwhile %d requests of the cached identity, a static token and the admin from %d workers all served: %s; backend calls %d",
		refused.answers, unknown, workers, summarize(refused.lat), load.answers, workers/2, load.summary(), calls.Load())
}

// tokenWebhookServer starts a server whose token webhook is backend (its
// answers cached for 10 minutes, one attempt per call) and with a static
// user in group heavy, which may read configmaps; the webhook's user
// "cached" has been authenticated once, so its identity is in the cache.
func tokenWebhookServer(t *testing.T, backend *httptest.Server) (*localserver.Server, *client, *client) {
	t.Helper()
	backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}
	s := startServer(t, func(c *localserver.Config) {
		c.ExternalAuthn.TokenWebhookConfigFile = webhookKubeconfig(t, backend)
		c.ExternalAuthn.TokenWebhookCacheTTL = 10 * time.Minute
		c.WebhookRetryBackoff = &backoff
		c.TokenAuthFile = writeTokens(t, `static-token-4d5e6f7a8b9c,static-user,7,"heavy"`)
	})
	admin := newClient(t, s, "admin")
	grantConfigMaps(t, s, admin, "heavy")
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("x", nil))
	cached := newClient(t, s, "webhook-token-cached")
	cached.must(t, http.StatusOK, http.MethodGet, cmPath("x"), "")
	return s, admin, cached
}
