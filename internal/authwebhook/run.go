package authwebhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/apiserver/pkg/authentication/token/tokenfile"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/tokens"
)

// Config is "kauth webhook serve".
type Config struct {
	Listen string `json:"listen"`
	// CertFile and KeyFile are the serving certificate and key.
	CertFile string `json:"tlsCertFile"`
	KeyFile  string `json:"tlsPrivateKeyFile"`
	// ClientCAFile, if set, requires a client certificate it verifies.
	ClientCAFile string `json:"clientCAFile,omitempty"`
	// TokenAuthFile answers TokenReviews.
	TokenAuthFile string `json:"tokenAuthFile,omitempty"`
	// Policy answers SubjectAccessReviews.
	Policy rbac.Sources `json:"-"`
	Options
}

// ConfigError is a problem with the configuration's files or values (as
// opposed to a failure to listen).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Server is a ready-to-run webhook server.
type Server struct {
	Handler *Handler
	ln      net.Listener
	srv     *http.Server
	// PolicyObjects counts the RBAC objects loaded.
	PolicyObjects int
}

// New reads the files, loads the policy and listens.
func New(ctx context.Context, c Config) (*Server, error) {
	if c.TokenAuthFile == "" && len(c.Policy.From) == 0 && !c.Policy.Bootstrap {
		return nil, &ConfigError{errors.New("nothing to answer: expected --token-auth-file, --from or --bootstrap-policy")}
	}
	s := &Server{}
	if c.TokenAuthFile != "" {
		if err := checkTokenFile(c.TokenAuthFile); err != nil {
			return nil, &ConfigError{err}
		}
		tf, err := tokenfile.NewCSV(c.TokenAuthFile)
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("--token-auth-file: %w", err)}
		}
		c.Tokens = tf
	}
	if len(c.Policy.From) > 0 || c.Policy.Bootstrap {
		loaded, err := rbac.Load(ctx, c.Policy)
		if err != nil {
			var se *rbac.SourceError
			if errors.As(err, &se) {
				return nil, &ConfigError{err}
			}
			return nil, err
		}
		c.Authorizer = rbac.NewAuthorizer(loaded.Index)
		s.PolicyObjects = loaded.Objects
	}
	tlsCfg, err := serverTLS(c)
	if err != nil {
		return nil, &ConfigError{err}
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, err
	}
	s.Handler = NewHandler(c.Options)
	s.ln = tls.NewListener(ln, tlsCfg)
	s.srv = &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.Handler.o.Logger.Handler(), slog.LevelDebug)}
	return s, nil
}

// checkTokenFile reports the first problem of a static token file with
// its line, as "kauth token static lint" does.
func checkTokenFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--token-auth-file: %w", err)
	}
	_, err = tokens.ReadStatic(path, data)
	return err
}

func serverTLS(c Config) (*tls.Config, error) {
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("--tls-cert-file and --tls-private-key-file are required: kube-apiserver only calls webhooks over HTTPS")
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading --tls-cert-file and --tls-private-key-file: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca-file %s: no PEM certificate found", c.ClientCAFile)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// URL is the server's base URL.
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(s.ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
