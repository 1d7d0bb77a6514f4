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

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authorization/authorizer"

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
	cfg     Config
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
	s := &Server{cfg: c}
	tokens, authz, objects, err := load(ctx, c)
	if err != nil {
		return nil, err
	}
	c.Tokens, c.Authorizer, s.PolicyObjects = tokens, authz, objects
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

// load reads the token file and the policy of c.
func load(ctx context.Context, c Config) (authenticator.Token, authorizer.Authorizer, int, error) {
	var tokens authenticator.Token
	var authz authorizer.Authorizer
	objects := 0
	if c.TokenAuthFile != "" {
		if err := checkTokenFile(c.TokenAuthFile); err != nil {
			return nil, nil, 0, &ConfigError{err}
		}
		tf, err := tokenfile.NewCSV(c.TokenAuthFile)
		if err != nil {
			return nil, nil, 0, &ConfigError{fmt.Errorf("--token-auth-file: %w", err)}
		}
		tokens = tf
	}
	if len(c.Policy.From) > 0 || c.Policy.Bootstrap {
		loaded, err := rbac.Load(ctx, c.Policy)
		if err != nil {
			var se *rbac.SourceError
			if errors.As(err, &se) {
				return nil, nil, 0, &ConfigError{err}
			}
			return nil, nil, 0, err
		}
		authz, objects = rbac.NewAuthorizer(loaded.Index), loaded.Objects
	}
	return tokens, authz, objects, nil
}

// Reload reads the token file and the policy again (a git:REF:PATH
// source moves with its ref) and swaps them in; on an error the server
// keeps answering from what it had. It returns the number of RBAC
// objects now loaded.
func (s *Server) Reload(ctx context.Context) (int, error) {
	tokens, authz, objects, err := load(ctx, s.cfg)
	if err != nil {
		return s.PolicyObjects, err
	}
	s.Handler.Swap(tokens, authz)
	s.PolicyObjects = objects
	return objects, nil
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
