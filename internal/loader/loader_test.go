package loader

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
)

type summary struct {
	Kind   string
	Name   string
	Source string
}

func summarize(objs []Object) []summary {
	out := make([]summary, len(objs))
	for i, o := range objs {
		name := ""
		switch v := o.Object.(type) {
		case *rbacv1.Role:
			name = v.Name
		case *rbacv1.RoleBinding:
			name = v.Name
		case *rbacv1.ClusterRole:
			name = v.Name
		case *unstructured.Unstructured:
			name = v.GetName()
		}
		out[i] = summary{Kind: GVK(o.Object).Kind, Name: name, Source: o.Source.String()}
	}
	return out
}

func TestLoadFolder(t *testing.T) {
	t.Parallel()
	objs, err := Load(context.Background(), []string{"tree"}, Options{Dir: "testdata"})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{
		{"Role", "reader", "tree/roles.yaml:2"},
		{"RoleBinding", "read-pods", "tree/roles.yaml:15"},
		{"ClusterRole", "a", "tree/sub/list.json:1"},
		{"Widget", "w", "tree/sub/list.json:1"},
	}
	if diff := cmp.Diff(want, summarize(objs)); diff != "" {
		t.Errorf("Load() mismatch (-want +got):\n%s", diff)
	}
	if _, ok := objs[0].Object.(*rbacv1.Role); !ok {
		t.Errorf("Role decoded as %T, want *rbacv1.Role", objs[0].Object)
	}
}

func TestLoadStdinAndJSONStream(t *testing.T) {
	t.Parallel()
	in := `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}
`
	objs, err := Load(context.Background(), []string{"-"}, Options{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{{"Namespace", "", "-:1"}, {"Namespace", "", "-:2"}}
	if diff := cmp.Diff(want, summarize(objs)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndatta: {}\n", `f.yaml:5: ConfigMap "x": unknown field "datta"`},
		{"unknown nested field in a later document", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# a role\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: a}\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n- apiGroups: [\"\"]\n  verb: [list]\n",
			`f.yaml:14: Role "r" in namespace "a": unknown field "rules[1].verb"`},
		{"bad yaml in a later document", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  x: [\n", "f.yaml:9: invalid YAML: did not find expected node content"},
		{"missing kind", "---\napiVersion: v1\nmetadata: {name: x}\n", "f.yaml:2: kind: missing"},
		{"missing apiVersion", "kind: Role\n", "f.yaml:1: apiVersion: missing for kind Role"},
		{"bad yaml", "kind: [\n", "f.yaml:1: invalid YAML"},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\n", "f.yaml:3: invalid YAML: key \"kind\" already set in map"},
		{"wrong type", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: 3\n", `f.yaml:1: Role "r": json: cannot unmarshal`},
		{"bad json", "{\n\"kind\": }", "f.yaml:2: invalid JSON"},
		{"scalar", "hello\n", "f.yaml:1: expected an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode("f.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadMissingPath(t *testing.T) {
	t.Parallel()
	_, err := Load(context.Background(), []string{"nope.yaml"}, Options{Dir: t.TempDir()})
	if err == nil || err.Error() != "reading nope.yaml: no such file or directory" {
		t.Errorf("error = %v", err)
	}
}

func TestParseGitSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    GitSpec
		wantErr string
	}{
		{in: "git:main:rbac/", want: GitSpec{Ref: "main", Path: "rbac"}},
		{in: "git:origin/main:", want: GitSpec{Ref: "origin/main", Path: ""}},
		{in: "git:HEAD~1:a/../b.yaml", want: GitSpec{Ref: "HEAD~1", Path: "b.yaml"}},
		{in: "git:HEAD:../../etc", want: GitSpec{Ref: "HEAD", Path: "etc"}},
		{in: "git:main", wantErr: "missing the second colon"},
		{in: "git::x", wantErr: "empty REF"},
		{in: "git:--upload-pack=x:y", wantErr: "not a valid git revision"},
	}
	for _, tc := range tests {
		got, err := ParseGitSpec(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseGitSpec(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseGitSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestLoadGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q", "-b", "main")
	write("rbac/a.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: old}\n")
	run("add", ".")
	run("commit", "-qm", "one")
	write("rbac/a.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: new}\n")

	objs, err := Load(context.Background(), []string{"git:main:rbac/"}, Options{Dir: filepath.Join(dir, "rbac")})
	if err != nil {
		t.Fatal(err)
	}
	want := []summary{{"ClusterRole", "old", "git:main:rbac/a.yaml:1"}}
	if diff := cmp.Diff(want, summarize(objs)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if _, err := Load(context.Background(), []string{"git:nope:rbac"}, Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), `unknown revision "nope"`) {
		t.Errorf("unknown ref error = %v", err)
	}
}

func TestLoadLive(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}})
	objs, err := LoadLive(context.Background(), client, RBACKinds...)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 || GVK(objs[0].Object).Kind != "Role" || objs[0].Source.File != LiveSource {
		t.Errorf("LoadLive() = %v", summarize(objs))
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"testdata/tree/roles.yaml", "testdata/tree/sub/list.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("{}{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		for _, o := range objs {
			if o.Object == nil || o.Source.Line < 1 {
				t.Errorf("bad object %+v", o)
			}
		}
	})
}
