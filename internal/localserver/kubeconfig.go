package localserver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names in the kubeconfig the server writes.
const (
	kubeconfigCluster = "kauth"
	kubeconfigUser    = "kauth-admin"
	kubeconfigContext = "kauth"
)

// adminKubeconfig is the admin's kubeconfig for the server at url: the
// serve CA as the trust root, and the admin certificate (or, with a
// user-supplied client CA, the admin token).
func adminKubeconfig(url string, p *PKI) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[kubeconfigCluster] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: p.CAPEM}
	auth := &clientcmdapi.AuthInfo{}
	if p.AdminToken != "" {
		auth.Token = p.AdminToken
	} else {
		auth.ClientCertificateData, auth.ClientKeyData = p.AdminCertPEM, p.AdminKeyPEM
	}
	cfg.AuthInfos[kubeconfigUser] = auth
	cfg.Contexts[kubeconfigContext] = &clientcmdapi.Context{Cluster: kubeconfigCluster, AuthInfo: kubeconfigUser, Namespace: "default"}
	cfg.CurrentContext = kubeconfigContext
	return clientcmd.Write(*cfg)
}

// writeKubeconfig writes data to path with mode 0600 (it holds a private
// key or a token). An existing file is replaced only when kauth serve wrote
// it (its one cluster is named "kauth") or with force.
func writeKubeconfig(path string, data []byte, force bool) error {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return nil
	case err == nil && !force && !writtenByServe(old):
		return configError(fmt.Errorf("%s already exists with another server's credentials; pass --force to replace it", path))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600)
}

func writtenByServe(data []byte) bool {
	cfg, err := clientcmd.Load(data)
	return err == nil && len(cfg.Clusters) == 1 && cfg.Clusters[kubeconfigCluster] != nil
}
