package authwebhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/internal/certs"
)

// TestWriteKubeconfigsInputs: the files embed only certificates, and a key
// or a mismatched pair is refused before anything is written.
func TestWriteKubeconfigsInputs(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	caPEM, caKey := read(p.caFile), filepath.Join(p.dir, certs.CAKeyFile)
	bundle := filepath.Join(p.dir, "bundle.pem")
	if err := os.WriteFile(bundle, append(append([]byte("# the CA\n"), caPEM...), read(caKey)...), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		ca, clientCert, key string
		wantErr             string
	}{
		{name: "certificate and key next to it", ca: bundle},
		{name: "client pair", ca: p.caFile, clientCert: p.apiserverCert, key: p.apiserverKey},
		{name: "key as CA", ca: caKey, wantErr: "--ca-file: " + caKey + ": no PEM certificate found"},
		{name: "swapped pair", ca: p.caFile, clientCert: p.apiserverKey, key: p.apiserverCert, wantErr: "--client-cert: " + p.apiserverKey + ": no PEM certificate found"},
		{name: "key of another certificate", ca: p.caFile, clientCert: p.apiserverCert, key: caKey, wantErr: "--client-key " + caKey + " does not match --client-cert " + p.apiserverCert},
		{name: "certificate as key", ca: p.caFile, clientCert: p.apiserverCert, key: p.caFile, wantErr: "--client-key: " + p.caFile + ": no PEM private key found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := WriteKubeconfigs(KubeconfigRequest{URL: "https://127.0.0.1:8443", CAFile: tt.ca, ClientCertFile: tt.clientCert, ClientKeyFile: tt.key, Dir: dir})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one starting %q", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("wrote %d files after an error", len(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{AuthnKubeconfig, AuthzKubeconfig} {
				cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(caPEM), string(cfg.Clusters["kauth-webhook"].CertificateAuthorityData)); diff != "" {
					t.Errorf("%s: certificate-authority-data (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}
