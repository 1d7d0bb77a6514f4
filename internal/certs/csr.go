package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cloudflare/cfssl/csr"
	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// DefaultSignerName is the signer of CertificateSigningRequests for client
// certificates that kube-apiserver accepts.
const DefaultSignerName = certificatesv1.KubeAPIServerClientSignerName

// minExpirationSeconds is the smallest spec.expirationSeconds
// kube-apiserver accepts (10 minutes).
const minExpirationSeconds = 600

// CSRRequest is "kauth cert csr": a key and a PEM CSR for a user, and
// optionally a CertificateSigningRequest object.
type CSRRequest struct {
	User   string
	Groups []string
	Key    KeySpec
	OutDir string
	Name   string
	// K8s asks for a certificates.k8s.io/v1 CertificateSigningRequest.
	K8s               bool
	SignerName        string
	ExpirationSeconds *int32
	Force             bool
}

// CSRResult tells what "csr" wrote; Object is the CertificateSigningRequest
// when one was asked for.
type CSRResult struct {
	Files  []string                                  `json:"files"`
	User   string                                    `json:"user"`
	Groups []string                                  `json:"groups"`
	Object *certificatesv1.CertificateSigningRequest `json:"object,omitempty"`
}

// NewCSR generates a key and a PEM CSR whose subject is the user (CN) and
// the groups (one O each), through cfssl.
func NewCSR(user string, groups []string, key KeySpec) (csrPEM, keyPEM []byte, err error) {
	if err := validateName("user", user); err != nil {
		return nil, nil, err
	}
	if groups, err = normalizeGroups(groups); err != nil {
		return nil, nil, err
	}
	priv, keyPEM, err := generateKey(key)
	if err != nil {
		return nil, nil, err
	}
	csrPEM, err = csr.Generate(priv, subjectRequest(user, groups))
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate request: %w", err)
	}
	return csrPEM, keyPEM, nil
}

// CSRObject wraps a PEM CSR in a CertificateSigningRequest ready for
// kubectl apply: apiVersion and kind set, the signer (kube-apiserver-client
// by default), usage client auth, and expirationSeconds when given.
func CSRObject(name string, csrPEM []byte, signerName string, expirationSeconds *int32) (*certificatesv1.CertificateSigningRequest, error) {
	if signerName == "" {
		signerName = DefaultSignerName
	}
	if errs := validation.IsQualifiedName(signerName); len(errs) > 0 || !strings.Contains(signerName, "/") {
		return nil, fmt.Errorf("signer name %q: expected a qualified name with a domain, such as %s", signerName, DefaultSignerName)
	}
	if signerName == legacyUnknownSignerName {
		return nil, fmt.Errorf("signer name %q: certificates.k8s.io/v1 does not allow the legacy signer", signerName)
	}
	if expirationSeconds != nil && *expirationSeconds < minExpirationSeconds {
		return nil, fmt.Errorf("expiration seconds %d: must be at least %d (kube-apiserver's minimum)", *expirationSeconds, minExpirationSeconds)
	}
	return &certificatesv1.CertificateSigningRequest{
		TypeMeta:   metav1.TypeMeta{APIVersion: certificatesv1.SchemeGroupVersion.String(), Kind: "CertificateSigningRequest"},
		ObjectMeta: metav1.ObjectMeta{Name: objectName(name)},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:           csrPEM,
			SignerName:        signerName,
			ExpirationSeconds: expirationSeconds,
			Usages:            []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth},
		},
	}, nil
}

// legacyUnknownSignerName is refused by certificates.k8s.io/v1.
const legacyUnknownSignerName = "kubernetes.io/legacy-unknown"

// signerUsages gives spec.usages for a request to signerName, as the
// signers of kube-controller-manager check them: the kubelet client signer
// signs only a node's request (CN system:node:NAME, O exactly
// system:nodes) whose usages are exactly digital signature and client auth
// (plus key encipherment, as the kubelet asks for RSA keys); the kubelet
// serving signer wants server auth and SANs, which a client request has
// not. Other signers get client auth.
func signerUsages(signerName, user string, groups []string, key KeySpec) ([]certificatesv1.KeyUsage, error) {
	switch signerName {
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		if !strings.HasPrefix(user, "system:node:") || len(groups) != 1 || groups[0] != "system:nodes" {
			return nil, fmt.Errorf("signer %s signs only node client certificates: expected --user system:node:NAME and exactly --group system:nodes", signerName)
		}
		if key.withDefaults().Algo == AlgoRSA {
			return []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}, nil
		}
		return []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, nil
	case certificatesv1.KubeletServingSignerName:
		return nil, fmt.Errorf("signer %s signs kubelet serving certificates (server auth, with SANs); kauth cert csr makes client requests: expected %s, %s or your own signer",
			signerName, certificatesv1.KubeAPIServerClientSignerName, certificatesv1.KubeAPIServerClientKubeletSignerName)
	}
	return []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}, nil
}

var invalidNameChars = regexp.MustCompile(`[^a-z0-9.-]+`)

// objectName turns a user or file name into a valid object name (a DNS
// subdomain): "system:node:n1" becomes "system-node-n1".
func objectName(s string) string {
	n := strings.Trim(invalidNameChars.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if len(n) > validation.DNS1123SubdomainMaxLength {
		n = strings.Trim(n[:validation.DNS1123SubdomainMaxLength], "-.")
	}
	if n == "" {
		n = "csr"
	}
	return n
}

// WriteCSR creates the key and CSR and writes NAME.key (0600) and
// NAME.csr.
func WriteCSR(req CSRRequest) (*CSRResult, error) {
	name := req.Name
	if name == "" {
		name = req.User
	}
	if err := validateBaseName(name); err != nil {
		return nil, err
	}
	var usages []certificatesv1.KeyUsage
	if req.K8s {
		// Validate the object's fields before generating anything.
		if _, err := CSRObject(name, nil, req.SignerName, req.ExpirationSeconds); err != nil {
			return nil, err
		}
		var err error
		if usages, err = signerUsages(req.SignerName, req.User, req.Groups, req.Key); err != nil {
			return nil, err
		}
	}
	csrPEM, keyPEM, err := NewCSR(req.User, req.Groups, req.Key)
	if err != nil {
		return nil, err
	}
	res := &CSRResult{User: req.User, Groups: append([]string{}, req.Groups...)}
	if req.K8s {
		if res.Object, err = CSRObject(name, csrPEM, req.SignerName, req.ExpirationSeconds); err != nil {
			return nil, err
		}
		res.Object.Spec.Usages = usages
	}
	keyPath, csrPath := filepath.Join(req.OutDir, name+".key"), filepath.Join(req.OutDir, name+".csr")
	files := []File{{Path: keyPath, Data: keyPEM, Mode: modePrivate}, {Path: csrPath, Data: csrPEM, Mode: modePublic}}
	if err := WriteFiles(files, req.Force); err != nil {
		return nil, err
	}
	res.Files = []string{csrPath, keyPath}
	return res, nil
}

// CSRInput is a certificate request read by [ParseCSR]: a PEM CSR, or a
// CertificateSigningRequest object (then Object is set).
type CSRInput struct {
	Request *x509.CertificateRequest
	PEM     []byte
	Object  *certificatesv1.CertificateSigningRequest
}

// ParseCSR reads a PEM certificate request or a certificates.k8s.io/v1
// CertificateSigningRequest in YAML or JSON, and checks the request's
// signature.
func ParseCSR(name string, data []byte) (*CSRInput, error) {
	if bytes.Contains(data, pemBegin) {
		req, err := parseCSRPEM(name, data)
		if errors.Is(err, errNoCSR) {
			return nil, fmt.Errorf("%s: %w: expected a -----BEGIN CERTIFICATE REQUEST----- block or a CertificateSigningRequest", name, err)
		}
		if err != nil {
			return nil, err
		}
		return &CSRInput{Request: req, PEM: pemEncode("CERTIFICATE REQUEST", req.Raw)}, nil
	}
	var obj certificatesv1.CertificateSigningRequest
	if err := yaml.UnmarshalStrict(data, &obj); err != nil {
		return nil, fmt.Errorf("%s: reading CertificateSigningRequest: %w", name, err)
	}
	if obj.APIVersion != certificatesv1.SchemeGroupVersion.String() || obj.Kind != "CertificateSigningRequest" {
		return nil, fmt.Errorf("%s: apiVersion %q, kind %q: expected a PEM CSR or apiVersion certificates.k8s.io/v1, kind CertificateSigningRequest", name, obj.APIVersion, obj.Kind)
	}
	if len(obj.Spec.Request) == 0 {
		return nil, fmt.Errorf("%s: spec.request: empty: expected a PEM certificate request", name)
	}
	req, err := parseCSRPEM(name+": spec.request", obj.Spec.Request)
	if errors.Is(err, errNoCSR) {
		return nil, fmt.Errorf("%s: spec.request: %w", name, err)
	}
	if err != nil {
		return nil, err
	}
	return &CSRInput{Request: req, PEM: pemEncode("CERTIFICATE REQUEST", req.Raw), Object: &obj}, nil
}
