package localserver

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Limits of kube-controller-manager's kube-apiserver-client signer.
const (
	csrDefaultDuration = 365 * 24 * time.Hour // --cluster-signing-duration default
	csrMinDuration     = 10 * time.Minute
	csrBackdate        = 5 * time.Minute
)

// csrSigner signs approved CSRs for kubernetes.io/kube-apiserver-client
// with the serve CA, with the checks and lifetime rules of
// kube-controller-manager's signer: any subject; usages must include
// "client auth" and stay within digital signature, key encipherment and
// client auth; the requested expirationSeconds is honoured from 10 minutes
// up to one year and never past the CA.
type csrSigner struct {
	ca  *PKI
	now func() time.Time
	rnd io.Reader
}

var allowedClientUsages = map[certificatesv1.KeyUsage]bool{
	certificatesv1.UsageDigitalSignature: true,
	certificatesv1.UsageKeyEncipherment:  true,
	certificatesv1.UsageClientAuth:       true,
}

// Sign returns the PEM certificate for csr.
func (s *csrSigner) Sign(_ context.Context, csr *certificatesv1.CertificateSigningRequest) ([]byte, error) {
	if csr.Spec.SignerName != certificatesv1.KubeAPIServerClientSignerName {
		return nil, fmt.Errorf("signer %q is not served here; only %s is", csr.Spec.SignerName, certificatesv1.KubeAPIServerClientSignerName)
	}
	req, err := parseCSR(csr.Spec.Request)
	if err != nil {
		return nil, err
	}
	hasClientAuth := false
	for _, u := range csr.Spec.Usages {
		if !allowedClientUsages[u] {
			return nil, fmt.Errorf("invalid usage for client certificate: %s", u)
		}
		hasClientAuth = hasClientAuth || u == certificatesv1.UsageClientAuth
	}
	if !hasClientAuth {
		return nil, errors.New("missing required usage for client certificate: client auth")
	}
	tmpl := s.template(req, csr)
	cert, err := signCert(s.rnd, tmpl, s.ca.CA, req.PublicKey, s.ca.CAKey)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	return pemCert(cert), nil
}

func (s *csrSigner) template(req *x509.CertificateRequest, csr *certificatesv1.CertificateSigningRequest) *x509.Certificate {
	now := s.now()
	d := csrDefaultDuration
	if e := csr.Spec.ExpirationSeconds; e != nil {
		d = min(max(time.Duration(*e)*time.Second, csrMinDuration), csrDefaultDuration)
	}
	notAfter := now.Add(d)
	if notAfter.After(s.ca.CA.NotAfter) {
		notAfter = s.ca.CA.NotAfter
	}
	tmpl := &x509.Certificate{
		Subject:        req.Subject,
		DNSNames:       req.DNSNames,
		IPAddresses:    req.IPAddresses,
		EmailAddresses: req.EmailAddresses,
		URIs:           req.URIs,
		NotBefore:      now.Add(-csrBackdate),
		NotAfter:       notAfter,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, u := range csr.Spec.Usages {
		switch u {
		case certificatesv1.UsageDigitalSignature:
			tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
		case certificatesv1.UsageKeyEncipherment:
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	return tmpl
}

func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("spec.request: expected a PEM CERTIFICATE REQUEST block")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("spec.request: %w", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("spec.request: signature: %w", err)
	}
	return req, nil
}
