package authn

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
)

// CRL checks client certificates against the CRL file of --client-crl-file
// (the one `kauth cert revoke` writes). The file is read again whenever
// its size or modification time changes, so a revocation takes effect on
// the next request without a restart.
type CRL struct {
	path string
	// roots, if set, must have signed the CRL.
	roots []*x509.Certificate

	mu     sync.Mutex
	stamp  fileStamp
	lists  []*x509.RevocationList
	revoke map[string]map[string]bool // issuer DER -> serial (decimal) -> revoked
	err    error
}

type fileStamp struct {
	size    int64
	modTime time.Time
}

// NewCRL reads path now, so that a missing or invalid file stops the
// server at start; roots (the client CAs) verify the CRL's signature when
// given.
func NewCRL(path string, roots []*x509.Certificate) (*CRL, error) {
	c := &CRL{path: path, roots: roots}
	if err := c.refresh(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCRLs reads one or more CRLs in PEM ("X509 CRL" blocks) or one in
// DER.
func ParseCRLs(name string, data []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		l, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, fmt.Errorf("%s: parsing CRL: %w", name, err)
		}
		return []*x509.RevocationList{l}, nil
	}
	var out []*x509.RevocationList
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: parsing CRL %d: %w", name, len(out)+1, err)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no CRL found: expected a -----BEGIN X509 CRL----- block", name)
	}
	return out, nil
}

// refresh re-reads the file if it changed. A file that cannot be read or
// verified fails closed: every client certificate is refused until it is
// fixed.
func (c *CRL) refresh() error {
	fi, err := os.Stat(c.path)
	if err != nil {
		return c.fail(fileStamp{}, fmt.Errorf("--client-crl-file: %w", err))
	}
	st := fileStamp{size: fi.Size(), modTime: fi.ModTime()}
	c.mu.Lock()
	same := st == c.stamp && (c.lists != nil || c.err != nil)
	c.mu.Unlock()
	if same {
		return c.current()
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return c.fail(st, fmt.Errorf("--client-crl-file: %w", err))
	}
	lists, err := ParseCRLs(c.path, data)
	if err != nil {
		return c.fail(st, err)
	}
	if err := c.verify(lists); err != nil {
		return c.fail(st, err)
	}
	revoked := map[string]map[string]bool{}
	for _, l := range lists {
		m := revoked[string(l.RawIssuer)]
		if m == nil {
			m = map[string]bool{}
			revoked[string(l.RawIssuer)] = m
		}
		for _, e := range l.RevokedCertificateEntries {
			m[e.SerialNumber.String()] = true
		}
	}
	c.mu.Lock()
	c.stamp, c.lists, c.revoke, c.err = st, lists, revoked, nil
	c.mu.Unlock()
	return nil
}

func (c *CRL) verify(lists []*x509.RevocationList) error {
	if len(c.roots) == 0 {
		return nil
	}
	for i, l := range lists {
		ok := false
		for _, r := range c.roots {
			if bytes.Equal(r.RawSubject, l.RawIssuer) && l.CheckSignatureFrom(r) == nil {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%s: CRL %d is not signed by a client CA", c.path, i+1)
		}
	}
	return nil
}

func (c *CRL) fail(st fileStamp, err error) error {
	c.mu.Lock()
	c.stamp, c.lists, c.revoke, c.err = st, nil, nil, err
	c.mu.Unlock()
	return err
}

func (c *CRL) current() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// ErrRevoked is returned for a revoked certificate.
var ErrRevoked = errors.New("certificate has been revoked")

// Check returns an error wrapping [ErrRevoked] if cert is revoked by a CRL
// of its issuer, or the file's problem if the CRL cannot be used.
func (c *CRL) Check(cert *x509.Certificate) error {
	if err := c.refresh(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoke[string(cert.RawIssuer)][cert.SerialNumber.String()] {
		return fmt.Errorf("x509: certificate %q (serial %s): %w", cert.Subject.CommonName, serialHex(cert.SerialNumber), ErrRevoked)
	}
	return nil
}

func serialHex(n *big.Int) string { return fmt.Sprintf("%X", n) }

// WrapRequest puts the check in front of a client certificate
// authenticator: a request whose leaf certificate is revoked is not
// authenticated by it.
func (c *CRL) WrapRequest(next authenticator.Request) authenticator.Request {
	return authenticator.RequestFunc(func(req *http.Request) (*authenticator.Response, bool, error) {
		if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
			return nil, false, nil
		}
		if err := c.Check(req.TLS.PeerCertificates[0]); err != nil {
			return nil, false, err
		}
		return next.AuthenticateRequest(req)
	})
}
