package authn

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half-open"
)

// ErrBreakerOpen is what a request gets while the breaker is open. It is
// not one of the errors k8s.io/apiserver's webhook clients retry, so an
// open breaker also ends their backoff loop at once.
var ErrBreakerOpen = errors.New("circuit breaker open: the webhook backend failed repeatedly and is not called for now")

// BreakerOptions tune a [Breaker].
type BreakerOptions struct {
	// Name identifies the backend in logs and health checks.
	Name string
	// Failures is how many consecutive failed calls open the breaker
	// (default 5).
	Failures int
	// Cooldown is how long the breaker stays open before it lets one
	// probe call through (default 30s).
	Cooldown time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives state changes (default: discarded).
	Logger *slog.Logger
}

// Breaker is a circuit breaker for an HTTP backend. A call fails when the
// transport fails or the backend answers 5xx or 429; after Failures
// failures in a row the breaker opens and calls fail at once without
// reaching the backend; after Cooldown one probe call goes through, and
// its outcome closes or reopens the breaker. This is what the Keystone
// outage lacked: clients that retried forever kept a sick identity
// service down.
type Breaker struct {
	opts BreakerOptions

	mu        sync.Mutex
	state     string
	failures  int
	openedAt  time.Time
	probing   bool
	lastError string
	opened    int
}

// NewBreaker returns a closed breaker.
func NewBreaker(opts BreakerOptions) *Breaker {
	if opts.Failures <= 0 {
		opts.Failures = 5
	}
	if opts.Cooldown <= 0 {
		opts.Cooldown = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Breaker{opts: opts, state: BreakerClosed}
}

// BreakerState is a snapshot of a breaker for logs and /readyz.
type BreakerState struct {
	Name                string `json:"name"`
	State               string `json:"state"`
	ConsecutiveFailures int    `json:"consecutiveFailures"`
	// Opened counts how many times the breaker has opened.
	Opened int `json:"opened"`
	// RetryAfterSeconds is the time left before the next probe while
	// open.
	RetryAfterSeconds int    `json:"retryAfterSeconds,omitempty"`
	LastError         string `json:"lastError,omitempty"`
}

// State returns a snapshot.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := BreakerState{Name: b.opts.Name, State: b.state, ConsecutiveFailures: b.failures, Opened: b.opened, LastError: b.lastError}
	if b.state == BreakerOpen {
		left := b.openedAt.Add(b.opts.Cooldown).Sub(b.opts.Now())
		s.RetryAfterSeconds = int((left + time.Second - 1) / time.Second)
	}
	return s
}

// Name is the health check name: webhook-breaker-NAME.
func (b *Breaker) Name() string { return "webhook-breaker-" + b.opts.Name }

// Check fails while the breaker is open, so /readyz?verbose names the
// backend that is cut off.
func (b *Breaker) Check(*http.Request) error {
	s := b.State()
	if s.State == BreakerOpen {
		return fmt.Errorf("circuit open after %d consecutive failures (last: %s); next probe in %ds", s.ConsecutiveFailures, s.LastError, s.RetryAfterSeconds)
	}
	return nil
}

// allow decides whether a call may go to the backend now.
func (b *Breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true
	case BreakerOpen:
		if b.opts.Now().Before(b.openedAt.Add(b.opts.Cooldown)) {
			return false
		}
		b.state = BreakerHalfOpen
		b.opts.Logger.Info("webhook circuit breaker half-open: probing the backend", "webhook", b.opts.Name)
		fallthrough
	default: // half-open: one probe at a time
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
}

// record notes the outcome of a call that allow let through.
func (b *Breaker) record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.state == BreakerHalfOpen
	b.probing = false
	if err == nil {
		if b.state != BreakerClosed {
			b.opts.Logger.Info("webhook circuit breaker closed: the backend answers again", "webhook", b.opts.Name)
		}
		b.state, b.failures, b.lastError = BreakerClosed, 0, ""
		return
	}
	b.failures++
	b.lastError = err.Error()
	if wasProbe || b.failures >= b.opts.Failures {
		b.state, b.openedAt = BreakerOpen, b.opts.Now()
		b.opened++
		b.opts.Logger.Warn("webhook circuit breaker open: not calling the backend", "webhook", b.opts.Name,
			"consecutiveFailures", b.failures, "cooldown", b.opts.Cooldown.String(), "lastError", b.lastError)
	}
}

// Wrap returns a RoundTripper that passes calls through the breaker; use
// it as a rest.Config's WrapTransport.
func (b *Breaker) Wrap(rt http.RoundTripper) http.RoundTripper {
	return &breakerTransport{b: b, next: rt}
}

type breakerTransport struct {
	b    *Breaker
	next http.RoundTripper
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.b.allow() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%s: %w", t.b.opts.Name, ErrBreakerOpen)
	}
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		t.b.record(err)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		t.b.record(fmt.Errorf("backend answered %s", resp.Status))
	default:
		t.b.record(nil)
	}
	return resp, err
}
