package certs

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"
)

// CertInfo describes one certificate as kube-apiserver would see it. Its
// JSON field names are stable: scripts read user, groups, notAfter,
// verified and reason.
type CertInfo struct {
	// File is where the certificate was read; Index its 1-based position
	// in that file; KubeconfigUser the kubeconfig user it belongs to.
	File           string `json:"file"`
	Index          int    `json:"index"`
	KubeconfigUser string `json:"kubeconfigUser,omitempty"`

	Subject string `json:"subject"`
	// User and Groups are what kube-apiserver's x509 authenticator
	// (CommonNameUserConversion) makes of the subject: CN and every O. A
	// certificate without a CN authenticates nobody: User is empty.
	User   string   `json:"user"`
	Groups []string `json:"groups"`
	// CredentialID is the apiserver's credential id for the certificate
	// (user extra authentication.kubernetes.io/credential-id).
	CredentialID string `json:"credentialID"`

	Serial          string    `json:"serial"`
	Issuer          string    `json:"issuer"`
	IsCA            bool      `json:"isCA"`
	NotBefore       time.Time `json:"notBefore"`
	NotAfter        time.Time `json:"notAfter"`
	TimeLeftSeconds int64     `json:"timeLeftSeconds"`

	KeyAlgorithm string   `json:"keyAlgorithm"`
	KeySize      int      `json:"keySize"`
	KeyUsages    []string `json:"keyUsages"`
	ExtKeyUsages []string `json:"extKeyUsages"`

	DNSNames       []string `json:"dnsNames,omitempty"`
	IPAddresses    []string `json:"ipAddresses,omitempty"`
	EmailAddresses []string `json:"emailAddresses,omitempty"`
	URIs           []string `json:"uris,omitempty"`

	// Verified and Reason are set when a CA was given: whether the
	// certificate verifies for client auth, and if not why (expired, not
	// yet valid, wrong usage, unknown authority, ...).
	Verified *bool  `json:"verified,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Revoked is set when a CRL was given.
	Revoked          *bool      `json:"revoked,omitempty"`
	RevokedAt        *time.Time `json:"revokedAt,omitempty"`
	RevocationReason string     `json:"revocationReason,omitempty"`
}

// Source names where the certificate came from, for people.
func (c *CertInfo) Source() string {
	s := c.File
	if c.KubeconfigUser != "" {
		s += " (user " + c.KubeconfigUser + ")"
	}
	if c.Index > 1 {
		s += fmt.Sprintf(" #%d", c.Index)
	}
	return s
}

// FormatSerial prints a serial number as openssl does: upper-case hex, two
// digits per byte.
func FormatSerial(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// ParseSerial reads a serial number in hex as FormatSerial and
// "openssl x509 -serial" print it; colons and a 0x prefix are allowed.
func ParseSerial(s string) (*big.Int, error) {
	h := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "serial="), ":", "")
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || h == "" || n.Sign() < 0 {
		return nil, fmt.Errorf("serial %q: expected hex digits, as kauth cert inspect prints them", s)
	}
	return n, nil
}

// Describe builds the description of cert read from file, with the time
// left measured from now.
func Describe(cert *x509.Certificate, file string, now time.Time) CertInfo {
	algo, size := publicKeyInfo(cert.PublicKey)
	fp := sha256.Sum256(cert.Raw)
	info := CertInfo{
		File:            file,
		Index:           1,
		Subject:         cert.Subject.String(),
		Groups:          append([]string{}, cert.Subject.Organization...),
		CredentialID:    "X509SHA256=" + hex.EncodeToString(fp[:]),
		Serial:          FormatSerial(cert.SerialNumber),
		Issuer:          cert.Issuer.String(),
		IsCA:            cert.IsCA,
		NotBefore:       cert.NotBefore.UTC(),
		NotAfter:        cert.NotAfter.UTC(),
		TimeLeftSeconds: int64(cert.NotAfter.Sub(now.Truncate(time.Second)).Seconds()),
		KeyAlgorithm:    algo,
		KeySize:         size,
		KeyUsages:       keyUsageNames(cert.KeyUsage),
		ExtKeyUsages:    extKeyUsageNames(cert.ExtKeyUsage),
		DNSNames:        cert.DNSNames,
		EmailAddresses:  cert.EmailAddresses,
	}
	if cert.Subject.CommonName != "" {
		info.User = cert.Subject.CommonName
	}
	for _, ip := range cert.IPAddresses {
		info.IPAddresses = append(info.IPAddresses, ip.String())
	}
	for _, u := range cert.URIs {
		info.URIs = append(info.URIs, u.String())
	}
	return info
}

var keyUsages = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digital signature"},
	{x509.KeyUsageContentCommitment, "content commitment"},
	{x509.KeyUsageKeyEncipherment, "key encipherment"},
	{x509.KeyUsageDataEncipherment, "data encipherment"},
	{x509.KeyUsageKeyAgreement, "key agreement"},
	{x509.KeyUsageCertSign, "cert sign"},
	{x509.KeyUsageCRLSign, "crl sign"},
	{x509.KeyUsageEncipherOnly, "encipher only"},
	{x509.KeyUsageDecipherOnly, "decipher only"},
}

// keyUsageNames uses the names of certificates.k8s.io usages and cfssl.
func keyUsageNames(ku x509.KeyUsage) []string {
	out := []string{}
	for _, u := range keyUsages {
		if ku&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

var extKeyUsages = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "any",
	x509.ExtKeyUsageServerAuth:      "server auth",
	x509.ExtKeyUsageClientAuth:      "client auth",
	x509.ExtKeyUsageCodeSigning:     "code signing",
	x509.ExtKeyUsageEmailProtection: "email protection",
	x509.ExtKeyUsageTimeStamping:    "timestamping",
	x509.ExtKeyUsageOCSPSigning:     "ocsp signing",
}

func extKeyUsageNames(ekus []x509.ExtKeyUsage) []string {
	out := []string{}
	for _, e := range ekus {
		if n, ok := extKeyUsages[e]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("unknown (%d)", e))
		}
	}
	return out
}

// Verification failure reasons: stable strings in the reason field.
const (
	ReasonExpired          = "expired"
	ReasonNotYetValid      = "not yet valid"
	ReasonWrongUsage       = "wrong usage"
	ReasonUnknownAuthority = "unknown authority"
	ReasonNotAuthorized    = "issuer not authorized to sign"
	ReasonRevoked          = "revoked"
)

// verifyClient checks cert the way kube-apiserver checks a client
// certificate against --client-ca-file: a chain to roots through
// intermediates, valid at now, with the client auth extended key usage.
// It returns "" when the certificate verifies, else the reason.
func verifyClient(cert *x509.Certificate, roots, intermediates *x509.CertPool, now time.Time) string {
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err == nil {
		return ""
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		switch invalid.Reason {
		case x509.Expired:
			if invalid.Cert != nil && now.Before(invalid.Cert.NotBefore) {
				return ReasonNotYetValid
			}
			return ReasonExpired
		case x509.IncompatibleUsage:
			return ReasonWrongUsage
		case x509.NotAuthorizedToSign:
			return ReasonNotAuthorized
		}
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return ReasonUnknownAuthority
	}
	return err.Error()
}

// InspectRequest is "kauth cert inspect".
type InspectRequest struct {
	Paths []string
	// CAFile, when set, verifies every certificate against these roots.
	CAFile string
	// CRLFile, when set, reports revocation.
	CRLFile string
	Now     time.Time
}

// Inspect reads certificates, chains and kubeconfigs and describes every
// certificate in them, in argument and file order.
func Inspect(req InspectRequest) ([]CertInfo, error) {
	roots, crl, err := loadTrust(req.CAFile, req.CRLFile)
	if err != nil {
		return nil, err
	}
	var out []CertInfo
	for _, p := range req.Paths {
		groups, err := readCertFile(p, true)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			out = append(out, describeGroup(g, roots, crl, req.Now)...)
		}
	}
	return out, nil
}

// certGroup is the certificates of one file or one kubeconfig user: a
// leaf and the chain that came with it.
type certGroup struct {
	File  string
	User  string
	Certs []*x509.Certificate
}

func describeGroup(g certGroup, roots *x509.CertPool, crl *revocationList, now time.Time) []CertInfo {
	var out []CertInfo
	for i, c := range g.Certs {
		info := Describe(c, g.File, now)
		info.Index, info.KubeconfigUser = i+1, g.User
		if roots != nil {
			inter := x509.NewCertPool()
			for j, o := range g.Certs {
				if j != i {
					inter.AddCert(o)
				}
			}
			reason := verifyClient(c, roots, inter, now)
			ok := reason == ""
			info.Verified, info.Reason = &ok, reason
		}
		if crl != nil {
			crl.annotate(&info, c)
		}
		out = append(out, info)
	}
	return out
}

func loadTrust(caFile, crlFile string) (*x509.CertPool, *revocationList, error) {
	var roots *x509.CertPool
	var cas []*x509.Certificate
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("reading CA: %w", err)
		}
		if cas, err = ParseCertificates(caFile, data); err != nil {
			return nil, nil, err
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
		}
	}
	if crlFile == "" {
		return roots, nil, nil
	}
	data, err := os.ReadFile(crlFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading CRL: %w", err)
	}
	crl, err := ParseCRL(crlFile, data)
	if err != nil {
		return nil, nil, err
	}
	if len(cas) > 0 && !slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return crl.CheckSignatureFrom(ca) == nil }) {
		return nil, nil, fmt.Errorf("%s: CRL is not signed by the CA in %s", crlFile, caFile)
	}
	return roots, &revocationList{crl}, nil
}

// readCertFile reads one file: PEM certificates (one, or a chain), a DER
// certificate, or a kubeconfig whose users carry client certificates.
// With strict, a file without certificates is an error; otherwise it is
// skipped (a folder scan meets keys, READMEs and token kubeconfigs).
func readCertFile(path string, strict bool) ([]certGroup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.Contains(data, pemBegin):
		if !strict && !bytes.Contains(data, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, nil
		}
		certs, err := ParseCertificates(path, data)
		if err != nil {
			return nil, err
		}
		return []certGroup{{File: path, Certs: certs}}, nil
	case len(data) > 0 && data[0] == 0x30:
		if c, err := x509.ParseCertificate(data); err == nil {
			return []certGroup{{File: path, Certs: []*x509.Certificate{c}}}, nil
		}
	case bytes.Contains(data, []byte("client-certificate")) || (strict && looksLikeKubeconfig(data)):
		return readKubeconfigCerts(path, data, strict)
	}
	if !strict {
		return nil, nil
	}
	return nil, fmt.Errorf("%s: no certificate found: expected PEM certificates or a kubeconfig with client certificates", path)
}

func looksLikeKubeconfig(data []byte) bool {
	return bytes.Contains(data, []byte("kind: Config")) || bytes.Contains(data, []byte(`"kind": "Config"`)) || bytes.Contains(data, []byte("users:"))
}

func readKubeconfigCerts(path string, data []byte, strict bool) ([]certGroup, error) {
	cfg, err := ParseKubeconfig(path, data)
	if err != nil {
		if !strict {
			return nil, nil
		}
		return nil, err
	}
	kcs, err := kubeconfigCerts(path, cfg)
	if err != nil {
		return nil, err
	}
	if len(kcs) == 0 && strict {
		return nil, fmt.Errorf("%s: kubeconfig has no client certificates: expected a user with client-certificate-data or client-certificate", path)
	}
	var out []certGroup
	for _, kc := range kcs {
		out = append(out, certGroup{File: path, User: kc.User, Certs: kc.Certs})
	}
	return out, nil
}
