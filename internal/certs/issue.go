package certs

import (
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cloudflare/cfssl/csr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// IssueRequest describes a certificate to issue.
type IssueRequest struct {
	// User becomes the subject CommonName, each group one Organization:
	// exactly what kube-apiserver's x509 authenticator reads.
	User   string
	Groups []string
	// Usage is client (default), server or client,server.
	Usage string
	// Hosts are the DNS names and IP addresses of a server certificate.
	Hosts  []string
	Expiry time.Duration
	Key    KeySpec
	Now    time.Time
}

// Issued is a freshly issued certificate and its key.
type Issued struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

func (r *IssueRequest) normalize() error {
	if r.Usage == "" {
		r.Usage = UsageClient
	}
	if !slices.Contains(Usages, r.Usage) {
		return fmt.Errorf("usage %q: must be one of %s", r.Usage, strings.Join(Usages, ", "))
	}
	if r.Expiry == 0 {
		r.Expiry = DefaultExpiry
	}
	if err := validateName("user", r.User); err != nil {
		return err
	}
	groups, err := normalizeGroups(r.Groups)
	if err != nil {
		return err
	}
	r.Groups = groups
	if len(r.Hosts) > 0 && r.Usage == UsageClient {
		return errHostsNeedServer
	}
	if len(r.Hosts) == 0 && r.Usage != UsageClient {
		return fmt.Errorf("a server certificate needs at least one host: expected --host with a DNS name or IP address")
	}
	for _, h := range r.Hosts {
		if err := validateHost(h); err != nil {
			return err
		}
	}
	return nil
}

func normalizeGroups(in []string) ([]string, error) {
	var out []string
	for _, g := range in {
		if err := validateName("group", g); err != nil {
			return nil, err
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

func validateHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	name := strings.TrimPrefix(h, "*.")
	if errs := validation.IsDNS1123Subdomain(strings.ToLower(name)); len(errs) > 0 {
		return fmt.Errorf("host %q: expected an IP address or a DNS name: %s", h, strings.Join(errs, "; "))
	}
	return nil
}

// subjectRequest is the cfssl request for a user: CN is the user and
// every group its own Names entry, which cfssl turns into one
// Organization value each.
func subjectRequest(user string, groups []string) *csr.CertificateRequest {
	req := &csr.CertificateRequest{CN: user}
	for _, g := range groups {
		req.Names = append(req.Names, csr.Name{O: g})
	}
	return req
}

// Issue generates a key, a CSR for the user and groups, and signs it with
// the CA under the profile for req.Usage.
func Issue(ca *CA, req IssueRequest) (*Issued, error) {
	if err := req.normalize(); err != nil {
		return nil, err
	}
	// Check the lifetime before the (slow) key generation.
	if _, _, err := validity(ca.Cert, req.Now, req.Expiry); err != nil {
		return nil, err
	}
	priv, keyPEM, err := generateKey(req.Key)
	if err != nil {
		return nil, err
	}
	csrPEM, err := csr.Generate(priv, subjectRequest(req.User, req.Groups))
	if err != nil {
		return nil, fmt.Errorf("creating certificate request: %w", err)
	}
	cert, certPEM, err := ca.sign(signRequest{
		CSRPEM: csrPEM, Profile: req.Usage, Hosts: req.Hosts, Now: req.Now, Expiry: req.Expiry,
	})
	if err != nil {
		return nil, err
	}
	return &Issued{Cert: cert, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// IssueFilesRequest is "kauth cert issue": issue, then write NAME.crt,
// NAME.key and optionally a kubeconfig.
type IssueFilesRequest struct {
	IssueRequest
	CADir  string
	OutDir string
	// Name is the file base name; the user name by default.
	Name       string
	Kubeconfig *KubeconfigRequest
	Force      bool
}

// IssueResult tells what "issue" wrote.
type IssueResult struct {
	Files       []string `json:"files"`
	Certificate CertInfo `json:"certificate"`
}

// IssueFiles loads the CA, issues a certificate and writes it with its
// key (0600) and, when asked, a kubeconfig embedding all three.
func IssueFiles(req IssueFilesRequest) (*IssueResult, error) {
	ca, err := LoadCA(req.CADir)
	if err != nil {
		return nil, err
	}
	name := req.Name
	if name == "" {
		name = req.User
	}
	if err := validateBaseName(name); err != nil {
		return nil, err
	}
	if req.Kubeconfig != nil {
		if err := req.Kubeconfig.validate(); err != nil {
			return nil, err
		}
	}
	issued, err := Issue(ca, req.IssueRequest)
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(req.OutDir, name+".crt")
	keyPath := filepath.Join(req.OutDir, name+".key")
	files := []File{
		{Path: keyPath, Data: issued.KeyPEM, Mode: modePrivate},
		{Path: certPath, Data: issued.CertPEM, Mode: modePublic},
	}
	if k := req.Kubeconfig; k != nil {
		data, err := k.build(req.User, encodeCert(ca.Cert), issued.CertPEM, issued.KeyPEM)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: k.Path, Data: data, Mode: modePrivate})
	}
	if err := WriteFiles(files, req.Force); err != nil {
		return nil, err
	}
	paths := []string{certPath, keyPath}
	if req.Kubeconfig != nil {
		paths = append(paths, req.Kubeconfig.Path)
	}
	return &IssueResult{Files: paths, Certificate: Describe(issued.Cert, certPath, req.Now)}, nil
}

func validateBaseName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("file name %q: expected a base name without slashes (use --name)", name)
	}
	return nil
}
