package certs

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkIssue measures key generation, CSR and signing of one client
// certificate: the work of "kauth cert issue" without the process start
// and file writes.
func BenchmarkIssue(b *testing.B) {
	for _, tc := range []struct {
		name string
		key  KeySpec
	}{
		{"ecdsa-p256", KeySpec{Algo: AlgoECDSA, Size: 256}},
		{"rsa-2048", KeySpec{Algo: AlgoRSA, Size: 2048}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ca := newTestCA(b, "bench-ca", 0)
			req := IssueRequest{User: "alice", Groups: []string{"dev"}, Key: tc.key, Now: testNow}
			for b.Loop() {
				if _, err := Issue(ca, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssueFiles adds loading the CA and writing the files.
func BenchmarkIssueFiles(b *testing.B) {
	ca := newTestCA(b, "bench-ca", 0)
	out := b.TempDir()
	req := IssueFilesRequest{IssueRequest: IssueRequest{User: "alice", Now: testNow}, CADir: ca.Dir, OutDir: out, Force: true}
	for b.Loop() {
		if _, err := IssueFiles(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInspect(b *testing.B) {
	ca := newTestCA(b, "bench-ca", 0)
	dir := b.TempDir()
	p := issueTo(b, ca, IssueRequest{User: "alice", Groups: []string{"dev"}}, dir, "alice.crt")
	caFile := filepath.Join(ca.Dir, CACertFile)
	for b.Loop() {
		if _, err := Inspect(InspectRequest{Paths: []string{p}, CAFile: caFile, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCertificates(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "valid-chain.pem"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseCertificates("chain.pem", data); err != nil {
			b.Fatal(err)
		}
	}
}
