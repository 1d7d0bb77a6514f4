package authz

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/clitest"
	"github.com/kauth/kauth/internal/output"
)

const testPolicy = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: dev}
subjects: [{kind: User, name: alice}]
roleRef: {kind: ClusterRole, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`

func testFactory(t *testing.T) (*cli.Factory, *strings.Builder, *strings.Builder) {
	t.Helper()
	s, _, out, errOut := output.Test()
	var o, e strings.Builder
	s.Out, s.ErrOut = &o, &e
	_, _ = out, errOut
	return &cli.Factory{IO: s, Output: "table", Clock: time.Now, Getenv: func(string) string { return "" }}, &o, &e
}

func writePolicy(t *testing.T) string {
	t.Helper()
	return clitest.WriteFile(t, "policy.yaml", testPolicy)
}

func TestNewCanICmd(t *testing.T) {
	t.Parallel()
	type view struct {
		Args             []string
		From             []string
		Bootstrap, Live  bool
		As               string
		Groups           []string
		NS, Sub          string
		All, List, Quiet bool
	}
	tests := []struct {
		name    string
		argv    []string
		want    view
		wantErr string
	}{
		{"question", []string{"get", "pods", "p1", "-n", "dev", "--as", "alice", "--as-group", "g", "--from", "a", "--from", "b", "--subresource", "log"},
			view{Args: []string{"get", "pods", "p1"}, From: []string{"a", "b"}, As: "alice", Groups: []string{"g"}, NS: "dev", Sub: "log"}, ""},
		{"list, all namespaces, bootstrap", []string{"--list", "-A", "--as", "alice", "--bootstrap-policy", "-q"},
			view{Args: []string{}, Bootstrap: true, As: "alice", NS: "default", All: true, List: true, Quiet: true}, ""},
		{"no policy", []string{"get", "pods", "--as", "a"}, view{}, "no policy to read"},
		{"no user", []string{"get", "pods", "--from", "x"}, view{}, "--as USER is required"},
		{"one argument", []string{"get", "--as", "a", "--from", "x"}, view{}, "expected VERB RESOURCE"},
		{"list with a question", []string{"--list", "get", "pods", "--as", "a", "--from", "x"}, view{}, "--list takes no VERB"},
		{"four arguments", []string{"a", "b", "c", "d", "--as", "a", "--from", "x"}, view{}, "accepts between 0 and 3 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := testFactory(t)
			var got *canIOptions
			err := clitest.Execute(newCanICmd(f, func(o *canIOptions) error { got = o; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v (exit %d), want %q and exit 2", err, cli.ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := view{got.Args, got.From, got.Bootstrap, got.Live, got.As, got.AsGroup, got.Namespace, got.Subresource, got.AllNamespaces, got.List, got.Quiet}
			if diff := cmp.Diff(tc.want, v); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunCanI(t *testing.T) {
	t.Parallel()
	policy := writePolicy(t)
	tests := []struct {
		name     string
		opts     func(o *canIOptions)
		wantOut  string
		wantCode int
	}{
		{"yes", func(o *canIOptions) { o.Args = []string{"list", "pods"}; o.Namespace = "dev" }, "yes\n", 0},
		{"no", func(o *canIOptions) { o.Args = []string{"list", "pods"}; o.Namespace = "prod" }, "no\n", 1},
		{"quiet", func(o *canIOptions) { o.Args = []string{"list", "pods"}; o.Quiet = true }, "", 1},
		{"json", func(o *canIOptions) { o.Args = []string{"get", "po"}; o.Namespace = "dev"; o.Format = output.JSON }, "{\n  \"allowed\": true,\n  \"reason\": \"RBAC: allowed by RoleBinding \\\"alice-reads/dev\\\" of ClusterRole \\\"pod-reader\\\" to User \\\"alice\\\"\"\n}\n", 0},
		{"list", func(o *canIOptions) { o.List = true; o.Namespace = "dev" }, "RESOURCES   NON-RESOURCE URLS   RESOURCE NAMES   VERBS\npods        []                  []               [get list]\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, out, _ := testFactory(t)
			o := &canIOptions{IO: f.IO, Factory: f, Format: output.Table}
			o.From, o.As, o.Namespace = []string{policy}, "alice", "default"
			tc.opts(o)
			err := runCanI(context.Background(), o)
			if got := cli.ExitCode(err); got != tc.wantCode {
				t.Fatalf("exit code = %d (%v), want %d", got, err, tc.wantCode)
			}
			if diff := cmp.Diff(tc.wantOut, out.String()); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLive reads the policy from a cluster (client-go's fake) as --live
// does, and sends reviews to its API as --server-side does.
func TestLive(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "reader"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}},
	)
	client.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "asked the cluster"}
		return true, sar, nil
	})
	kube := func() (kubernetes.Interface, error) { return client, nil }

	f, out, _ := testFactory(t)
	o := &whoCanOptions{IO: f.IO, Factory: f, Format: output.Table, Args: []string{"get", "pods"}}
	o.Live, o.KubeClient, o.Namespace = true, kube, "dev"
	if err := runWhoCan(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `User    alice            -           ClusterRoleBinding "b" -> ClusterRole "reader"`) {
		t.Errorf("who-can --live output:\n%s", out)
	}

	f, out, _ = testFactory(t)
	reviews := filepath.Join(t.TempDir(), "r.json")
	sar := `{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"alice","resourceAttributes":{"verb":"get","resource":"pods"}}}`
	if err := os.WriteFile(reviews, []byte(sar), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &checkOptions{IO: f.IO, Factory: f, Format: jsonl, File: reviews, ServerSide: true}
	c.Live, c.KubeClient = true, kube
	if err := runCheck(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"status":{"allowed":true,"reason":"asked the cluster"}`) {
		t.Errorf("check --server-side output: %s", out)
	}
}

func TestNewCmdVerbs(t *testing.T) {
	t.Parallel()
	f, _, _ := testFactory(t)
	var names []string
	for _, c := range NewCmd(f).Commands() {
		names = append(names, c.Name())
		if c.Example == "" {
			t.Errorf("%s has no Example", c.Name())
		}
	}
	if diff := cmp.Diff([]string{"can-i", "check", "explain", "matrix", "who-can"}, names); diff != "" {
		t.Errorf("verbs mismatch (-want +got):\n%s", diff)
	}
}
