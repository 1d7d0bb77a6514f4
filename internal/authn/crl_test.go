package authn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"

	"github.com/kauth/kauth/internal/certs"
)

func TestCRLRejectsRevokedCertificates(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "kauth test CA", Expiry: 24 * time.Hour, Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(user string) (*x509.Certificate, string) {
		is, err := certs.Issue(ca, certs.IssueRequest{User: user, Groups: []string{"dev"}, Expiry: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, user+".crt")
		if err := os.WriteFile(p, is.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		return is.Cert, p
	}
	alice, aliceFile := issue("alice")
	bob, bobFile := issue("bob")
	revoke := func(file string) {
		if _, err := certs.Revoke(certs.RevokeRequest{CADir: dir, CertFile: file, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	revoke(aliceFile)

	crlFile := filepath.Join(dir, certs.CACRLFile)
	crl, err := NewCRL(crlFile, []*x509.Certificate{ca.Cert})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	x509Auth := x509request.New(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, x509request.CommonNameUserConversion)
	auth := crl.WrapRequest(x509Auth)
	who := func(c *x509.Certificate) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://127.0.0.1/api", nil)
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c}}
		resp, ok, err := auth.AuthenticateRequest(req)
		if err != nil || !ok {
			return "", err
		}
		return resp.User.GetName(), nil
	}

	if _, err := who(alice); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked alice: err = %v, want ErrRevoked", err)
	}
	if got, err := who(bob); err != nil || got != "bob" {
		t.Errorf("unrevoked bob = %q, %v; want bob", got, err)
	}

	// kauth cert revoke rewrites the CRL; the next request sees it.
	revoke(bobFile)
	if _, err := who(bob); !errors.Is(err, ErrRevoked) {
		t.Errorf("bob after revocation: err = %v, want ErrRevoked", err)
	}

	// A broken CRL fails closed.
	if err := os.WriteFile(crlFile, []byte("garbage that is longer than before to change the size"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := who(bob); err == nil || errors.Is(err, ErrRevoked) {
		t.Errorf("broken CRL: err = %v, want a file error", err)
	}
}

func TestCRLSignatureMustMatchClientCA(t *testing.T) {
	t.Parallel()
	now := time.Now()
	mk := func() (*certs.CA, string) {
		dir := t.TempDir()
		if _, err := certs.InitCA(certs.InitCARequest{CommonName: "same name", Expiry: time.Hour, Now: now}, dir, false); err != nil {
			t.Fatal(err)
		}
		ca, err := certs.LoadCA(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ca, dir
	}
	ca1, _ := mk()
	ca2, dir2 := mk()
	is, err := certs.Issue(ca2, certs.IssueRequest{User: "eve", Expiry: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir2, "eve.crt")
	if err := os.WriteFile(p, is.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Revoke(certs.RevokeRequest{CADir: dir2, CertFile: p, Now: now}); err != nil {
		t.Fatal(err)
	}
	_, err = NewCRL(filepath.Join(dir2, certs.CACRLFile), []*x509.Certificate{ca1.Cert})
	if diff := cmp.Diff(true, err != nil); diff != "" {
		t.Errorf("CRL signed by another CA accepted (-want +got):\n%s", diff)
	}
}
