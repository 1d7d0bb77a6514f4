package cert

import (
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/clitest"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testFactory() (*cli.Factory, *output.Streams) {
	s, _, _, _ := output.Test()
	return &cli.Factory{IO: s, Clock: func() time.Time { return testNow }, Getenv: func(string) string { return "" }}, s
}

func TestNewIssueCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		argv    []string
		want    issueOptions
		wantErr string
	}{
		{
			name: "defaults",
			argv: []string{"--ca-dir", "pki", "--user", "alice"},
			want: issueOptions{CADir: "pki", User: "alice", Usage: "client", Expiry: certs.DefaultExpiry, Key: certs.KeySpec{Algo: "ecdsa"}, OutDir: "."},
		},
		{
			name: "everything",
			argv: []string{"--ca-dir", "pki", "--user", "api", "--group", "a", "--group", "b", "--usage", "client,server", "--host", "h1", "--host", "10.0.0.1",
				"--expiry", "90d", "--key-algo", "rsa", "--key-size", "3072", "--out-dir", "out", "--name", "n", "--kubeconfig", "k", "--server", "https://s", "--cluster-name", "c", "--force"},
			want: issueOptions{CADir: "pki", User: "api", Groups: []string{"a", "b"}, Usage: "client,server", Hosts: []string{"h1", "10.0.0.1"},
				Expiry: 90 * 24 * time.Hour, Key: certs.KeySpec{Algo: "rsa", Size: 3072}, OutDir: "out", Name: "n", Kubeconfig: "k", Server: "https://s", ClusterName: "c", Force: true},
		},
		{name: "no CA", argv: []string{"--user", "a"}, wantErr: "--ca-dir is required"},
		{name: "no user", argv: []string{"--ca-dir", "pki"}, wantErr: "--user is required"},
		{name: "kubeconfig without server", argv: []string{"--ca-dir", "p", "--user", "a", "--kubeconfig", "k"}, wantErr: "--kubeconfig needs --server"},
		{name: "server without kubeconfig", argv: []string{"--ca-dir", "p", "--user", "a", "--server", "https://s"}, wantErr: "--server is only used with --kubeconfig"},
		{name: "bad usage", argv: []string{"--ca-dir", "p", "--user", "a", "--usage", "email"}, wantErr: "must be one of client, server, client,server"},
		{name: "bad duration", argv: []string{"--ca-dir", "p", "--user", "a", "--expiry", "2 weeks"}, wantErr: "is not a duration"},
		{name: "zero duration", argv: []string{"--ca-dir", "p", "--user", "a", "--expiry", "0s"}, wantErr: "--expiry 0s: must be positive"},
		{name: "arguments", argv: []string{"--ca-dir", "p", "--user", "a", "extra"}, wantErr: "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory()
			var got *issueOptions
			err := clitest.Execute(newIssueCmd(f, func(o *issueOptions) error { got = o; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v (exit %d), want %q and exit 2", err, cli.ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO, got.Clock, got.Format = nil, nil, ""
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCmdUsageErrors(t *testing.T) {
	t.Parallel()
	f, _ := testFactory()
	tests := []struct {
		name    string
		cmd     *cobra.Command
		argv    []string
		wantErr string
	}{
		{"ca init without cn", newCAInitCmd(f, func(*caInitOptions) error { return nil }), []string{"--out-dir", "x"}, "--cn is required"},
		{"csr expiration without k8s", newCSRCmd(f, func(*csrOptions) error { return nil }), []string{"--user", "a", "--expiration-seconds", "900"}, "need --k8s"},
		{"csr expiration too short", newCSRCmd(f, func(*csrOptions) error { return nil }), []string{"--user", "a", "--k8s", "--expiration-seconds", "10"}, "must be at least 600"},
		{"sign without csr", newSignCmd(f, func(*signOptions) error { return nil }), []string{"--ca-dir", "p"}, "--csr is required"},
		{"inspect without files", newInspectCmd(f, func(*inspectOptions) error { return nil }), nil, "requires at least 1 arg"},
		{"revoke without target", newRevokeCmd(f, func(*revokeOptions) error { return nil }), []string{"--ca-dir", "p"}, "accepts 1 arg"},
		{"revoke bad reason", newRevokeCmd(f, func(*revokeOptions) error { return nil }), []string{"--ca-dir", "p", "01", "--reason", "x"}, "must be one of unspecified"},
		{"check windows reversed", newCheckCmd(f, func(*checkOptions) error { return nil }), []string{"x", "--warn", "3d", "--critical", "5d"}, "--critical 5d is longer than --warn 3d"},
	}
	for _, tc := range tests {
		err := clitest.Execute(tc.cmd, tc.argv...)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("%s: error = %v (exit %d), want %q and exit 2", tc.name, err, cli.ExitCode(err), tc.wantErr)
		}
	}
}

var serialRE = regexp.MustCompile(`[0-9A-F]{38,40}`)

func TestRunIssueAndInspect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "unit-ca", Now: testNow}, pki, false); err != nil {
		t.Fatal(err)
	}
	s, _, out, errOut := output.Test()
	err := runIssue(&issueOptions{
		IO: s, Clock: func() time.Time { return testNow }, Format: output.Table,
		CADir: pki, User: "alice", Groups: []string{"dev"}, Usage: certs.UsageClient, Expiry: 30 * 24 * time.Hour, OutDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	crt, key := filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")
	want := "USER    GROUPS   USAGES        NOT AFTER              FILES\n" +
		"alice   dev      client auth   2026-03-31T12:00:00Z   " + crt + "," + key + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("issue stdout mismatch (-want +got):\n%s", diff)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr = %q, want nothing without a terminal", errOut)
	}

	s, _, out, _ = output.Test()
	err = runInspect(&inspectOptions{IO: s, Clock: func() time.Time { return testNow.Add(10 * 24 * time.Hour) }, Format: output.Table,
		Files: []string{crt}, CA: filepath.Join(pki, "ca.crt")})
	if err != nil {
		t.Fatal(err)
	}
	want = `FIELD            VALUE
source           ` + crt + `
user             alice
groups           dev
subject          CN=alice,O=dev
issuer           CN=unit-ca
serial           SERIAL
ca               false
not before       2026-03-01T11:55:00Z
not after        2026-03-31T12:00:00Z
time left        20d
key              ECDSA 256
key usages       digital signature,key encipherment
ext key usages   client auth
sans             <none>
verified         yes
`
	if diff := cmp.Diff(want, serialRE.ReplaceAllString(out.String(), "SERIAL")); diff != "" {
		t.Errorf("inspect stdout mismatch (-want +got):\n%s", diff)
	}

	// 31 days later: expired, exit 1 with a one-line message.
	s, _, out, _ = output.Test()
	err = runInspect(&inspectOptions{IO: s, Clock: func() time.Time { return testNow.Add(31 * 24 * time.Hour) }, Format: output.JSON,
		Files: []string{crt}, CA: filepath.Join(pki, "ca.crt")})
	var re *cli.ResultError
	if !errors.As(err, &re) || re.Code != 1 {
		t.Fatalf("error = %v, want exit 1", err)
	}
	if !strings.Contains(out.String(), `"reason": "expired"`) || !strings.Contains(out.String(), `"timeLeftSeconds": -86400`) {
		t.Errorf("inspect -o json = %s", out)
	}
}

func TestRunCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "check-ca", Expiry: 20 * 24 * time.Hour, Now: testNow}, dir, false); err != nil {
		t.Fatal(err)
	}
	s, _, out, _ := output.Test()
	err := runCheck(&checkOptions{IO: s, Clock: func() time.Time { return testNow }, Format: output.Table, Paths: []string{dir}, Warn: 30 * 24 * time.Hour, Critical: 7 * 24 * time.Hour})
	var re *cli.ResultError
	if !errors.As(err, &re) || re.Code != 1 || re.Msg != "1 of 1 certificates expire within 30d, have expired or are revoked" {
		t.Fatalf("error = %#v, want exit 1 with a summary", err)
	}
	want := "STATUS    NOT AFTER              LEFT   USER       SOURCE\n" +
		"warning   2026-03-21T12:00:00Z   20d    check-ca   " + filepath.Join(dir, "ca.crt") + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("check stdout mismatch (-want +got):\n%s", diff)
	}
}

func TestFormatLeft(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{-5: "expired", 0: "expired", 59: "0m", 3600: "1h0m", 47*3600 + 120: "47h2m", 48 * 3600: "2d", 400 * 86400: "400d"} {
		if got := formatLeft(in); got != want {
			t.Errorf("formatLeft(%d) = %q, want %q", in, got, want)
		}
	}
}
