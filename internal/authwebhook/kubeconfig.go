package authwebhook

import (
	"crypto"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/certs"
)

// Names of the files "kauth webhook config" writes.
const (
	AuthnKubeconfig = "authn-webhook.kubeconfig"
	AuthzKubeconfig = "authz-webhook.kubeconfig"
)

// KubeconfigRequest describes the webhook kube-apiserver should call.
type KubeconfigRequest struct {
	// URL is the base URL of kauth webhook serve (https://HOST:PORT).
	URL string
	// CAFile verifies the webhook's serving certificate; it is embedded.
	CAFile string
	// ClientCertFile and ClientKeyFile, if set, are the certificate
	// kube-apiserver presents; the files are referenced by absolute path
	// so that the key stays where it is.
	ClientCertFile string
	ClientKeyFile  string
	// Dir is where the files go; Force overwrites them.
	Dir   string
	Force bool
}

// KubeconfigFile is one written file and the kube-apiserver flag that
// takes it.
type KubeconfigFile struct {
	Path   string `json:"path"`
	Flag   string `json:"flag"`
	Server string `json:"server"`
}

// WriteKubeconfigs writes the two kubeconfig-format files that
// kube-apiserver's --authentication-token-webhook-config-file and
// --authorization-webhook-config-file take.
func WriteKubeconfigs(req KubeconfigRequest) ([]KubeconfigFile, error) {
	base, err := checkURL(req.URL)
	if err != nil {
		return nil, err
	}
	ca, err := readCABundle(req.CAFile)
	if err != nil {
		return nil, err
	}
	if (req.ClientCertFile == "") != (req.ClientKeyFile == "") {
		return nil, errors.New("--client-cert and --client-key go together")
	}
	user := &clientcmdapi.AuthInfo{}
	if req.ClientCertFile != "" {
		if err := checkKeyPair(req.ClientCertFile, req.ClientKeyFile); err != nil {
			return nil, err
		}
		if user.ClientCertificate, err = filepath.Abs(req.ClientCertFile); err != nil {
			return nil, err
		}
		if user.ClientKey, err = filepath.Abs(req.ClientKeyFile); err != nil {
			return nil, err
		}
	}
	out := []KubeconfigFile{
		{Path: filepath.Join(req.Dir, AuthnKubeconfig), Flag: "--authentication-token-webhook-config-file", Server: base + "/authenticate"},
		{Path: filepath.Join(req.Dir, AuthzKubeconfig), Flag: "--authorization-webhook-config-file", Server: base + "/authorize"},
	}
	var files []certs.File
	for _, f := range out {
		data, err := Kubeconfig(f.Server, ca, user)
		if err != nil {
			return nil, err
		}
		files = append(files, certs.File{Path: f.Path, Data: data, Mode: 0o600})
	}
	if err := certs.WriteFiles(files, req.Force); err != nil {
		return nil, err
	}
	return out, nil
}

// readCABundle reads the certificates of the CA file and returns them
// re-encoded: only CERTIFICATE blocks are embedded, so a key given by
// mistake, or kept next to the certificate, never lands in the files.
func readCABundle(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	cs, err := certs.ParseCertificates(name, data)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out, nil
}

// checkKeyPair checks what kube-apiserver checks when it loads the webhook
// configuration: the certificate file holds a certificate and the key file
// its private key. The files are referenced, not embedded.
func checkKeyPair(certFile, keyFile string) error {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("--client-cert: %w", err)
	}
	cs, err := certs.ParseCertificates(certFile, data)
	if err != nil {
		return fmt.Errorf("--client-cert: %w", err)
	}
	if data, err = os.ReadFile(keyFile); err != nil {
		return fmt.Errorf("--client-key: %w", err)
	}
	key, err := certs.ParsePrivateKey(keyFile, data)
	if err != nil {
		return fmt.Errorf("--client-key: %w", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cs[0].PublicKey) {
		return fmt.Errorf("--client-key %s does not match --client-cert %s: expected the private key of that certificate", keyFile, certFile)
	}
	return nil
}

// Kubeconfig is one webhook configuration: the cluster is the webhook,
// the user is kube-apiserver.
func Kubeconfig(server string, caPEM []byte, user *clientcmdapi.AuthInfo) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kauth-webhook"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["kube-apiserver"] = user
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "kauth-webhook", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "webhook"
	return clientcmd.Write(*cfg)
}

func checkURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--url %q: expected https://HOST:PORT", raw)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("--url %q: kube-apiserver calls webhooks over https only", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--url %q: expected no query or fragment", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
