package certs

import (
	certificatesv1 "k8s.io/api/certificates/v1"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

func TestCSRAndSign(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "sign-ca", 0)
	dir := t.TempDir()
	exp := int32(3600)
	res, err := WriteCSR(CSRRequest{User: "carol", Groups: []string{"qa"}, OutDir: dir, K8s: true, ExpirationSeconds: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, "carol.csr"), filepath.Join(dir, "carol.key")}, res.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	obj := res.Object
	if obj.APIVersion != "certificates.k8s.io/v1" || obj.Kind != "CertificateSigningRequest" || obj.Spec.SignerName != DefaultSignerName ||
		len(obj.Spec.Usages) != 1 || obj.Spec.Usages[0] != "client auth" || *obj.Spec.ExpirationSeconds != 3600 || obj.Name != "carol" {
		t.Errorf("CSR object = %+v", obj)
	}
	objYAML, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	objPath := filepath.Join(dir, "carol-csr.yaml")
	writeTestFile(t, objPath, objYAML)

	// A PEM CSR becomes carol.crt next to it.
	pemCSR, _ := os.ReadFile(res.Files[0])
	signed, err := Sign(SignRequest{CADir: ca.Dir, Input: pemCSR, InputName: res.Files[0], Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if signed.Files[0] != filepath.Join(dir, "carol.crt") || signed.Certificate.User != "carol" || signed.Certificate.Groups[0] != "qa" {
		t.Errorf("Sign(PEM) = %+v", signed)
	}
	// An object is signed for the shorter of expirationSeconds and expiry.
	signed, err = Sign(SignRequest{CADir: ca.Dir, Input: objYAML, InputName: objPath, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(signed.Object.Status.Certificate) == 0 || !signed.Certificate.NotAfter.Equal(testNow.Add(time.Hour)) || len(signed.Files) != 0 {
		t.Errorf("Sign(object) = %+v", signed.Certificate)
	}
	if _, err := ParseCertificates("status.certificate", signed.Object.Status.Certificate); err != nil {
		t.Error(err)
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "sign-ca", 0)
	csrPEM, _, err := NewCSR("dave", nil, KeySpec{})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := CSRObject("dave", csrPEM, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	obj.Spec.Usages = append(obj.Spec.Usages, "cert sign")
	badUsage, _ := yaml.Marshal(obj)
	obj.Spec.Usages = []certificatesv1.KeyUsage{"client auth"}
	short := int32(60)
	obj.Spec.ExpirationSeconds = &short
	shortExp, _ := yaml.Marshal(obj)
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"unsupported usage", string(badUsage), `spec.usages: "cert sign" is not supported`},
		{"too short", string(shortExp), "spec.expirationSeconds 60: must be at least 600"},
		{"wrong kind", "apiVersion: v1\nkind: Secret\n", `apiVersion "v1", kind "Secret": expected a PEM CSR`},
		{"certificate, not a CSR", string(encodeCert(ca.Cert)), "no PEM certificate request found"},
		{"unknown field", "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nspek: {}\n", "unknown field"},
		{"empty request", "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nspec: {}\n", "spec.request: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "x.crt")
			_, err := Sign(SignRequest{CADir: ca.Dir, Input: []byte(tc.input), InputName: "in.yaml", Out: out, Now: testNow})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Sign() error = %v, want %q", err, tc.wantErr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Error("a certificate was written despite the error")
			}
		})
	}
}

func TestCSRObjectValidation(t *testing.T) {
	t.Parallel()
	short := int32(599)
	if _, err := CSRObject("x", nil, "", &short); err == nil || !strings.Contains(err.Error(), "must be at least 600") {
		t.Errorf("error = %v", err)
	}
	if _, err := CSRObject("x", nil, "not a signer", nil); err == nil || !strings.Contains(err.Error(), `signer name "not a signer"`) {
		t.Errorf("error = %v", err)
	}
	for in, want := range map[string]string{"system:node:n1": "system-node-n1", "Alice@Example.com": "alice-example.com", "::": "csr"} {
		if got := objectName(in); got != want {
			t.Errorf("objectName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSignWarnings: a server certificate is signed as asked, but one
// without SANs is useless to TLS clients, so Sign says so.
func TestSignWarnings(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "warn-ca", 0)
	dir := t.TempDir()
	res, err := WriteCSR(CSRRequest{User: "web", OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	csrPEM, err := os.ReadFile(res.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		usage string
		want  int
	}{{UsageClient, 0}, {UsageServer, 1}, {UsageClientServer, 1}}
	for _, tt := range tests {
		t.Run(tt.usage, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "web.crt")
			signed, err := Sign(SignRequest{CADir: ca.Dir, Input: csrPEM, InputName: res.Files[0], Usage: tt.usage, Out: out, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(signed.Warnings) != tt.want {
				t.Errorf("warnings = %q, want %d", signed.Warnings, tt.want)
			}
		})
	}
}

// TestSignerUsages: spec.usages as kube-controller-manager's signers check
// them, and the requests they never sign refused up front.
func TestSignerUsages(t *testing.T) {
	t.Parallel()
	node, nodes := "system:node:n1", []string{"system:nodes"}
	tests := []struct {
		name, signer, user string
		groups             []string
		algo               string
		want               []certificatesv1.KeyUsage
		wantErr            string
	}{
		{name: "default", user: "alice", want: []certificatesv1.KeyUsage{"client auth"}},
		{name: "own signer", signer: "example.com/s", user: "alice", want: []certificatesv1.KeyUsage{"client auth"}},
		{name: "kubelet client ecdsa", signer: certificatesv1.KubeAPIServerClientKubeletSignerName, user: node, groups: nodes,
			want: []certificatesv1.KeyUsage{"digital signature", "client auth"}},
		{name: "kubelet client rsa", signer: certificatesv1.KubeAPIServerClientKubeletSignerName, user: node, groups: nodes, algo: AlgoRSA,
			want: []certificatesv1.KeyUsage{"digital signature", "key encipherment", "client auth"}},
		{name: "kubelet client not a node", signer: certificatesv1.KubeAPIServerClientKubeletSignerName, user: "alice", groups: nodes, wantErr: "signs only node client certificates"},
		{name: "kubelet client extra group", signer: certificatesv1.KubeAPIServerClientKubeletSignerName, user: node, groups: []string{"system:nodes", "x"}, wantErr: "exactly --group system:nodes"},
		{name: "kubelet serving", signer: certificatesv1.KubeletServingSignerName, user: node, groups: nodes, wantErr: "signs kubelet serving certificates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := signerUsages(tt.signer, tt.user, tt.groups, KeySpec{Algo: tt.algo})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("usages (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := CSRObject("x", nil, "kubernetes.io/legacy-unknown", nil); err == nil || !strings.Contains(err.Error(), "does not allow the legacy signer") {
		t.Errorf("legacy signer: %v", err)
	}
}
