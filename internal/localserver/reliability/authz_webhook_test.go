package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kauth/kauth/internal/authzchain"
	"github.com/kauth/kauth/internal/localserver"
)

// sarBackend is a SubjectAccessReview webhook that allows wh-allowed and
// denies wh-denied while it is up, then fails in one of two ways: it
// hangs (every later call waits until the test ends) or it is down
// (every later call is answered 503 at once). It counts its calls.
type sarBackend struct {
	srv     *httptest.Server
	calls   atomic.Int64
	failing atomic.Bool
	hang    bool
	entered chan string // users of the calls that hang
	release chan struct{}
}

func newSARBackend(t *testing.T, hang bool) *sarBackend {
	t.Helper()
	b := &sarBackend{hang: hang, entered: make(chan string, 1024), release: make(chan struct{})}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if b.failing.Load() {
			if b.hang {
				b.entered <- sar.Spec.User
				select { // the authorization service hangs
				case <-b.release:
				case <-r.Context().Done():
				}
			}
			http.Error(w, "authorization service down", http.StatusServiceUnavailable)
			return
		}
		switch sar.Spec.User {
		case "wh-allowed":
			sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "the webhook allows it"}
		case "wh-denied":
			sar.Status = authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "the webhook denies it"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sar)
	}))
	t.Cleanup(b.srv.Close)
	t.Cleanup(func() { close(b.release) }) // runs before srv.Close
	return b
}

// authzWebhookServer runs a server with --authorization-mode RBAC,Webhook,
// the webhook's decisions cached 10 minutes (allowed and denied), one try
// per call, and static token users: wh-allowed, wh-denied, rbac-user (in
// group rbac-users, which RBAC lets use configmaps) and unknown-0 ...
// unknown-(unknown-1), whom only the webhook could allow.
func authzWebhookServer(t *testing.T, b *sarBackend, unknown int) *localserver.Server {
	t.Helper()
	lines := []string{
		`wh-allowed-token-1a2b3c4d5e,wh-allowed,2001`,
		`wh-denied-token-6f7a8b9c0d,wh-denied,2002`,
		`rbac-user-token-1e2f3a4b5c,rbac-user,2003,"rbac-users"`,
	}
	for i := range unknown {
		lines = append(lines, fmt.Sprintf("unknown-token-%04d-9f8e7d,unknown-%d,%d", i, i, 3000+i))
	}
	backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}
	return startServer(t, func(c *localserver.Config) {
		c.AuthorizationModes = []string{localserver.ModeRBAC, localserver.ModeWebhook}
		c.AuthorizationWebhook = authzchain.WebhookFlags{
			ConfigFile: webhookKubeconfig(t, b.srv), Version: "v1",
			AuthorizedTTL: 10 * time.Minute, UnauthorizedTTL: 10 * time.Minute,
		}
		c.WebhookRetryBackoff = &backoff
		c.TokenAuthFile = writeTokens(t, lines...)
	})
}

// identityLoad is a concurrent load of the identities whose decisions do
// not need the webhook any more: each request's status is checked
// against want, and each identity's latencies are kept for the log.
type identityLoad struct {
	mu      sync.Mutex
	lat     map[string][]time.Duration
	wrong   map[string]int
	answers int
}

func (l *identityLoad) run(t *testing.T, workers, rounds int, clients map[string]*client, want map[string]int) {
	t.Helper()
	l.lat, l.wrong = map[string][]time.Duration{}, map[string]int{}
	names := make([]string, 0, len(clients))
	for n := range clients {
		names = append(names, n)
	}
	slices.Sort(names)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				name := names[(w+i)%len(names)]
				start := time.Now()
				resp, err := clients[name].request(context.Background(), http.MethodGet, cmPath("x"), "")
				code := 0
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				d := time.Since(start)
				l.mu.Lock()
				l.lat[name] = append(l.lat[name], d)
				l.answers++
				if code != want[name] {
					if l.wrong[name] == 0 {
						t.Errorf("%s: HTTP %d (%v), want %d", name, code, err, want[name])
					}
					l.wrong[name]++
				}
				l.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// summary is "name p50/p99/max" for every identity.
func (l *identityLoad) summary() string {
	var parts []string
	for name, lat := range l.lat {
		slices.Sort(lat)
		parts = append(parts, fmt.Sprintf("%s %d req p50 %s p99 %s max %s", name, len(lat),
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond)))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// TestSlowAuthorizationWebhookUnderLoad: the SubjectAccessReview webhook
// (--authorization-mode RBAC,Webhook) answers an allow and a deny, then
// hangs. While requests of users only the webhook could decide are stuck
// in it (the test waits until the backend holds every one of them), a
// concurrent load of the webhook's cached identities, a user RBAC allows
// (earlier in the chain) and the admin (system:masters) is answered as
// before: the cached allow 200, the cached deny 403, RBAC's user and the
// admin 200. The backend sees exactly one call per stuck request beyond
// the two it answered: cached decisions and RBAC's never reach it.
func TestSlowAuthorizationWebhookUnderLoad(t *testing.T) {
	t.Parallel()
	hanging := pick(16, 128)
	b := newSARBackend(t, true)
	s, _, clients, want := warmAuthzWebhook(t, b, hanging)

	workers, rounds := 8, pick(50, 1000)
	var before identityLoad
	before.run(t, workers, rounds, clients, want)

	b.failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := range hanging {
		c := newClient(t, s, fmt.Sprintf("unknown-token-%04d-9f8e7d", i))
		wg.Go(func() {
			resp, err := c.request(ctx, http.MethodGet, cmPath("x"), "")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for range hanging { // every one of them is in the backend now
		<-b.entered
	}

	var load identityLoad
	load.run(t, workers, rounds, clients, want)
	if got, limit := b.calls.Load(), int64(2+hanging); got != limit {
		t.Errorf("backend calls = %d, want %d (two answers, then one per stuck request; none for cached or RBAC decisions)", got, limit)
	}
	t.Logf("before: %s", before.summary())
	t.Logf("%d requests stuck in the hung authorization webhook; %d requests of 4 identities from %d workers answered as before: %s; backend calls %d",
		hanging, load.answers, workers, load.summary(), b.calls.Load())
}

// TestDownAuthorizationWebhookUnderLoad: the SubjectAccessReview webhook
// answers an allow and a deny, then is down (503 to every call). Under a
// concurrent load that mixes users only the webhook could decide with the
// webhook's cached identities, a user RBAC allows and the admin: the
// undecided users are refused with 500 (the webhook's failure policy is
// NoOpinion and nothing else allows them, and kube-apiserver's
// WithAuthorization answers an authorizer's error with InternalError
// rather than 403), everyone else is answered as before, and the backend sees a bounded number of calls: after 5
// failures in a row the circuit breaker stops calling it (plus at most
// one call per worker that was already on its way), however many
// requests follow. /readyz names the open breaker.
func TestDownAuthorizationWebhookUnderLoad(t *testing.T) {
	t.Parallel()
	const workers = 8
	unknown := 32
	b := newSARBackend(t, false)
	s, admin, clients, want := warmAuthzWebhook(t, b, unknown)

	rounds := pick(100, 2000)
	var before identityLoad
	before.run(t, workers/2, rounds, clients, want)

	b.failing.Store(true)
	others, otherWant := map[string]*client{}, map[string]int{}
	for i := range unknown {
		name := fmt.Sprintf("unknown-%d", i)
		others[name] = newClient(t, s, fmt.Sprintf("unknown-token-%04d-9f8e7d", i))
		otherWant[name] = http.StatusInternalServerError
	}
	var load, undecidedLoad identityLoad
	var wg sync.WaitGroup
	wg.Go(func() { undecidedLoad.run(t, workers, rounds, others, otherWant) })
	load.run(t, workers/2, rounds, clients, want)
	wg.Wait()
	undecided := undecidedLoad.answers
	const failures = 5 // the breaker's default
	if got, limit := b.calls.Load(), int64(2+failures+workers-1); got > limit {
		t.Errorf("backend calls = %d for %d undecided requests, want at most %d (2 answers, %d failures open the breaker, %d calls already on their way)",
			got, undecided, limit, failures, workers-1)
	}
	code, body := admin.do(t, http.MethodGet, "/readyz?verbose", "")
	if code != http.StatusInternalServerError || !strings.Contains(string(body), "[-]webhook-breaker-authorization-webhook-default failed") {
		t.Errorf("/readyz?verbose with the breaker open: HTTP %d\n%s", code, body)
	}
	t.Logf("before: %s", before.summary())
	t.Logf("authorization webhook down: %d requests of users only the webhook could decide from %d workers, all 500 (%s); meanwhile %d requests of 4 identities from %d workers answered as before: %s; backend calls %d",
		undecided, workers, summarize(undecidedLoad.lat), load.answers, workers/2, load.summary(), b.calls.Load())
}

// warmAuthzWebhook starts a server whose webhook is b (unknown users for
// the load), and returns the four identities of the load tests, what
// each must be answered, and the admin: the webhook's allow and deny are
// cached by then (two backend calls) and RBAC's user is granted.
func warmAuthzWebhook(t *testing.T, b *sarBackend, unknown int) (*localserver.Server, *client, map[string]*client, map[string]int) {
	t.Helper()
	s := authzWebhookServer(t, b, unknown)
	admin := newClient(t, s, "admin")
	grantConfigMaps(t, s, admin, "rbac-users")
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("x", nil))
	clients := map[string]*client{
		"wh-allowed": newClient(t, s, "wh-allowed-token-1a2b3c4d5e"),
		"wh-denied":  newClient(t, s, "wh-denied-token-6f7a8b9c0d"),
		"rbac-user":  newClient(t, s, "rbac-user-token-1e2f3a4b5c"),
		"admin":      admin,
	}
	want := map[string]int{"wh-allowed": http.StatusOK, "wh-denied": http.StatusForbidden, "rbac-user": http.StatusOK, "admin": http.StatusOK}
	for _, name := range []string{"wh-allowed", "wh-denied", "rbac-user"} {
		clients[name].must(t, want[name], http.MethodGet, cmPath("x"), "")
	}
	if got := b.calls.Load(); got != 2 {
		t.Fatalf("backend calls after warming the cache = %d, want 2 (wh-allowed, wh-denied)", got)
	}
	return s, admin, clients, want
}

// summarize is the latency summary of the named identities and of the
// unknown-* users together.
func summarize(lat map[string][]time.Duration) string {
	merged := map[string][]time.Duration{}
	for name, l := range lat {
		if strings.HasPrefix(name, "unknown-") {
			name = "undecided"
		}
		merged[name] = append(merged[name], l...)
	}
	l := identityLoad{lat: merged}
	return l.summary()
}
