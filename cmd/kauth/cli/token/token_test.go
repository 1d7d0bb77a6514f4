package token

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

var testNow = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func testFactory(format string) (*cli.Factory, *bytes.Buffer, *bytes.Buffer) {
	s, _, out, errOut := output.Test()
	return &cli.Factory{IO: s, Clock: func() time.Time { return testNow }, Getenv: func(string) string { return "" }, Output: format}, out, errOut
}

// execute runs cmd with args, the way the root command would.
func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	// As the root command does: flag errors are usage errors.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cli.UsageError{Err: err} })
	return cmd.Execute()
}

func TestNewStaticAddCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		want     staticAddOptions
		wantCode int
	}{
		{
			name: "all flags",
			args: []string{"--file", "t.csv", "--user", "alice", "--uid", "1", "--group", "a", "--group", "b,c"},
			want: staticAddOptions{File: "t.csv", User: "alice", UID: "1", Groups: []string{"a", "b,c"}, Format: output.Table},
		},
		{
			name:  "token from stdin",
			args:  []string{"--file", "t.csv", "--user", "alice", "--uid", "1", "--token", "-"},
			stdin: "G1ven_Tq8n-9f3Kx7Lm2Pz5Rw4Vy6Hb\n",
			want:  staticAddOptions{File: "t.csv", User: "alice", UID: "1", Token: "G1ven_Tq8n-9f3Kx7Lm2Pz5Rw4Vy6Hb", Format: output.Table},
		},
		{name: "missing user", args: []string{"--file", "t.csv"}, wantCode: 2},
		{name: "missing uid", args: []string{"--file", "t.csv", "--user", "a"}, wantCode: 2},
		{name: "stray argument", args: []string{"--file", "t.csv", "--user", "a", "--uid", "1", "extra"}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := testFactory("")
			f.IO.In = strings.NewReader(tc.stdin)
			var got *staticAddOptions
			err := execute(newStaticAddCmd(f, func(o *staticAddOptions) error { got = o; return nil }), tc.args...)
			if tc.wantCode != 0 {
				if cli.ExitCode(err) != tc.wantCode {
					t.Fatalf("exit code = %d (%v), want %d", cli.ExitCode(err), err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *got, cmpopts.IgnoreFields(staticAddOptions{}, "IO", "Rand")); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunStaticAdd(t *testing.T) {
	t.Parallel()
	f, out, errOut := testFactory("")
	path := filepath.Join(t.TempDir(), "tokens.csv")
	opts := &staticAddOptions{IO: f.IO, Rand: bytes.NewReader(bytes.Repeat([]byte{0}, 32)), File: path, User: "alice", UID: "1", Groups: []string{"dev"}, Format: output.Table}
	if err := runStaticAdd(opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr = %q, want nothing off a terminal", errOut.String())
	}
	err := runStaticAdd(opts)
	if cli.ExitCode(err) != 2 || len(cli.Hints(err)) != 1 {
		t.Errorf("second add: code %d, hints %v", cli.ExitCode(err), cli.Hints(err))
	}
}

func TestRunStaticLint(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte("short,alice,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, out, _ := testFactory("")
	err := runStaticLint(&staticLintOptions{IO: f.IO, File: path, Format: output.Table})
	if cli.ExitCode(err) != 1 {
		t.Fatalf("exit code = %d (%v), want 1", cli.ExitCode(err), err)
	}
	want := "LINE   SEVERITY   RULE         MESSAGE\n" +
		"1      error      weak-token   weak token for user \"alice\": only 5 characters long\n" +
		path + ": 1 tokens, 1 errors, 0 warnings\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
}

func fakeClient(c kubernetes.Interface) func() (kubernetes.Interface, error) {
	return func() (kubernetes.Interface, error) { return c, nil }
}

func bootstrapSecret(id string, exp time.Time, groups string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-" + id, Namespace: "kube-system"},
		Type:       "bootstrap.kubernetes.io/token",
		Data: map[string][]byte{
			"token-id": []byte(id), "token-secret": []byte("0123456789abcdef"),
			"expiration":                     []byte(exp.Format(time.RFC3339)),
			"usage-bootstrap-authentication": []byte("true"), "usage-bootstrap-signing": []byte("true"),
			"auth-extra-groups": []byte(groups), "description": []byte("join " + id),
		},
	}
}

func TestRunBootstrapList(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(
		bootstrapSecret("bbbbbb", testNow.Add(-time.Hour), ""),
		bootstrapSecret("aaaaaa", testNow.Add(50*time.Hour), "system:bootstrappers:workers"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bootstrap-token-cccccc", Namespace: "default"}, Type: "bootstrap.kubernetes.io/token"},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "kube-system"}, Type: corev1.SecretTypeOpaque},
	)
	f, out, _ := testFactory("")
	opts := &bootstrapListOptions{IO: f.IO, Clock: f.Clock, KubeClient: fakeClient(client), Format: output.Table}
	if err := runBootstrapList(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := "ID       TTL       EXPIRES                USAGES                   EXTRA GROUPS                   DESCRIPTION   STATUS\n" +
		"aaaaaa   50h0m0s   2026-11-30T08:00:00Z   authentication,signing   system:bootstrappers:workers   join aaaaaa   valid\n" +
		"bbbbbb   expired   2026-11-28T05:00:00Z   authentication,signing                                  join bbbbbb   expired at 2026-11-28T05:00:00Z\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(out.String(), "0123456789abcdef") {
		t.Error("list shows a token secret")
	}
}

func TestRunBootstrapDelete(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(bootstrapSecret("aaaaaa", testNow.Add(time.Hour), ""))
	f, out, errOut := testFactory("")
	opts := &bootstrapDeleteOptions{IO: f.IO, KubeClient: fakeClient(client), ID: "aaaaaa.0123456789abcdef"}
	if err := runBootstrapDelete(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || errOut.String() != "deleted secret kube-system/bootstrap-token-aaaaaa\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	if err := runBootstrapDelete(context.Background(), opts); cli.ExitCode(err) != 1 {
		t.Errorf("deleting again: exit code %d (%v), want 1", cli.ExitCode(err), err)
	}
	var ue *cli.UsageError
	if err := execute(newBootstrapDeleteCmd(f, nil), "NOPE"); !errors.As(err, &ue) {
		t.Errorf("bad id error = %v, want a usage error", err)
	}
}

func TestRunBootstrapCreateApply(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	f, out, _ := testFactory("")
	opts := &bootstrapCreateOptions{IO: f.IO, Clock: f.Clock, KubeClient: fakeClient(client), Token: "abcdef.0123456789abcdef", TTL: time.Hour, Usages: tokens.DefaultBootstrapUsages, Apply: true, Format: output.Table}
	if err := runBootstrapCreate(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "abcdef.0123456789abcdef\n" {
		t.Errorf("stdout = %q, want the token", out.String())
	}
	s, err := client.CoreV1().Secrets("kube-system").Get(context.Background(), "bootstrap-token-abcdef", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info := tokens.InspectBootstrapSecret(s, "0123456789abcdef", testNow)
	if !info.Valid() || string(s.Data["expiration"]) != "2026-11-28T07:00:00Z" {
		t.Errorf("created secret: problems %v, expiration %s", info.Problems, s.Data["expiration"])
	}
}

func TestRunSARequest(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	client.PrependReactor("create", "serviceaccounts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		ca, ok := a.(clienttesting.CreateAction)
		if !ok || ca.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		tr.Status = authenticationv1.TokenRequestStatus{Token: "eyJ.payload.sig", ExpirationTimestamp: metav1.NewTime(testNow.Add(2 * time.Hour))}
		return true, tr, nil
	})
	f, out, _ := testFactory("json")
	var opts *saRequestOptions
	cmd := newSARequestCmd(f, func(o *saRequestOptions) error { opts = o; return nil })
	if err := execute(cmd, "-n", "team-a", "deployer", "--audience", "vault", "--duration", "2h"); err != nil {
		t.Fatal(err)
	}
	opts.KubeClient = fakeClient(client)
	if err := runSARequest(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	want := `{
  "token": "eyJ.payload.sig",
  "namespace": "team-a",
  "name": "deployer",
  "audiences": [
    "vault"
  ],
  "expiration": "2026-11-28T08:00:00Z"
}
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("stdout mismatch (-want +got):\n%s", diff)
	}
}

func TestGroupsHaveExamples(t *testing.T) {
	t.Parallel()
	f, _, _ := testFactory("")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() {
			for _, sub := range c.Commands() {
				walk(sub)
			}
			return
		}
		if n := strings.Count(c.Example, "\n  kauth ") + strings.Count(c.Example, "| kauth "); !strings.Contains(c.Example, "kauth ") || n > 5 {
			t.Errorf("%s: Example should have 2-5 kauth commands, has %q", c.CommandPath(), c.Example)
		}
	}
	walk(NewCmd(f))
}
