package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"

	"github.com/cloudflare/cfssl/csr"
	cflog "github.com/cloudflare/cfssl/log"
)

// Key algorithms kauth generates.
const (
	AlgoECDSA = "ecdsa"
	AlgoRSA   = "rsa"
)

// KeyAlgos lists the --key-algo values.
var KeyAlgos = []string{AlgoECDSA, AlgoRSA}

// KeySpec selects the private key to generate. The zero value is ECDSA
// P-256; RSA defaults to 2048 bits.
type KeySpec struct {
	Algo string `json:"algo"`
	Size int    `json:"size"`
}

func (k KeySpec) withDefaults() KeySpec {
	if k.Algo == "" {
		k.Algo = AlgoECDSA
	}
	if k.Size == 0 {
		k.Size = 256
		if k.Algo == AlgoRSA {
			k.Size = 2048
		}
	}
	return k
}

func (k KeySpec) validate() error {
	switch k.Algo {
	case AlgoECDSA:
		if k.Size != 256 && k.Size != 384 && k.Size != 521 {
			return fmt.Errorf("key size %d: ecdsa keys must be 256, 384 or 521 bits", k.Size)
		}
	case AlgoRSA:
		// cfssl refuses RSA keys under 2048 bits or over 8192 bits.
		if k.Size < 2048 || k.Size > 8192 {
			return fmt.Errorf("key size %d: rsa keys must be 2048 to 8192 bits", k.Size)
		}
	default:
		return fmt.Errorf("key algorithm %q: must be ecdsa or rsa", k.Algo)
	}
	return nil
}

var quietOnce sync.Once

// quietCFSSL raises cfssl's package-level log level so that it never
// writes to stderr: kauth reports through its own errors. It runs once so
// concurrent callers do not race on the variable.
func quietCFSSL() {
	quietOnce.Do(func() { cflog.Level = cflog.LevelFatal })
}

// generateKey creates a key through cfssl's key request and encodes it the
// way cfssl does: "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY" (PKCS #1),
// both read by client-go, kubectl and openssl.
func generateKey(spec KeySpec) (crypto.Signer, []byte, error) {
	quietCFSSL()
	spec = spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, nil, err
	}
	kr := &csr.KeyRequest{A: spec.Algo, S: spec.Size}
	priv, err := kr.Generate()
	if err != nil {
		return nil, nil, fmt.Errorf("generating %s key: %w", spec.Algo, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("generating %s key: not a signing key", spec.Algo)
	}
	keyPEM, err := encodeKey(signer)
	if err != nil {
		return nil, nil, err
	}
	return signer, keyPEM, nil
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encoding ecdsa key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("encoding key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
}

// publicKeyInfo names a public key's algorithm and size in bits, as
// openssl prints them.
func publicKeyInfo(pub any) (string, int) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case ed25519.PublicKey:
		return "Ed25519", 256
	default:
		return "unknown", 0
	}
}

// keyMatches reports whether priv is the private half of pub.
func keyMatches(priv crypto.Signer, pub any) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := priv.Public().(equaler)
	return ok && e.Equal(pub)
}
