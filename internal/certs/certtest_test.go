package certs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testNow is the fixed clock of the core tests.
var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newTestCA mints a throwaway CA in a temp folder and loads it.
func newTestCA(t testing.TB, cn string, expiry time.Duration) *CA {
	t.Helper()
	dir := t.TempDir()
	if _, err := InitCA(InitCARequest{CommonName: cn, Expiry: expiry, Now: testNow}, dir, false); err != nil {
		t.Fatalf("InitCA: %v", err)
	}
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatalf("LoadCA: %v", err)
	}
	return ca
}

// issueTo issues a certificate and writes it as PEM into dir/name.crt.
func issueTo(t testing.TB, ca *CA, req IssueRequest, dir, name string) string {
	t.Helper()
	if req.Now.IsZero() {
		req.Now = testNow
	}
	issued, err := Issue(ca, req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	p := filepath.Join(dir, name)
	writeTestFile(t, p, issued.CertPEM)
	return p
}

func writeTestFile(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
