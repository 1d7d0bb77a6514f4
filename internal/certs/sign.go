package certs

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// SignRequest is "kauth cert sign": sign a PEM CSR or a
// CertificateSigningRequest object with a kauth CA.
type SignRequest struct {
	CADir string
	// Input is the CSR file's content and InputName its name (for errors
	// and for the default output file).
	Input     []byte
	InputName string
	// Usage applies to PEM CSRs; an object's spec.usages decide for it.
	Usage string
	// Expiry is the lifetime of the certificate; for an object with
	// spec.expirationSeconds the shorter of the two, as
	// kube-controller-manager's signer does.
	Expiry time.Duration
	// Out is the certificate file for a PEM CSR: the CSR's name with .crt
	// by default.
	Out   string
	Force bool
	Now   time.Time
}

// StdinName is the InputName of a request read from stdin.
const StdinName = "<stdin>"

// SignResult is the signed certificate; for an object input, Object is
// the CertificateSigningRequest with status.certificate filled in and no
// file is written.
type SignResult struct {
	Files       []string                                  `json:"files"`
	Certificate CertInfo                                  `json:"certificate"`
	Object      *certificatesv1.CertificateSigningRequest `json:"object,omitempty"`
	// Warnings are about a certificate that was signed as asked but will
	// not work as the requester likely expects.
	Warnings []string `json:"warnings,omitempty"`
}

// Sign signs the request through cfssl's local signer with the profile for
// its usage.
func Sign(req SignRequest) (*SignResult, error) {
	ca, err := LoadCA(req.CADir)
	if err != nil {
		return nil, err
	}
	in, err := ParseCSR(req.InputName, req.Input)
	if err != nil {
		return nil, err
	}
	usage, expiry := req.Usage, req.Expiry
	if usage == "" {
		usage = UsageClient
	}
	if expiry == 0 {
		expiry = DefaultExpiry
	}
	if in.Object != nil {
		if usage, err = objectUsage(req.InputName, in.Object.Spec.Usages); err != nil {
			return nil, err
		}
		if s := in.Object.Spec.ExpirationSeconds; s != nil {
			if *s < minExpirationSeconds {
				return nil, fmt.Errorf("%s: spec.expirationSeconds %d: must be at least %d", req.InputName, *s, minExpirationSeconds)
			}
			expiry = min(expiry, time.Duration(*s)*time.Second)
		}
	}
	if usage != UsageServer {
		// Without a CN the apiserver authenticates nobody (it ignores the
		// certificate), so the request is almost certainly a mistake.
		if err := validateName(req.InputName+": subject common name (user)", in.Request.Subject.CommonName); err != nil {
			return nil, err
		}
	}
	cert, certPEM, err := ca.sign(signRequest{CSRPEM: in.PEM, Profile: usage, Now: req.Now, Expiry: expiry})
	if err != nil {
		return nil, err
	}
	var warnings []string
	if usage != UsageClient && len(cert.DNSNames) == 0 && len(cert.IPAddresses) == 0 {
		warnings = append(warnings, "a server certificate without DNS or IP SANs: TLS clients (Go since 1.15, kubectl, kube-apiserver) ignore the CommonName and refuse it; request SANs in the CSR")
	}
	if in.Object != nil {
		obj := in.Object.DeepCopy()
		obj.Status.Certificate = certPEM
		return &SignResult{Files: []string{}, Certificate: Describe(cert, req.InputName, req.Now), Object: obj, Warnings: warnings}, nil
	}
	out := req.Out
	if out == "" && req.InputName == StdinName {
		return nil, fmt.Errorf("a PEM CSR read from stdin needs an output file: expected --out FILE")
	}
	if out == "" {
		out = strings.TrimSuffix(req.InputName, filepath.Ext(req.InputName)) + ".crt"
	}
	if err := WriteFiles([]File{{Path: out, Data: certPEM, Mode: modePublic}}, req.Force); err != nil {
		return nil, err
	}
	return &SignResult{Files: []string{out}, Certificate: Describe(cert, out, req.Now), Warnings: warnings}, nil
}

// objectUsage maps spec.usages to a signing profile: client auth and/or
// server auth, optionally with digital signature and key encipherment.
func objectUsage(name string, usages []certificatesv1.KeyUsage) (string, error) {
	client := slices.Contains(usages, certificatesv1.UsageClientAuth)
	server := slices.Contains(usages, certificatesv1.UsageServerAuth)
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageClientAuth, certificatesv1.UsageServerAuth,
			certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		default:
			return "", fmt.Errorf("%s: spec.usages: %q is not supported: expected client auth, server auth, digital signature or key encipherment", name, u)
		}
	}
	switch {
	case client && server:
		return UsageClientServer, nil
	case server:
		return UsageServer, nil
	case client:
		return UsageClient, nil
	default:
		return "", fmt.Errorf("%s: spec.usages: expected client auth or server auth", name)
	}
}
