package localserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kauth/kauth/internal/localserver/api"
	"github.com/kauth/kauth/internal/localserver/storage"
)

// loopbackUser is the identity of the server's own requests (seeding), as
// kube-apiserver names its loopback client.
const loopbackUser = user.APIServerUser

// Server is one running kauth serve: a TLS listener, the store, the
// handler chain and the controllers on the store's watch.
type Server struct {
	cfg        Config
	ln         net.Listener
	url        string
	pki        *PKI
	store      storage.Interface
	keeper     *rbacKeeper
	defaults   *namespaceDefaults
	audit      *auditing
	handler    http.Handler
	http       *http.Server
	kubeconfig string
	tmpDir     string
	loopback   string
	ready      chan struct{}
	settled    chan struct{}
	stopping   chan struct{}
	// breakers are the /readyz checks of the webhooks' circuit breakers.
	breakers []healthz.HealthChecker
	// adm is admission and APF (admission.go).
	adm *admissionAndAPF
	// tokens fills in Secret-based service-account tokens.
	tokens *tokensController
}

// New prepares a server: it listens (so a ":0" port is known), loads or
// makes the PKI, opens the store, seeds it, builds the handler chain and
// writes the admin kubeconfig. Nothing is served until [Server.Run].
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ready: make(chan struct{}), settled: make(chan struct{}), stopping: make(chan struct{})}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := s.listen(); err != nil {
		return nil, err
	}
	if err := s.openStore(); err != nil {
		return nil, err
	}
	// Seeding (decoding the bootstrap policy is most of the start-up time)
	// and building the handler chain do not depend on each other.
	seeded := make(chan error, 1)
	go func() { seeded <- seedDefaults(ctx, s.store) }()
	if err := errors.Join(s.buildHandler(ctx), <-seeded); err != nil {
		return nil, err
	}
	if err := s.seedSources(ctx); err != nil {
		return nil, err
	}
	if err := s.keeper.rebuild(ctx); err != nil {
		return nil, err
	}
	if err := s.defaults.ensureAll(ctx); err != nil {
		return nil, err
	}
	if err := s.writeKubeconfig(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen() error {
	host, _, _ := net.SplitHostPort(s.cfg.Listen)
	if s.cfg.DataDir != "" {
		if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("--data-dir: %w", err)
		}
	}
	p, err := loadOrCreatePKI(&s.cfg, servingHosts(host))
	if err != nil {
		return err
	}
	s.pki = p
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	s.ln = ln
	s.url = "https://" + clientAddr(ln.Addr().(*net.TCPAddr))
	return nil
}

// clientAddr is the address a local client dials: a wildcard listen
// address is reached on loopback.
func clientAddr(a *net.TCPAddr) string {
	ip := a.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

func (s *Server) openStore() error {
	if s.cfg.DataDir == "" {
		s.store = storage.NewMemory()
		return nil
	}
	st, err := storage.OpenBolt(filepath.Join(s.cfg.DataDir, "kauth.db"))
	if err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	s.store = st
	return nil
}

// buildHandler wires authentication, authorization, audit, the REST layer
// and health behind the handler chain.
func (s *Server) buildHandler(ctx context.Context) error {
	c := &s.cfg
	getter := storeGetter{s.store}
	sa, err := newSATokens(c, s.pki, getter)
	if err != nil {
		return err
	}
	if s.loopback, err = randToken(c.rand()); err != nil {
		return err
	}
	own := privilegedTokens{{token: s.loopback, user: &user.DefaultInfo{Name: loopbackUser, Groups: []string{user.SystemPrivilegedGroup}}}}
	if s.pki.AdminToken != "" {
		own = append(own, privilegedToken{token: s.pki.AdminToken, user: &user.DefaultInfo{Name: AdminUser, Groups: []string{AdminGroup}}})
	}
	ext, err := buildExternal(ctx, c, s.pki)
	if err != nil {
		return err
	}
	authn, err := buildAuthenticators(c, s.pki, own, sa, &bootstrapTokens{secrets: getter, now: c.now}, ext)
	if err != nil {
		return err
	}
	s.keeper = newRBACKeeper(s.store, c.logger())
	authz, authzChecks, err := buildAuthorizer(c, s.keeper)
	if err != nil {
		return err
	}
	s.breakers = append(ext.Checks(), authzChecks...)
	if s.audit, err = buildAudit(c); err != nil {
		return err
	}
	signer := &csrSigner{ca: s.pki, now: c.now, rnd: c.rand()}
	if err := s.buildAdmissionAndAPF(authz); err != nil {
		return err
	}
	sa.labelSecret = storeLabeler(getter)
	s.tokens = newTokensController(s.adm.client, s.adm.informers, sa, s.pki.CAPEM)
	a, err := api.New(s.store, api.Hooks{Authorizer: authz, TokenAuthenticator: authn.token, IssueToken: sa.TokenRequest, SignCSR: signer.Sign, Admission: s.adm.gate})
	if err != nil {
		return err
	}
	s.defaults = &namespaceDefaults{store: s.store, caPEM: s.pki.CAPEM, log: c.logger()}
	s.handler = buildHandlerChain(routeHealth(s.healthHandler(), withProfiling(c.Profiling, s.adm.withAPFDebug(a.Handler()))), chainConfig{
		authn:          authn.request,
		apiAudiences:   authenticator.Audiences(c.issuers()),
		authz:          authz,
		audit:          s.audit,
		maxInFlight:    c.MaxRequestsInFlight,
		maxMutating:    c.MaxMutatingRequestsInFlight,
		apf:            s.adm.withAPF(),
		requestTimeout: c.RequestTimeout,
		serializer:     scheme.Codecs.WithoutConversion(),
		stopping:       s.stopping,
	})
	return nil
}

func (s *Server) writeKubeconfig() error {
	data, err := adminKubeconfig(s.url, s.pki)
	if err != nil {
		return fmt.Errorf("building the admin kubeconfig: %w", err)
	}
	path := s.cfg.KubeconfigOut
	switch {
	case path != "":
	case s.cfg.DataDir != "":
		path = filepath.Join(s.cfg.DataDir, "kubeconfig")
	default:
		dir, err := os.MkdirTemp("", "kauth-serve-")
		if err != nil {
			return err
		}
		s.tmpDir = dir
		path = filepath.Join(dir, "kubeconfig")
	}
	if err := writeKubeconfig(path, data, s.cfg.Force); err != nil {
		return fmt.Errorf("--kubeconfig-out: %w", err)
	}
	s.kubeconfig = path
	return nil
}

// Run serves until ctx ends, then shuts down gracefully: in-flight
// requests finish (up to the request timeout), watches end, the store is
// closed.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rv := s.store.ResourceVersion()
	go s.keeper.run(ctx, rv)
	s.defaults.run(ctx, rv)
	s.http = &http.Server{
		Handler:        s.handler,
		TLSConfig:      s.tlsConfig(),
		MaxHeaderBytes: 1 << 20,
		// kube-apiserver's values (SecureServingInfo.Serve): idle
		// keep-alive connections, HTTP/1.1 and HTTP/2, are closed after
		// 90 s, and a request header must arrive within 32 s.
		IdleTimeout:       90 * time.Second,
		ReadHeaderTimeout: 32 * time.Second,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(tls.NewListener(s.ln, s.http.TLSConfig)) }()
	s.startAdmissionAndAPF(ctx)
	go s.tokens.run(ctx) // its caches have synced with the admission ones
	close(s.ready)
	go func() {
		for _, synced := range []<-chan struct{}{s.adm.controllers.Synced(), s.tokens.Synced()} {
			select {
			case <-synced:
			case <-ctx.Done():
				return
			}
		}
		close(s.settled)
	}()
	// Starting up (decoding the bootstrap policy, building the admission
	// plugins, the controllers' first lists) leaves the heap several MB
	// above what stays live, and the runtime keeps about its last goal
	// resident while the server idles; give that back once, now, without
	// holding up a shutdown that is already asked for.
	go debug.FreeOSMemory()
	select {
	case err := <-errc:
		s.close()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	close(s.stopping)
	shutdownCtx, stop := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer stop()
	err := s.http.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.http.Close()
	}
	cancel()
	return errors.Join(err, s.close())
}

// tlsConfig serves the serving certificate and asks for (but does not
// require) a client certificate, which the x509 authenticator verifies,
// as kube-apiserver does.
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{s.pki.Serving},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    s.pki.ClientCAs,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

func (s *Server) close() error {
	var errs []error
	if s.ln != nil && s.http == nil {
		errs = append(errs, s.ln.Close())
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.audit != nil {
		errs = append(errs, s.audit.close())
	}
	if s.tmpDir != "" {
		errs = append(errs, os.RemoveAll(s.tmpDir))
	}
	return errors.Join(errs...)
}

// Ready is closed once the server accepts requests.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Settled is closed once the server is ready and its controllers have
// made their first pass over what was there at start (quota status,
// creators' bindings, token Secrets): what a command run against a fresh
// sandbox expects to see. kube-apiserver's readiness does not wait for
// kube-controller-manager, and neither does [Server.Ready].
func (s *Server) Settled() <-chan struct{} { return s.settled }

// URL is the https URL clients use.
func (s *Server) URL() string { return s.url }

// KubeconfigPath is where the admin kubeconfig was written.
func (s *Server) KubeconfigPath() string { return s.kubeconfig }

// CAPEM is the serve CA, the trust root of the serving certificate.
func (s *Server) CAPEM() []byte { return s.pki.CAPEM }

// Store is the server's store, for in-process callers such as benchmarks.
func (s *Server) Store() storage.Interface { return s.store }

// WaitForRBAC blocks until authorization reflects every change stored up
// to now, or ctx ends.
func (s *Server) WaitForRBAC(ctx context.Context) error {
	return s.keeper.waitFor(ctx, s.store.ResourceVersion())
}
