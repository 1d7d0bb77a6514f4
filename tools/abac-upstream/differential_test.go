package abacupstream

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/kubernetes/pkg/auth/authorizer/abac"

	"github.com/kauth/kauth/internal/authzchain"
)

var lines = []string{
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "*", "resource": "*", "apiGroup": "*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "bob", "namespace": "projectCaribou", "resource": "pods", "readonly": true}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "readonly": true, "nonResourcePath": "*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:unauthenticated", "readonly": true, "nonResourcePath": "/version"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "*", "readonly": true, "namespace": "*", "resource": "*", "apiGroup": "*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "carol", "group": "ops", "namespace": "*", "resource": "deployments", "apiGroup": "apps"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "dave", "nonResourcePath": "/logs/*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "*", "namespace": "kube-system", "resource": "configmaps"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"namespace": "*", "resource": "*", "apiGroup": "*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"User": "erin", "namespace": "*", "resource": "*", "apiGroup": "*"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "frank", "namespace": "*", "resource": "*", "apiGroup": "*", "bogus": 1}}`,
	`{"user":"v0user"}`,
	`{"user":"v0ro", "readonly": true}`,
	`{"group":"v0group", "namespace": "ns1"}`,
	`{"user":"*", "resource": "secrets"}`,
	`{}`,
	`null`,
	`{"kind": "Policy", "user": "kindonly"}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v0", "kind": "Policy", "user": "v0explicit"}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v0", "user": "v0noKind"}`,
	`user: yamluser`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "user": "nokind"}`,
	`{"apiVersion": "v1", "kind": "Policy", "user": "wrongversion"}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Role"}`,
	`{"kind": "Role", "user": "x"}`,
	`{"user": 5}`,
	`{"readonly": "yes"}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": "x"}`,
	`not json at all`,
	`[1,2]`,
	`"string"`,
	`{"user": "dup", "user": "dup2"}`,
	`{"APIVERSION": "abac.authorization.kubernetes.io/v1beta1", "KIND": "Policy", "spec": {"user": "upper"}}`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "gina", "nonResourcePath": "*"}}`,
	`   # indented comment`,
	`{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "hank", "namespace": "", "resource": "pods", "apiGroup": ""}}`,
	`{"user": "ivy", "readonly": true, "nonResourcePath": "/x"}`,
}

var users = []user.Info{
	&user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}},
	&user.DefaultInfo{Name: "bob", Groups: []string{"system:authenticated"}},
	&user.DefaultInfo{Name: "carol", Groups: []string{"ops", "system:authenticated"}},
	&user.DefaultInfo{Name: "carol", Groups: []string{"system:authenticated"}},
	&user.DefaultInfo{Name: "dave"}, &user.DefaultInfo{Name: "erin"}, &user.DefaultInfo{Name: "frank"},
	&user.DefaultInfo{Name: "v0user"}, &user.DefaultInfo{Name: "v0ro"}, &user.DefaultInfo{Name: "x", Groups: []string{"v0group"}},
	&user.DefaultInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}},
	&user.DefaultInfo{Name: "dup2"}, &user.DefaultInfo{Name: "upper"}, &user.DefaultInfo{Name: "yamluser"},
	&user.DefaultInfo{Name: "gina"}, &user.DefaultInfo{Name: "hank"}, &user.DefaultInfo{Name: "ivy"},
	&user.DefaultInfo{Name: "kindonly"}, &user.DefaultInfo{Name: "v0explicit"}, &user.DefaultInfo{Name: "v0noKind"},
	&user.DefaultInfo{Name: "nobody", Groups: []string{"nothing"}},
	nil,
}

func requests(u user.Info) []authorizer.AttributesRecord {
	var out []authorizer.AttributesRecord
	for _, verb := range []string{"get", "list", "watch", "create", "delete", "update", "patch", "deletecollection", "impersonate"} {
		for _, r := range []struct{ group, res, ns string }{
			{"", "pods", "projectCaribou"}, {"", "pods", "default"}, {"", "secrets", "ns1"}, {"apps", "deployments", "x"},
			{"", "configmaps", "kube-system"}, {"", "namespaces", ""}, {"rbac.authorization.k8s.io", "roles", "ns1"}, {"", "pods", ""},
		} {
			out = append(out, authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: r.group, Resource: r.res, Namespace: r.ns, ResourceRequest: true})
		}
		for _, p := range []string{"/version", "/logs", "/logs/", "/logs/x", "/healthz", "/x", "/api", ""} {
			out = append(out, authorizer.AttributesRecord{User: u, Verb: verb, Path: p})
		}
	}
	return out
}

func loadBoth(t *testing.T, content string) (abac.PolicyList, error, authzchain.ABAC, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	up, upErr := abac.NewFromFile(p)
	ours, ourErr := authzchain.ParseABAC(p, []byte(content))
	return up, upErr, ours, ourErr
}

// TestLoadAgrees checks that each line loads, or fails, in both.
func TestLoadAgrees(t *testing.T) {
	for _, l := range lines {
		_, upErr, _, ourErr := loadBoth(t, l+"\n")
		if (upErr == nil) != (ourErr == nil) {
			t.Errorf("line %s\n upstream error: %v\n kauth error:    %v", l, upErr, ourErr)
		}
	}
}

// TestDecisionsAgree runs every request against each loadable line alone
// and against all of them together.
func TestDecisionsAgree(t *testing.T) {
	var ok []string
	for _, l := range lines {
		up, upErr, ours, ourErr := loadBoth(t, l+"\n")
		if upErr != nil || ourErr != nil {
			continue
		}
		ok = append(ok, l)
		compare(t, l, up, ours)
	}
	up, upErr, ours, ourErr := loadBoth(t, "# all\n\n"+strings.Join(ok, "\n"))
	if upErr != nil || ourErr != nil {
		t.Fatalf("loading all: %v / %v", upErr, ourErr)
	}
	compare(t, "all lines", up, ours)
}

func compare(t *testing.T, name string, up abac.PolicyList, ours authzchain.ABAC) {
	t.Helper()
	ctx := context.Background()
	for _, u := range users {
		for _, a := range requests(u) {
			ud, ur, _ := up.Authorize(ctx, a)
			od, or, _ := ours.Authorize(ctx, a)
			if ud != od || ur != or {
				t.Errorf("%s: %s %+v: upstream %v %q, kauth %v %q", name, uname(u), a, ud, ur, od, or)
			}
		}
		for _, ns := range []string{"", "ns1", "projectCaribou", "kube-system"} {
			ures, unon, _, _ := up.RulesFor(ctx, u, ns)
			ores, onon, _, _ := ours.RulesFor(ctx, u, ns)
			if diff := cmp.Diff(rulesText(ures, unon), rulesText(ores, onon)); diff != "" {
				t.Errorf("%s: RulesFor(%s, %q) mismatch (-upstream +kauth):\n%s", name, uname(u), ns, diff)
			}
		}
	}
}

func uname(u user.Info) string {
	if u == nil {
		return "<nil>"
	}
	return u.GetName()
}

// FuzzAgree feeds arbitrary lines to both readers and, when both load, the
// same requests.
func FuzzAgree(f *testing.F) {
	for _, l := range lines {
		f.Add(l, "alice", "get", "pods", "/version")
	}
	f.Fuzz(func(t *testing.T, line, name, verb, resource, path string) {
		up, upErr, ours, ourErr := loadBoth(t, line)
		if (upErr == nil) != (ourErr == nil) {
			t.Fatalf("line %q\n upstream error: %v\n kauth error:    %v", line, upErr, ourErr)
		}
		if upErr != nil {
			return
		}
		u := &user.DefaultInfo{Name: name, Groups: []string{"system:authenticated"}}
		for _, a := range []authorizer.AttributesRecord{
			{User: u, Verb: verb, Resource: resource, Namespace: "ns", ResourceRequest: true},
			{User: u, Verb: verb, Path: path},
		} {
			ud, _, _ := up.Authorize(context.Background(), a)
			od, _, _ := ours.Authorize(context.Background(), a)
			if ud != od {
				t.Fatalf("line %q, %+v: upstream %v, kauth %v", line, a, ud, od)
			}
		}
	})
}

func rulesText(res []authorizer.ResourceRuleInfo, nonRes []authorizer.NonResourceRuleInfo) []string {
	var out []string
	for _, r := range res {
		out = append(out, fmt.Sprintf("res %v %v %v %v", r.GetVerbs(), r.GetAPIGroups(), r.GetResources(), r.GetResourceNames()))
	}
	for _, r := range nonRes {
		out = append(out, fmt.Sprintf("nonres %v %v", r.GetVerbs(), r.GetNonResourceURLs()))
	}
	return out
}
