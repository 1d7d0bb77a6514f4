package certs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "check-ca", 0)
	root := t.TempDir()
	sub := filepath.Join(root, "users")
	hidden := filepath.Join(root, ".git")
	for _, d := range []string{sub, hidden} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	issueTo(t, ca, IssueRequest{User: "fresh", Expiry: 90 * day}, sub, "fresh.crt")
	issueTo(t, ca, IssueRequest{User: "soon", Expiry: 20 * day}, sub, "soon.crt")
	issueTo(t, ca, IssueRequest{User: "urgent", Expiry: 3 * day}, root, "urgent.pem")
	issueTo(t, ca, IssueRequest{User: "ignored", Expiry: day}, hidden, "x.crt")
	issued, err := Issue(ca, IssueRequest{User: "kc", Expiry: 5 * day, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	kc := &KubeconfigRequest{Server: "https://k:6443"}
	_ = kc.validate()
	data, _ := kc.build("kc", encodeCert(ca.Cert), issued.CertPEM, issued.KeyPEM)
	writeTestFile(t, filepath.Join(root, "admin.conf"), data)
	writeTestFile(t, filepath.Join(root, "README.md"), []byte("# not a certificate\n"))

	res, err := Check(CheckRequest{Paths: []string{root}, Warn: DefaultWarn, Critical: DefaultCritical, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ User, Status string }
	var got []row
	for _, e := range res.Certificates {
		got = append(got, row{e.User, e.Status})
	}
	want := []row{{"urgent", StatusCritical}, {"kc", StatusCritical}, {"soon", StatusWarning}, {"fresh", StatusOK}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check() mismatch (-want +got):\n%s", diff)
	}
	if res.Findings != 3 {
		t.Errorf("Findings = %d, want 3", res.Findings)
	}
	// Later, the critical ones have expired.
	res, err = Check(CheckRequest{Paths: []string{filepath.Join(root, "urgent.pem")}, Warn: DefaultWarn, Critical: DefaultCritical, Now: testNow.Add(4 * day)})
	if err != nil || res.Certificates[0].Status != StatusExpired || res.Certificates[0].TimeLeftSeconds != -86400 {
		t.Errorf("Check() = %+v, %v; want expired, -86400s", res, err)
	}
	if _, err := Check(CheckRequest{Paths: []string{filepath.Join(root, "README.md")}, Now: testNow}); err == nil {
		t.Error("Check() of a named file without certificates succeeded")
	}
}
