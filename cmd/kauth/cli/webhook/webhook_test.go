package webhook

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/clitest"
	"github.com/kauth/kauth/internal/authwebhook"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

func testFactory() (*cli.Factory, *output.Streams) {
	s, _, _, _ := output.Test()
	return &cli.Factory{IO: s, Clock: time.Now, Getenv: func(string) string { return "" }}, s
}

func TestNewServeCmd(t *testing.T) {
	t.Parallel()
	tls := []string{"--tls-cert-file", "c", "--tls-private-key-file", "k"}
	defaults := authwebhook.Options{Rate: 100, Burst: 200, TokenTTL: 2 * time.Minute, AuthorizedTTL: 5 * time.Minute, UnauthorizedTTL: 30 * time.Second}
	tests := []struct {
		name    string
		argv    []string
		want    authwebhook.Config
		command []string
		wantErr string
	}{
		{"defaults", append(tls, "--from", "rbac/"), authwebhook.Config{Listen: "127.0.0.1:8443", CertFile: "c", KeyFile: "k", Policy: rbac.Sources{From: []string{"rbac/"}}, Options: defaults}, nil, ""},
		{"everything", append(tls, "--listen", ":9443", "--client-ca-file", "ca", "--token-auth-file", "t.csv", "--from", "a", "--from", "b", "--bootstrap-policy",
			"--rate", "5", "--burst", "10", "--token-cache-ttl", "1m", "--cache-authorized-ttl", "1h", "--cache-unauthorized-ttl", "0s", "--", "curl", "x"),
			authwebhook.Config{Listen: ":9443", CertFile: "c", KeyFile: "k", ClientCAFile: "ca", TokenAuthFile: "t.csv", Policy: rbac.Sources{From: []string{"a", "b"}, Bootstrap: true},
				Options: authwebhook.Options{Rate: 5, Burst: 10, TokenTTL: time.Minute, AuthorizedTTL: time.Hour}}, []string{"curl", "x"}, ""},
		{"no TLS", []string{"--from", "x"}, authwebhook.Config{}, nil, "--tls-cert-file and --tls-private-key-file are required"},
		{"nothing to answer", tls, authwebhook.Config{}, nil, "nothing to answer"},
		{"negative rate", append(tls, "--from", "x", "--rate", "-1"), authwebhook.Config{}, nil, "must not be negative"},
		{"rate without burst", append(tls, "--from", "x", "--burst", "0"), authwebhook.Config{}, nil, "--burst must be at least 1"},
		{"argument", append(tls, "--from", "x", "extra"), authwebhook.Config{}, nil, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory()
			var got *serveOptions
			err := clitest.Execute(newServeCmd(f, func(_ context.Context, o *serveOptions) error { got = o; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v (exit %d), want %q and exit 2", err, cli.ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Config.Logger, got.Config.Policy.Stdin = nil, nil
			if diff := cmp.Diff(tc.want, got.Config, cmpopts.IgnoreUnexported(authwebhook.Config{})); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.command, got.Command); diff != "" {
				t.Errorf("command mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewConfigCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		argv    []string
		want    configOptions
		wantErr string
	}{
		{"defaults", []string{"--url", "https://h:1", "--ca-file", "ca"}, configOptions{URL: "https://h:1", CAFile: "ca", OutDir: "."}, ""},
		{"everything", []string{"--url", "https://h:1", "--ca-file", "ca", "--client-cert", "c", "--client-key", "k", "--out-dir", "o", "--force"},
			configOptions{URL: "https://h:1", CAFile: "ca", ClientCert: "c", ClientKey: "k", OutDir: "o", Force: true}, ""},
		{"no url", []string{"--ca-file", "ca"}, configOptions{}, "--url is required"},
		{"no ca", []string{"--url", "https://h"}, configOptions{}, "--ca-file is required"},
		{"key without cert", []string{"--url", "https://h", "--ca-file", "ca", "--client-key", "k"}, configOptions{}, "go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory()
			var got *configOptions
			err := clitest.Execute(newConfigCmd(f, func(o *configOptions) error { got = o; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v (exit %d), want %q and exit 2", err, cli.ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO, got.Format = nil, ""
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// the CA file must hold a real certificate: only its certificates are
	// embedded, and a file without one is refused
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "webhook CA", Expiry: time.Hour, Now: time.Now()}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, certs.CACertFile)
	_, s := testFactory()
	o := &configOptions{IO: s, Format: output.Table, URL: "https://h:8443/", CAFile: ca, OutDir: dir}
	if err := runConfig(o); err != nil {
		t.Fatal(err)
	}
	out := s.Out.(interface{ String() string }).String()
	var got [][]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		got = append(got, strings.Fields(l))
	}
	want := [][]string{
		{"FILE", "FLAG", "SERVER"},
		{filepath.Join(dir, "authn-webhook.kubeconfig"), "--authentication-token-webhook-config-file", "https://h:8443/authenticate"},
		{filepath.Join(dir, "authz-webhook.kubeconfig"), "--authorization-webhook-config-file", "https://h:8443/authorize"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table mismatch (-want +got):\n%s", diff)
	}
	err := runConfig(o)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second run: %v (exit %d), want exists and exit 2", err, cli.ExitCode(err))
	}
}
