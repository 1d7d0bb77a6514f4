package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/initca"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
)

// File names inside a CA folder.
const (
	CACertFile    = "ca.crt"
	CAKeyFile     = "ca.key"
	CACRLFile     = "ca.crl"
	RevokedDBFile = "revoked.json"
)

// DefaultCAExpiry is how long a new CA lives unless asked otherwise: ten
// years, as kubeadm's CA.
const DefaultCAExpiry = 10 * 365 * 24 * time.Hour

// backdate is subtracted from "now" for notBefore, as cfssl does by
// default, so a certificate is valid at once on machines whose clocks lag
// a little.
const backdate = 5 * time.Minute

// CA is a loaded certificate authority: its certificate and key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Dir is the folder it was loaded from, where its CRL and revocation
	// records live.
	Dir string
}

// InitCARequest describes a new CA.
type InitCARequest struct {
	CommonName string        `json:"commonName"`
	Key        KeySpec       `json:"key"`
	Expiry     time.Duration `json:"-"`
	Now        time.Time     `json:"-"`
}

// NewCA creates a self-signed CA certificate and key through cfssl: its
// CA signing policy (cert sign, CRL sign, CA:TRUE) with the validity set
// from req.Now.
func NewCA(req InitCARequest) (certPEM, keyPEM []byte, err error) {
	if err := validateName("CA common name", req.CommonName); err != nil {
		return nil, nil, err
	}
	if req.Expiry == 0 {
		req.Expiry = DefaultCAExpiry
	}
	if req.Expiry < 0 {
		return nil, nil, fmt.Errorf("expiry %s: must be positive", formatDays(req.Expiry))
	}
	priv, keyPEM, err := generateKey(req.Key)
	if err != nil {
		return nil, nil, err
	}
	csrPEM, err := csr.Generate(priv, &csr.CertificateRequest{CN: req.CommonName, CA: &csr.CAConfig{}})
	if err != nil {
		return nil, nil, fmt.Errorf("creating CA request: %w", err)
	}
	s, err := local.NewSigner(priv, nil, signer.DefaultSigAlgo(priv), initca.CAPolicy())
	if err != nil {
		return nil, nil, fmt.Errorf("creating CA signer: %w", err)
	}
	notBefore := req.Now.UTC().Truncate(time.Second).Add(-backdate)
	certPEM, err = s.Sign(signer.SignRequest{
		Request:   string(csrPEM),
		NotBefore: notBefore,
		NotAfter:  req.Now.UTC().Truncate(time.Second).Add(req.Expiry),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	return certPEM, keyPEM, nil
}

// InitCAResult tells what "ca init" wrote.
type InitCAResult struct {
	Files       []string `json:"files"`
	Certificate CertInfo `json:"certificate"`
}

// InitCA creates a CA and writes ca.crt and ca.key (0600) into dir.
func InitCA(req InitCARequest, dir string, force bool) (*InitCAResult, error) {
	certPEM, keyPEM, err := NewCA(req)
	if err != nil {
		return nil, err
	}
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	files := []File{
		{Path: keyPath, Data: keyPEM, Mode: modePrivate},
		{Path: certPath, Data: certPEM, Mode: modePublic},
	}
	if err := WriteFiles(files, force); err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(certPath, certPEM)
	if err != nil {
		return nil, err
	}
	return &InitCAResult{
		Files:       []string{certPath, keyPath},
		Certificate: Describe(certs[0], certPath, req.Now),
	}, nil
}

// LoadCA reads ca.crt and ca.key from dir and checks that the certificate
// is a CA and that the key belongs to it.
func LoadCA(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, caReadError(dir, err)
	}
	certs, err := ParseCertificates(certPath, certPEM)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("%s: certificate %q is not a CA: expected basic constraints CA:TRUE", certPath, cert.Subject.String())
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s: certificate %q may not sign certificates: expected key usage cert sign", certPath, cert.Subject.String())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, caReadError(dir, err)
	}
	key, err := ParsePrivateKey(keyPath, keyPEM)
	if err != nil {
		return nil, err
	}
	if !keyMatches(key, cert.PublicKey) {
		return nil, fmt.Errorf("%s does not match %s: expected the private key of the CA certificate", keyPath, certPath)
	}
	return &CA{Cert: cert, Key: key, Dir: dir}, nil
}

// ErrNoCA marks a CA folder without ca.crt or ca.key.
var ErrNoCA = errors.New("no CA")

// caError is a CA folder that cannot be read; it is [ErrNoCA] when a
// file is missing.
type caError struct {
	dir string
	err error
}

func (e *caError) Error() string { return fmt.Sprintf("loading CA from %s: %v", e.dir, e.err) }
func (e *caError) Unwrap() error { return e.err }
func (e *caError) Is(target error) bool {
	return target == ErrNoCA && errors.Is(e.err, fs.ErrNotExist)
}

func caReadError(dir string, err error) error { return &caError{dir: dir, err: err} }
