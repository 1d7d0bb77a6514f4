package certs

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewCA(t *testing.T) {
	t.Parallel()
	type want struct {
		Algo     string
		Size     int
		IsCA     bool
		CN       string
		KeyUsage x509.KeyUsage
		NotAfter time.Time
	}
	tests := []struct {
		name    string
		req     InitCARequest
		want    want
		wantErr string
	}{
		{
			name: "defaults: ecdsa p-256, ten years",
			req:  InitCARequest{CommonName: "my-ca", Now: testNow},
			want: want{"ECDSA", 256, true, "my-ca", x509.KeyUsageCertSign | x509.KeyUsageCRLSign, testNow.Add(DefaultCAExpiry)},
		},
		{
			name: "rsa 2048, one year",
			req:  InitCARequest{CommonName: "rsa-ca", Key: KeySpec{Algo: AlgoRSA}, Expiry: 365 * 24 * time.Hour, Now: testNow},
			want: want{"RSA", 2048, true, "rsa-ca", x509.KeyUsageCertSign | x509.KeyUsageCRLSign, testNow.Add(365 * 24 * time.Hour)},
		},
		{name: "empty name", req: InitCARequest{Now: testNow}, wantErr: "CA common name is empty"},
		{name: "bad algorithm", req: InitCARequest{CommonName: "x", Key: KeySpec{Algo: "dsa"}}, wantErr: `key algorithm "dsa": must be ecdsa or rsa`},
		{name: "weak rsa", req: InitCARequest{CommonName: "x", Key: KeySpec{Algo: AlgoRSA, Size: 1024}}, wantErr: "rsa keys must be 2048 to 8192 bits"},
		{name: "bad curve", req: InitCARequest{CommonName: "x", Key: KeySpec{Size: 255}}, wantErr: "ecdsa keys must be 256, 384 or 521 bits"},
		{name: "negative expiry", req: InitCARequest{CommonName: "x", Expiry: -time.Hour}, wantErr: "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			certPEM, keyPEM, err := NewCA(tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NewCA() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			certs, err := ParseCertificates("ca.crt", certPEM)
			if err != nil {
				t.Fatal(err)
			}
			c := certs[0]
			algo, size := publicKeyInfo(c.PublicKey)
			got := want{algo, size, c.IsCA, c.Subject.CommonName, c.KeyUsage, c.NotAfter}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("NewCA() mismatch (-want +got):\n%s", diff)
			}
			key, err := ParsePrivateKey("ca.key", keyPEM)
			if err != nil || !keyMatches(key, c.PublicKey) {
				t.Errorf("key does not match certificate: %v", err)
			}
			if !c.NotBefore.Equal(testNow.Add(-backdate)) {
				t.Errorf("NotBefore = %v, want %v", c.NotBefore, testNow.Add(-backdate))
			}
		})
	}
}

func TestLoadCA(t *testing.T) {
	t.Parallel()
	good := newTestCA(t, "good", 0)
	other := newTestCA(t, "other", 0)
	leafDir := t.TempDir()
	leaf := issueTo(t, good, IssueRequest{User: "alice"}, leafDir, "alice.crt")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr string
		noCA    bool
	}{
		{name: "missing", files: nil, wantErr: "no such file", noCA: true},
		{name: "missing key", files: map[string][]byte{CACertFile: read(filepath.Join(good.Dir, CACertFile))}, wantErr: "ca.key: no such file", noCA: true},
		{name: "key of another CA", files: map[string][]byte{
			CACertFile: read(filepath.Join(good.Dir, CACertFile)), CAKeyFile: read(filepath.Join(other.Dir, CAKeyFile)),
		}, wantErr: "ca.key does not match"},
		{name: "not a CA", files: map[string][]byte{CACertFile: read(leaf), CAKeyFile: read(filepath.Join(good.Dir, CAKeyFile))}, wantErr: `certificate "CN=alice" is not a CA: expected basic constraints CA:TRUE`},
		{name: "corrupt PEM", files: map[string][]byte{CACertFile: []byte("x\n-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n")}, wantErr: "ca.crt:2: corrupt PEM block"},
		{name: "no certificate", files: map[string][]byte{CACertFile: []byte("hello\n")}, wantErr: "no PEM certificate found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for n, b := range tc.files {
				writeTestFile(t, filepath.Join(dir, n), b)
			}
			_, err := LoadCA(dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadCA() error = %v, want %q", err, tc.wantErr)
			}
			if got := errors.Is(err, ErrNoCA); got != tc.noCA {
				t.Errorf("errors.Is(err, ErrNoCA) = %v, want %v", got, tc.noCA)
			}
		})
	}
}

func TestInitCAFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pki")
	res, err := InitCA(InitCARequest{CommonName: "my-ca", Now: testNow}, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")}, res.Files); diff != "" {
		t.Errorf("files mismatch (-want +got):\n%s", diff)
	}
	modes := map[string]os.FileMode{}
	for _, n := range []string{"ca.crt", "ca.key"} {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		modes[n] = st.Mode().Perm()
	}
	if modes["ca.key"] != 0o600 {
		t.Errorf("ca.key mode = %o, want 600", modes["ca.key"])
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	_, err = InitCA(InitCARequest{CommonName: "my-ca", Now: testNow}, dir, false)
	var exists *ExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("second InitCA error = %v, want ExistsError", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	if string(before) != string(after) {
		t.Error("ca.key changed although the init was refused")
	}
	if _, err := InitCA(InitCARequest{CommonName: "my-ca", Now: testNow}, dir, true); err != nil {
		t.Errorf("InitCA with force: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2 (no temporary files left)", len(entries))
	}
}
