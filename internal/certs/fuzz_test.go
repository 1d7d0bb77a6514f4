package certs

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

var updateTestdata = flag.Bool("update-testdata", false, "regenerate the fuzz seeds in testdata/")

// TestUpdateTestdata regenerates the seed files with -update-testdata;
// otherwise it checks that they are there.
func TestUpdateTestdata(t *testing.T) {
	if !*updateTestdata {
		for _, n := range []string{"valid-client.crt", "valid-chain.pem", "valid-client.csr", "valid-csr.yaml", "valid-kubeconfig.yaml", "valid-client.key"} {
			if _, err := os.Stat(filepath.Join("testdata", n)); err != nil {
				t.Errorf("missing seed %s: run go test -run TestUpdateTestdata -update-testdata", n)
			}
		}
		return
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if _, err := InitCA(InitCARequest{CommonName: "seed-ca", Expiry: 100 * 365 * 24 * time.Hour, Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := Issue(ca, IssueRequest{User: "alice", Groups: []string{"dev", "system:masters"}, Expiry: 50 * 365 * 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	kc := &KubeconfigRequest{Server: "https://127.0.0.1:6443"}
	if err := kc.validate(); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := kc.build("alice", encodeCert(ca.Cert), issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	csrPEM, _, err := NewCSR("bob", []string{"ops"}, KeySpec{})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := CSRObject("bob", csrPEM, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	objYAML, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"valid-ca.crt":          encodeCert(ca.Cert),
		"valid-client.crt":      issued.CertPEM,
		"valid-client.key":      issued.KeyPEM,
		"valid-chain.pem":       append(append([]byte{}, issued.CertPEM...), encodeCert(ca.Cert)...),
		"valid-client.csr":      csrPEM,
		"valid-csr.yaml":        objYAML,
		"valid-kubeconfig.yaml": kubeconfig,
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join("testdata", n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func addSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseCertificates(f *testing.F) {
	addSeeds(f, "valid-client.crt", "valid-chain.pem", "invalid-corrupt.pem", "valid-client.key")
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates("in.pem", data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
		for _, c := range certs {
			_ = Describe(c, "in.pem", time.Unix(0, 0))
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	addSeeds(f, "valid-client.key", "valid-client.crt", "invalid-corrupt.pem")
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateKey("in.key", data)
		if err == nil && key == nil {
			t.Fatal("no error and no key")
		}
	})
}

func FuzzParseCSR(f *testing.F) {
	addSeeds(f, "valid-client.csr", "valid-csr.yaml", "invalid-csr-kind.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseCSR("in.csr", data)
		if err != nil {
			return
		}
		if in.Request == nil || len(in.PEM) == 0 {
			t.Fatal("no error and no request")
		}
		if in.Object != nil {
			_, _ = objectUsage("in.csr", in.Object.Spec.Usages)
		}
	})
}

func FuzzParseKubeconfig(f *testing.F) {
	addSeeds(f, "valid-kubeconfig.yaml", "invalid-csr-kind.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseKubeconfig("in.kubeconfig", data)
		if err != nil {
			return
		}
		// Only embedded certificates: a fuzzed file path must not read
		// the disk.
		for _, ai := range cfg.AuthInfos {
			if ai != nil {
				ai.ClientCertificate = ""
			}
		}
		_, _ = kubeconfigCerts("in.kubeconfig", cfg)
	})
}
