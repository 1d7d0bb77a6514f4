package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestInspectVerify(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "inspect-ca", 0)
	other := newTestCA(t, "other-ca", 0)
	dir := t.TempDir()
	client := issueTo(t, ca, IssueRequest{User: "alice", Groups: []string{"dev"}, Expiry: 10 * 24 * time.Hour}, dir, "alice.crt")
	server := issueTo(t, ca, IssueRequest{User: "api", Usage: UsageServer, Hosts: []string{"api"}}, dir, "api.crt")
	foreign := issueTo(t, other, IssueRequest{User: "mallory"}, dir, "mallory.crt")
	caFile := filepath.Join(ca.Dir, CACertFile)

	type row struct {
		User     string
		Verified bool
		Reason   string
	}
	tests := []struct {
		name string
		path string
		now  time.Time
		want row
	}{
		{"valid client", client, testNow, row{"alice", true, ""}},
		{"expired", client, testNow.Add(11 * 24 * time.Hour), row{"alice", false, ReasonExpired}},
		{"not yet valid", client, testNow.Add(-time.Hour), row{"alice", false, ReasonNotYetValid}},
		{"server certificate used as client", server, testNow, row{"api", false, ReasonWrongUsage}},
		{"another CA", foreign, testNow, row{"mallory", false, ReasonUnknownAuthority}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			infos, err := Inspect(InspectRequest{Paths: []string{tc.path}, CAFile: caFile, Now: tc.now})
			if err != nil {
				t.Fatal(err)
			}
			got := row{infos[0].User, *infos[0].Verified, infos[0].Reason}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Inspect() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInspectSources(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "src-ca", 0)
	dir := t.TempDir()
	issued, err := Issue(ca, IssueRequest{User: "bob", Groups: []string{"ops"}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	caPEM := encodeCert(ca.Cert)
	writeTestFile(t, filepath.Join(dir, "chain.pem"), append(append([]byte{}, issued.CertPEM...), caPEM...))
	writeTestFile(t, filepath.Join(dir, "bob.crt"), issued.CertPEM)
	kc := &KubeconfigRequest{Path: "x", Server: "https://127.0.0.1:6443"}
	if err := kc.validate(); err != nil {
		t.Fatal(err)
	}
	embedded, err := kc.build("bob", caPEM, issued.CertPEM, issued.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "embedded.kubeconfig"), embedded)
	writeTestFile(t, filepath.Join(dir, "byfile.kubeconfig"), []byte(`apiVersion: v1
kind: Config
users:
- name: tokenuser
  user:
    token: abc
- name: bob-file
  user:
    client-certificate: bob.crt
    client-key: bob.key
`))
	type row struct {
		File, KubeconfigUser, User string
		Index                      int
		Groups                     []string
		IsCA                       bool
	}
	tests := []struct {
		name string
		path string
		want []row
	}{
		{"chain", "chain.pem", []row{{"chain.pem", "", "bob", 1, []string{"ops"}, false}, {"chain.pem", "", "src-ca", 2, []string{}, true}}},
		{"embedded kubeconfig", "embedded.kubeconfig", []row{{"embedded.kubeconfig", "bob", "bob", 1, []string{"ops"}, false}}},
		{"file-referenced kubeconfig", "byfile.kubeconfig", []row{{"byfile.kubeconfig", "bob-file", "bob", 1, []string{"ops"}, false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, tc.path)
			infos, err := Inspect(InspectRequest{Paths: []string{p}, CAFile: filepath.Join(ca.Dir, CACertFile), Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, i := range infos {
				got = append(got, row{filepath.Base(i.File), i.KubeconfigUser, i.User, i.Index, i.Groups, i.IsCA})
				if !*i.Verified {
					t.Errorf("%s #%d: not verified: %s", i.File, i.Index, i.Reason)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Inspect() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"corrupt.pem":  "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
		"key.pem":      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
		"notes.txt":    "hello\n",
		"token.config": "apiVersion: v1\nkind: Config\nusers:\n- name: t\n  user:\n    token: x\n",
	}
	for n, s := range files {
		writeTestFile(t, filepath.Join(dir, n), []byte(s))
	}
	tests := []struct{ file, wantErr string }{
		{"corrupt.pem", "corrupt.pem:1: corrupt PEM block"},
		{"key.pem", "no PEM certificate found"},
		{"notes.txt", "no certificate found"},
		{"token.config", "kubeconfig has no client certificates"},
		{"missing.crt", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			_, err := Inspect(InspectRequest{Paths: []string{filepath.Join(dir, tc.file)}, Now: testNow})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Inspect() error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSerial(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, wantErr string }{
		{"0A1B", "0A1B", ""},
		{"a1b", "0A1B", ""},
		{"0a:1b", "0A1B", ""},
		{"0x0a1b", "0A1B", ""},
		{"serial=0A1B", "0A1B", ""},
		{"xyz", "", "expected hex digits"},
		{"", "", "expected hex digits"},
	}
	for _, tc := range tests {
		n, err := ParseSerial(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSerial(%q) error = %v", tc.in, err)
			}
			continue
		}
		if err != nil || FormatSerial(n) != tc.want {
			t.Errorf("ParseSerial(%q) = %v, %v; want %s", tc.in, n, err, tc.want)
		}
	}
}

func TestWriteFilesAllOrNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "b.crt")
	writeTestFile(t, existing, []byte("old"))
	err := WriteFiles([]File{{Path: filepath.Join(dir, "a.key"), Data: []byte("k"), Mode: modePrivate}, {Path: existing, Data: []byte("new"), Mode: modePublic}}, false)
	if err == nil || err.Error() != existing+" already exists" {
		t.Fatalf("WriteFiles() error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.key")); !os.IsNotExist(err) {
		t.Errorf("a.key was written although b.crt existed")
	}
	if err := WriteFiles([]File{{Path: filepath.Join(dir, "a.key"), Data: []byte("k"), Mode: modePrivate}, {Path: existing, Data: []byte("new"), Mode: modePublic}}, true); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(filepath.Join(dir, "a.key"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("a.key mode = %o, want 600", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(existing); string(b) != "new" {
		t.Errorf("b.crt = %q after force", b)
	}
}

func TestWriteFilesMakesPrivateFolders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "pki", "sub"), filepath.Join(dir, "public")
	files := []File{
		{Path: filepath.Join(priv, "ca.crt"), Data: []byte("c"), Mode: modePublic},
		{Path: filepath.Join(priv, "ca.key"), Data: []byte("k"), Mode: modePrivate},
		{Path: filepath.Join(pub, "ca.crt"), Data: []byte("c"), Mode: modePublic},
	}
	if err := WriteFiles(files, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want os.FileMode
	}{{filepath.Join(dir, "pki"), 0o700}, {priv, 0o700}, {pub, 0o755 &^ umask(t)}} {
		st, err := os.Stat(tc.dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != tc.want {
			t.Errorf("%s: mode %o, want %o", tc.dir, got, tc.want)
		}
	}
}

// umask reads the process umask from a folder it creates with 0777.
func umask(t *testing.T) os.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.Mkdir(p, 0o777); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ st.Mode().Perm()
}
