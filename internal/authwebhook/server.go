package authwebhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/utils/clock"

	"github.com/kauth/kauth/internal/rbac"
)

// Defaults of [Options].
const (
	DefaultTokenTTL        = 2 * time.Minute
	DefaultAuthorizedTTL   = 5 * time.Minute
	DefaultUnauthorizedTTL = 30 * time.Second
	DefaultRate            = 100
	DefaultBurst           = 200
	// MaxBodyBytes is the largest review accepted, kube-apiserver's own
	// request limit.
	MaxBodyBytes = 3 << 20
	cacheEntries = 10000
)

// Options configure a [Handler].
type Options struct {
	// Tokens answers TokenReviews; nil answers 404 on /authenticate.
	Tokens authenticator.Token
	// Authorizer answers SubjectAccessReviews; nil answers 404 on
	// /authorize.
	Authorizer authorizer.Authorizer
	// TokenTTL caches a TokenReview answer (either way); 0 or less does
	// not cache.
	TokenTTL time.Duration
	// AuthorizedTTL and UnauthorizedTTL cache SubjectAccessReview
	// answers; 0 or less does not cache.
	AuthorizedTTL, UnauthorizedTTL time.Duration
	// Rate and Burst limit each client (its certificate's common name, or
	// its IP address): requests per second and bucket size. Rate 0 means
	// no limit.
	Rate  float64
	Burst int
	// Clock is the clock of the caches and limiters (default real).
	Clock clock.Clock
	// Logger receives one line per refused request (default: discarded).
	Logger *slog.Logger
}

// Handler serves /authenticate, /authorize and /healthz.
type Handler struct {
	o       Options
	backend atomic.Pointer[backend]
	tokens  *cache.LRUExpireCache
	sars    *cache.LRUExpireCache
	mux     *http.ServeMux

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	stats    Stats
}

// Stats count what the handler did.
type Stats struct {
	TokenReviews  int64 `json:"tokenReviews"`
	AccessReviews int64 `json:"accessReviews"`
	CacheHits     int64 `json:"cacheHits"`
	RateLimited   int64 `json:"rateLimited"`
	BadRequests   int64 `json:"badRequests"`
}

// NewHandler builds the handler.
func NewHandler(o Options) *Handler {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Handler{o: o, limiters: map[string]*rate.Limiter{}, mux: http.NewServeMux(),
		tokens: cache.NewLRUExpireCacheWithClock(cacheEntries, o.Clock), sars: cache.NewLRUExpireCacheWithClock(cacheEntries, o.Clock)}
	h.backend.Store(&backend{tokens: o.Tokens, authz: o.Authorizer})
	if o.Tokens != nil {
		h.mux.HandleFunc("POST /authenticate", h.limit(h.authenticate))
	}
	if o.Authorizer != nil {
		h.mux.HandleFunc("POST /authorize", h.limit(h.authorize))
	}
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	return h
}

// backend is what answers the reviews; [Handler.Swap] replaces it whole.
type backend struct {
	// gen prefixes the cache keys, so that an answer of an old backend
	// cached during a swap is never found.
	gen    uint64
	tokens authenticator.Token
	authz  authorizer.Authorizer
}

// Swap replaces the token authenticator and the authorizer (nil keeps
// the current one) and empties the caches, whose answers came from the
// old ones.
func (h *Handler) Swap(tokens authenticator.Token, authz authorizer.Authorizer) {
	cur := h.backend.Load()
	next := &backend{gen: cur.gen + 1, tokens: cur.tokens, authz: cur.authz}
	if tokens != nil {
		next.tokens = tokens
	}
	if authz != nil {
		next.authz = authz
	}
	h.backend.Store(next)
	h.tokens.RemoveAll(func(any) bool { return true })
	h.sars.RemoveAll(func(any) bool { return true })
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Stats returns the counters.
func (h *Handler) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

func (h *Handler) count(f func(*Stats)) {
	h.mu.Lock()
	f(&h.stats)
	h.mu.Unlock()
}

// ClientKey names the client a request comes from for rate limiting: the
// common name of its verified client certificate, else its IP address.
func ClientKey(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return "cn:" + r.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

func (h *Handler) limiter(key string) *rate.Limiter {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.limiters[key]
	if l == nil {
		if len(h.limiters) >= cacheEntries {
			clear(h.limiters) // a flood of client keys resets every bucket rather than growing without bound
		}
		l = rate.NewLimiter(rate.Limit(h.o.Rate), h.o.Burst)
		h.limiters[key] = l
	}
	return l
}

// limit answers 429 with Retry-After, which kube-apiserver's webhook
// clients retry with backoff.
func (h *Handler) limit(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.o.Rate > 0 && !h.limiter(ClientKey(r)).AllowN(h.o.Clock.Now(), 1) {
			h.count(func(s *Stats) { s.RateLimited++ })
			w.Header().Set("Retry-After", "1")
			writeStatus(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests, "rate limit exceeded for "+ClientKey(r))
			return
		}
		next(w, r)
	}
}

func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeStatus(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxBodyBytes))
		} else {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "reading body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	h.count(func(s *Stats) { s.BadRequests++ })
	h.o.Logger.Info("bad review request", "client", ClientKey(r), "path", r.URL.Path, "error", err.Error())
	writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	tr, err := DecodeTokenReview(body)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.count(func(s *Stats) { s.TokenReviews++ })
	b := h.backend.Load()
	key := strconv.FormatUint(b.gen, 10) + ":" + tokenKey(tr)
	status, hit := h.tokens.Get(key)
	if hit {
		h.count(func(s *Stats) { s.CacheHits++ })
	} else {
		status = Authenticate(r.Context(), b.tokens, tr)
		if h.o.TokenTTL > 0 && status.(authenticationv1.TokenReviewStatus).Error == "" {
			h.tokens.Add(key, status, h.o.TokenTTL)
		}
	}
	writeReview(w, tr.APIVersion, "TokenReview", map[string]any{"status": status})
}

// tokenKey hashes the token (never kept in memory as a map key) with the
// audiences.
func tokenKey(tr *authenticationv1.TokenReview) string {
	s := sha256.New()
	_, _ = io.WriteString(s, tr.Spec.Token)
	for _, a := range tr.Spec.Audiences {
		_, _ = io.WriteString(s, "\x00"+a)
	}
	return hex.EncodeToString(s.Sum(nil))
}

// Authenticate answers one TokenReview. An unknown token is
// authenticated: false with no error, as kube-apiserver's token
// authenticators answer it; audiences are echoed because static tokens are
// valid for any audience.
func Authenticate(ctx context.Context, tokens authenticator.Token, tr *authenticationv1.TokenReview) authenticationv1.TokenReviewStatus {
	if len(tr.Spec.Audiences) > 0 {
		ctx = authenticator.WithAudiences(ctx, tr.Spec.Audiences)
	}
	resp, ok, err := tokens.AuthenticateToken(ctx, tr.Spec.Token)
	if err != nil {
		return authenticationv1.TokenReviewStatus{Error: "token could not be verified"}
	}
	if !ok {
		return authenticationv1.TokenReviewStatus{}
	}
	u := resp.User
	st := authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups()}}
	if extra := u.GetExtra(); len(extra) > 0 {
		st.User.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range extra {
			st.User.Extra[k] = v
		}
	}
	if len(resp.Audiences) > 0 {
		st.Audiences = resp.Audiences
	} else {
		st.Audiences = tr.Spec.Audiences
	}
	return st
}

func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	sar, err := DecodeSubjectAccessReview(body)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	h.count(func(s *Stats) { s.AccessReviews++ })
	b := h.backend.Load()
	key, err := sarKey(sar)
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	key = strconv.FormatUint(b.gen, 10) + ":" + key
	status, hit := h.sars.Get(key)
	if hit {
		h.count(func(s *Stats) { s.CacheHits++ })
	} else {
		reviewed, err := rbac.Review(r.Context(), b.authz, sar)
		if err != nil {
			h.badRequest(w, r, err)
			return
		}
		status = reviewed.Status
		h.cacheSAR(key, reviewed.Status)
	}
	writeReview(w, sar.APIVersion, "SubjectAccessReview", map[string]any{"status": status})
}

func (h *Handler) cacheSAR(key string, st authorizationv1.SubjectAccessReviewStatus) {
	ttl := h.o.UnauthorizedTTL
	if st.Allowed {
		ttl = h.o.AuthorizedTTL
	}
	if ttl > 0 && st.EvaluationError == "" {
		h.sars.Add(key, st, ttl)
	}
}

func sarKey(sar *authorizationv1.SubjectAccessReview) (string, error) {
	b, err := json.Marshal(sar.Spec)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// writeReview answers with the request's apiVersion and kind and only a
// status, the fields kube-apiserver reads.
func writeReview(w http.ResponseWriter, apiVersion, kind string, fields map[string]any) {
	fields["apiVersion"], fields["kind"] = apiVersion, kind
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(fields)
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	st := metav1.Status{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st)
}
