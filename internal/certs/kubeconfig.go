package certs

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigRequest asks "issue" to also write a kubeconfig.
type KubeconfigRequest struct {
	Path   string
	Server string
	// Cluster names the cluster entry; the server's host name by default.
	Cluster string
}

func (k *KubeconfigRequest) validate() error {
	u, err := url.Parse(k.Server)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("server %q: expected an https URL such as https://127.0.0.1:6443", k.Server)
	}
	if k.Cluster == "" {
		k.Cluster = u.Hostname()
	}
	return nil
}

// build returns a kubeconfig with one cluster (the server and the CA),
// one user (named after the user, with the certificate and key embedded)
// and a current context "user@cluster".
func (k *KubeconfigRequest) build(user string, caPEM, certPEM, keyPEM []byte) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[k.Cluster] = &clientcmdapi.Cluster{Server: k.Server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	ctx := user + "@" + k.Cluster
	cfg.Contexts[ctx] = &clientcmdapi.Context{Cluster: k.Cluster, AuthInfo: user}
	cfg.CurrentContext = ctx
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding kubeconfig: %w", err)
	}
	return data, nil
}

// ParseKubeconfig decodes a kubeconfig as client-go does.
func ParseKubeconfig(name string, data []byte) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%s: reading kubeconfig: %w", name, err)
	}
	return cfg, nil
}

// kubeconfigCert is the client certificate of one kubeconfig user.
type kubeconfigCert struct {
	User  string
	Certs []*x509.Certificate
}

// kubeconfigCerts returns the client certificates of every user of a
// kubeconfig, by user name: embedded (client-certificate-data) or in a
// file (client-certificate, relative to the kubeconfig's folder, as
// client-go resolves it). Users without a certificate are skipped.
func kubeconfigCerts(name string, cfg *clientcmdapi.Config) ([]kubeconfigCert, error) {
	users := make([]string, 0, len(cfg.AuthInfos))
	for u := range cfg.AuthInfos {
		users = append(users, u)
	}
	slices.Sort(users)
	var out []kubeconfigCert
	for _, u := range users {
		ai := cfg.AuthInfos[u]
		if ai == nil {
			continue
		}
		data, src := ai.ClientCertificateData, fmt.Sprintf("%s: user %q: client-certificate-data", name, u)
		if len(data) == 0 && ai.ClientCertificate != "" {
			p := ai.ClientCertificate
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(name), p)
			}
			var err error
			if data, err = os.ReadFile(p); err != nil {
				return nil, fmt.Errorf("%s: user %q: reading client-certificate: %w", name, u, err)
			}
			src = p
		}
		if len(data) == 0 {
			continue
		}
		certs, err := ParseCertificates(src, data)
		if err != nil {
			return nil, err
		}
		out = append(out, kubeconfigCert{User: u, Certs: certs})
	}
	return out, nil
}
