package certs

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRevoke(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "revoke-ca", 0)
	dir := t.TempDir()
	alice := issueTo(t, ca, IssueRequest{User: "alice"}, dir, "alice.crt")
	bob := issueTo(t, ca, IssueRequest{User: "bob"}, dir, "bob.crt")
	foreign := issueTo(t, newTestCA(t, "x", 0), IssueRequest{User: "eve"}, dir, "eve.crt")

	res, err := Revoke(RevokeRequest{CADir: ca.Dir, CertFile: alice, Reason: "keyCompromise", Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 1 || res.Revoked.Subject != "CN=alice" || !res.NextUpdate.Equal(testNow.Add(DefaultCRLExpiry)) {
		t.Errorf("Revoke() = %+v", res)
	}
	for _, tc := range []struct{ name, serial, file, reason, wantErr string }{
		{name: "twice", file: alice, wantErr: "is already revoked (on 2026-01-01T00:00:00Z)"},
		{name: "other CA", file: foreign, wantErr: `certificate "CN=eve" was not issued by the CA`},
		{name: "bad serial", serial: "nope", wantErr: `serial "nope": expected hex digits`},
		{name: "bad reason", serial: "01", reason: "bored", wantErr: `reason "bored": must be one of`},
		{name: "the CA itself", file: filepath.Join(ca.Dir, CACertFile), wantErr: "is the CA's own certificate: a CA cannot revoke itself"},
		{name: "the CA's serial", serial: FormatSerial(ca.Cert.SerialNumber), wantErr: "is the CA's own certificate"},
	} {
		_, err := Revoke(RevokeRequest{CADir: ca.Dir, Serial: tc.serial, CertFile: tc.file, Reason: tc.reason, Now: testNow})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Revoke() error = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	// By serial, as inspect prints it, with colons.
	serial := Describe(mustCert(t, bob), bob, testNow).Serial
	if _, err := Revoke(RevokeRequest{CADir: ca.Dir, Serial: strings.ToLower(serial[:2]) + ":" + serial[2:], Now: testNow.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	infos, err := Inspect(InspectRequest{Paths: []string{alice, bob, foreign}, CAFile: filepath.Join(ca.Dir, CACertFile), CRLFile: filepath.Join(ca.Dir, CACRLFile), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		User    string
		Revoked *bool
		Reason  string
	}
	yes := true
	want := []row{{"alice", &yes, "keyCompromise"}, {"bob", &yes, "unspecified"}, {"eve", nil, ""}}
	var got []row
	for _, i := range infos {
		got = append(got, row{i.User, i.Revoked, i.RevocationReason})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("revocation mismatch (-want +got):\n%s", diff)
	}
	db, err := os.ReadFile(filepath.Join(ca.Dir, RevokedDBFile))
	if err != nil || !strings.Contains(string(db), `"reason": "keyCompromise"`) {
		t.Errorf("revoked.json = %s, %v", db, err)
	}
}

func mustCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCertificates(p, data)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}
