package localserver

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/util/keyutil"
)

// Admin identity of the kubeconfig the server writes: kubeadm's admin user
// in the privileged group, which the authorizer allows everything.
const (
	AdminUser  = "kubernetes-admin"
	AdminGroup = "system:masters"
)

// Validity of what the server mints. The CA outlives its leaves; leaves are
// renewed at start when less than a day is left.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	renewBefore  = 24 * time.Hour
)

// PKI is what the server needs to serve TLS, verify clients and sign
// tokens and certificates.
type PKI struct {
	CA      *x509.Certificate
	CAKey   crypto.Signer
	CAPEM   []byte
	Serving tls.Certificate
	// ClientCAs verifies client certificates: the serve CA, or the bundle
	// of --client-ca-file.
	ClientCAs *x509.CertPool
	// ClientCAPEM is the bundle ClientCAs was read from.
	ClientCAPEM []byte
	// SAKey signs service-account tokens; SAPublicKeys verify them.
	SAKey        crypto.Signer
	SAPublicKeys []any
	// AdminCertPEM and AdminKeyPEM are set when the serve CA verifies
	// clients; AdminToken when a user-supplied CA does.
	AdminCertPEM []byte
	AdminKeyPEM  []byte
	AdminToken   string
}

// pkiFiles is the layout of the PKI in a data dir.
type pkiFiles struct{ dir string }

func (p pkiFiles) path(name string) string {
	if p.dir == "" {
		return ""
	}
	return filepath.Join(p.dir, "pki", name)
}

// loadOrCreatePKI reads the PKI from the data dir (or the flags' files),
// making and keeping what is missing. With no data dir everything is made
// in memory.
func loadOrCreatePKI(c *Config, hosts []string) (*PKI, error) {
	files := pkiFiles{dir: c.DataDir}
	rnd := c.rand()
	now := c.now()
	p := &PKI{}
	if err := p.loadOrCreateCA(files, rnd, now); err != nil {
		return nil, err
	}
	if err := p.loadOrCreateServing(files, rnd, now, hosts); err != nil {
		return nil, err
	}
	if err := p.loadClientCAs(c); err != nil {
		return nil, err
	}
	if err := p.loadOrCreateAdmin(c, files, rnd, now); err != nil {
		return nil, err
	}
	if err := p.loadOrCreateSAKeys(c, files, rnd); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PKI) loadOrCreateCA(files pkiFiles, rnd io.Reader, now time.Time) error {
	cert, key, err := readPair(files.path("ca.crt"), files.path("ca.key"))
	if err != nil {
		return err
	}
	if cert == nil {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			return fmt.Errorf("generating CA key: %w", err)
		}
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: "kauth-serve-ca"},
			NotBefore:             now.Add(-time.Minute),
			NotAfter:              now.Add(caValidity),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		if cert, err = signCert(rnd, tmpl, nil, key.Public(), key); err != nil {
			return fmt.Errorf("making CA: %w", err)
		}
		if err := writePair(files.path("ca.crt"), files.path("ca.key"), cert, key); err != nil {
			return err
		}
	}
	p.CA, p.CAKey = cert, key
	p.CAPEM = pemCert(cert)
	return nil
}

func (p *PKI) loadOrCreateServing(files pkiFiles, rnd io.Reader, now time.Time, hosts []string) error {
	cert, key, err := readPair(files.path("serving.crt"), files.path("serving.key"))
	if err != nil {
		return err
	}
	if cert == nil || !coversHosts(cert, hosts) || cert.NotAfter.Before(now.Add(renewBefore)) || cert.CheckSignatureFrom(p.CA) != nil {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			return fmt.Errorf("generating serving key: %w", err)
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: "kube-apiserver"},
			NotBefore:   now.Add(-time.Minute),
			NotAfter:    now.Add(leafValidity),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
		if cert, err = signCert(rnd, tmpl, p.CA, key.Public(), p.CAKey); err != nil {
			return fmt.Errorf("making serving certificate: %w", err)
		}
		if err := writePair(files.path("serving.crt"), files.path("serving.key"), cert, key); err != nil {
			return err
		}
	}
	p.Serving = tls.Certificate{Certificate: [][]byte{cert.Raw, p.CA.Raw}, PrivateKey: key, Leaf: cert}
	return nil
}

func (p *PKI) loadClientCAs(c *Config) error {
	p.ClientCAPEM = p.CAPEM
	if c.ClientCAFile != "" {
		data, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return configError(fmt.Errorf("--client-ca-file: %w", err))
		}
		p.ClientCAPEM = data
	}
	certs, err := parseCerts(p.ClientCAPEM)
	if err != nil {
		return configError(fmt.Errorf("--client-ca-file %s: %w", c.ClientCAFile, err))
	}
	p.ClientCAs = x509.NewCertPool()
	for _, cert := range certs {
		p.ClientCAs.AddCert(cert)
	}
	return nil
}

// loadOrCreateAdmin makes the admin credential: a client certificate when
// the serve CA verifies clients, else a token the server mints and keeps,
// since it cannot sign for a CA it does not hold.
func (p *PKI) loadOrCreateAdmin(c *Config, files pkiFiles, rnd io.Reader, now time.Time) error {
	if c.ClientCAFile != "" {
		tok, err := loadOrCreateToken(filepath.Join(c.DataDir, "admin.token"), c.DataDir != "", rnd)
		if err != nil {
			return err
		}
		p.AdminToken = tok
		return nil
	}
	cert, key, err := readPair(files.path("admin.crt"), files.path("admin.key"))
	if err != nil {
		return err
	}
	if cert == nil || cert.NotAfter.Before(now.Add(renewBefore)) || cert.CheckSignatureFrom(p.CA) != nil {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rnd)
		if err != nil {
			return fmt.Errorf("generating admin key: %w", err)
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
			NotBefore:   now.Add(-time.Minute),
			NotAfter:    now.Add(leafValidity),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		if cert, err = signCert(rnd, tmpl, p.CA, key.Public(), p.CAKey); err != nil {
			return fmt.Errorf("making admin certificate: %w", err)
		}
		if err := writePair(files.path("admin.crt"), files.path("admin.key"), cert, key); err != nil {
			return err
		}
	}
	p.AdminCertPEM = pemCert(cert)
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return fmt.Errorf("encoding admin key: %w", err)
	}
	p.AdminKeyPEM = keyPEM
	return nil
}

// loadOrCreateSAKeys reads --service-account-signing-key-file and
// --service-account-key-file, or makes a signing key when neither is given.
// As in kube-apiserver, the signing key's public half always verifies.
func (p *PKI) loadOrCreateSAKeys(c *Config, files pkiFiles, rnd io.Reader) error {
	if c.ServiceAccountSigningKeyFile != "" {
		key, err := keyutil.PrivateKeyFromFile(c.ServiceAccountSigningKeyFile)
		if err != nil {
			return configError(fmt.Errorf("--service-account-signing-key-file: %w", err))
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return configError(fmt.Errorf("--service-account-signing-key-file %s: expected an RSA or ECDSA private key", c.ServiceAccountSigningKeyFile))
		}
		p.SAKey = signer
	} else {
		signer, err := loadOrCreateKey(files.path("sa.key"), rnd)
		if err != nil {
			return err
		}
		p.SAKey = signer
	}
	p.SAPublicKeys = []any{p.SAKey.Public()}
	for _, f := range c.ServiceAccountKeyFiles {
		keys, err := keyutil.PublicKeysFromFile(f)
		if err != nil {
			return configError(fmt.Errorf("--service-account-key-file: %w", err))
		}
		for _, k := range keys {
			p.SAPublicKeys = append(p.SAPublicKeys, k)
		}
	}
	return nil
}

func (c *Config) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return crand.Reader
}

func signCert(rnd io.Reader, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := randSerial(rnd)
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func randSerial(rnd io.Reader) (*big.Int, error) {
	serial, err := crand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

func coversHosts(cert *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func pemCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// readPair reads a certificate and its key; both absent (or no paths) is
// not an error and returns nils.
func readPair(certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	if certPath == "" {
		return nil, nil, nil
	}
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	certs, err := parseCerts(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := keyutil.PrivateKeyFromFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: expected an RSA or ECDSA private key", keyPath)
	}
	if !publicKeysEqual(certs[0].PublicKey, signer.Public()) {
		return nil, nil, fmt.Errorf("%s: key does not match certificate %s", keyPath, certPath)
	}
	return certs[0], signer, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, err1 := x509.MarshalPKIXPublicKey(a)
	kb, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ka, kb)
}

// writePair keeps a minted certificate and key in the data dir; with no
// data dir it does nothing.
func writePair(certPath, keyPath string, cert *x509.Certificate, key crypto.Signer) error {
	if certPath == "" {
		return nil
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", keyPath, err)
	}
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pemCert(cert), 0o644)
}

func loadOrCreateKey(path string, rnd io.Reader) (crypto.Signer, error) {
	if path != "" {
		key, err := keyutil.PrivateKeyFromFile(path)
		if err == nil {
			if signer, ok := key.(crypto.Signer); ok {
				return signer, nil
			}
			return nil, fmt.Errorf("%s: expected an RSA or ECDSA private key", path)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, fmt.Errorf("generating service-account signing key: %w", err)
	}
	if path != "" {
		keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, keyPEM, 0o600); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// loadOrCreateToken reads a token kept at path, or mints one (32 random
// bytes) and keeps it when keep is set.
func loadOrCreateToken(path string, keep bool, rnd io.Reader) (string, error) {
	if keep {
		data, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(data)) > 0 {
			return string(bytes.TrimSpace(data)), nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	tok, err := randToken(rnd)
	if err != nil {
		return "", err
	}
	if keep {
		if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return tok, nil
}

func randToken(rnd io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writeFileAtomic writes data to a temporary file created with perm in the
// same directory and renames it over path, so readers never see a partial
// file and a key is never readable by others, even for a moment.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmpName := filepath.Join(dir, "."+filepath.Base(path)+".tmp")
	_ = os.Remove(tmpName) // a leftover of a crash; O_EXCL below must create the file with perm
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	return os.Rename(name, path)
}

// servingHosts are the names the serving certificate covers: loopback, the
// in-cluster names of the kubernetes Service, and the listen host.
func servingHosts(listenHost string) []string {
	hosts := []string{"127.0.0.1", "::1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if ip := net.ParseIP(listenHost); ip != nil && ip.IsUnspecified() {
		return hosts
	}
	if listenHost != "" && !slices.Contains(hosts, listenHost) {
		hosts = append(hosts, listenHost)
	}
	return hosts
}
