package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// pemBlock is one PEM block and the 1-based line it starts on.
type pemBlock struct {
	*pem.Block
	Line int
}

var pemBegin = []byte("-----BEGIN ")

// decodePEM returns every PEM block in data with its line. Unlike
// pem.Decode, which silently skips a block it cannot parse, a damaged
// block is an error naming its line.
func decodePEM(name string, data []byte) ([]pemBlock, error) {
	var blocks []pemBlock
	for off := 0; ; {
		i := bytes.Index(data[off:], pemBegin)
		if i < 0 {
			return blocks, nil
		}
		start := off + i
		line := 1 + bytes.Count(data[:start], []byte("\n"))
		next := len(data)
		if j := bytes.Index(data[start+len(pemBegin):], pemBegin); j >= 0 {
			next = start + len(pemBegin) + j
		}
		block, rest := pem.Decode(data[start:])
		if block == nil || len(data)-len(rest) > next {
			return nil, fmt.Errorf("%s:%d: corrupt PEM block: expected base64 data between BEGIN and END lines", name, line)
		}
		blocks = append(blocks, pemBlock{Block: block, Line: line})
		off = len(data) - len(rest)
	}
}

// ParseCertificates reads every CERTIFICATE block of a PEM file (a single
// certificate or a chain), in file order, and ignores other blocks such as
// keys. name prefixes errors.
func ParseCertificates(name string, data []byte) ([]*x509.Certificate, error) {
	blocks, err := decodePEM(name, data)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, b := range blocks {
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: parsing certificate: %w", name, b.Line, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found: expected a -----BEGIN CERTIFICATE----- block", name)
	}
	return certs, nil
}

// ParsePrivateKey reads the first private key of a PEM file: SEC 1
// ("EC PRIVATE KEY"), PKCS #1 ("RSA PRIVATE KEY") or PKCS #8
// ("PRIVATE KEY"). Encrypted keys are refused.
func ParsePrivateKey(name string, data []byte) (crypto.Signer, error) {
	blocks, err := decodePEM(name, data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		var key any
		switch b.Type {
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s:%d: encrypted private keys are not supported: expected an unencrypted key", name, b.Line)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: parsing %s: %w", name, b.Line, b.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s:%d: %T is not a signing key", name, b.Line, key)
		}
		return signer, nil
	}
	return nil, fmt.Errorf("%s: no PEM private key found: expected a -----BEGIN EC PRIVATE KEY-----, RSA PRIVATE KEY or PRIVATE KEY block", name)
}

// parseCSRPEM reads the first CERTIFICATE REQUEST block and checks its
// signature.
func parseCSRPEM(name string, data []byte) (*x509.CertificateRequest, error) {
	blocks, err := decodePEM(name, data)
	if err != nil {
		return nil, err
	}
	for _, b := range blocks {
		if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
			continue
		}
		req, err := x509.ParseCertificateRequest(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: parsing certificate request: %w", name, b.Line, err)
		}
		if err := req.CheckSignature(); err != nil {
			return nil, fmt.Errorf("%s:%d: certificate request signature does not verify: %w", name, b.Line, err)
		}
		return req, nil
	}
	return nil, errNoCSR
}

var errNoCSR = errors.New("no PEM certificate request found")

func encodeCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
