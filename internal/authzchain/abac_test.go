package authzchain

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestABACDecisions(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/abac-policy.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	pl, err := ParseABAC("testdata/abac-policy.jsonl", data)
	if err != nil {
		t.Fatal(err)
	}
	authn := func(name string, groups ...string) user.Info {
		return &user.DefaultInfo{Name: name, Groups: append(groups, "system:authenticated")}
	}
	anon := &user.DefaultInfo{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}}
	res := func(u user.Info, verb, group, resource, ns string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: verb, APIGroup: group, Resource: resource, Namespace: ns, ResourceRequest: true}
	}
	path := func(u user.Info, verb, p string) authorizer.AttributesRecord {
		return authorizer.AttributesRecord{User: u, Verb: verb, Path: p}
	}
	tests := []struct {
		name string
		a    authorizer.AttributesRecord
		want int // line of the matching rule, 0 for no opinion
	}{
		{"alice anything", res(authn("alice"), "delete", "apps", "deployments", "x"), 2},
		{"bob reads pods in his namespace", res(authn("bob"), "list", "", "pods", "projectCaribou"), 3},
		{"bob cannot write", res(authn("bob"), "create", "", "pods", "projectCaribou"), 0},
		{"bob other namespace", res(authn("bob"), "get", "", "pods", "default"), 0},
		{"authenticated read non-resource", path(authn("zed"), "get", "/healthz"), 4},
		{"authenticated cannot post non-resource", path(authn("zed"), "post", "/healthz"), 0},
		{"anonymous version", path(anon, "get", "/version"), 5},
		{"anonymous other path", path(anon, "get", "/api"), 0},
		{"user and group both required", res(authn("carol"), "create", "apps", "deployments", "x"), 0},
		{"user and group", res(authn("carol", "ops"), "create", "apps", "deployments", "x"), 6},
		{"wrong api group", res(authn("carol", "ops"), "create", "extensions", "deployments", "x"), 0},
		{"prefix path", path(&user.DefaultInfo{Name: "dave"}, "post", "/logs/kubelet"), 7},
		{"prefix path without slash", path(&user.DefaultInfo{Name: "dave"}, "post", "/logs"), 0},
		{"v0 line reads everything for its user", res(authn("legacy"), "watch", "rbac.authorization.k8s.io", "roles", "any"), 9},
		{"v0 readonly", res(authn("legacy"), "update", "", "pods", "any"), 0},
		{"no user", res(nil, "get", "", "pods", "x"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, pl.Match(tc.a)); diff != "" {
				t.Errorf("Match() mismatch (-want +got):\n%s", diff)
			}
			d, reason, err := pl.Authorize(context.Background(), tc.a)
			want := authorizer.DecisionNoOpinion
			if tc.want != 0 {
				want = authorizer.DecisionAllow
			}
			if d != want || err != nil || (d == authorizer.DecisionNoOpinion && reason != "No policy matched.") {
				t.Errorf("Authorize() = %v, %q, %v; want %v", d, reason, err, want)
			}
		})
	}
}

func TestParseABAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    ABAC
		wantErr string
	}{
		{"v0 migration", `{"user":"*"}`, ABAC{{Line: 1, Unversioned: true, Spec: ABACSpec{Group: "system:authenticated", Namespace: "*", Resource: "*", APIGroup: "*", NonResourcePath: "*"}}}, ""},
		{"v1beta1 star user", "\n" + `{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"*","resource":"pods"}}`,
			ABAC{{Line: 2, Spec: ABACSpec{Group: "system:authenticated", Resource: "pods"}}}, ""},
		{"wrong kind", "# c\n" + `{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Role"}`, nil,
			`p:2: no kind "Role" is registered for version "abac.authorization.kubernetes.io/v1beta1": expected apiVersion abac.authorization.kubernetes.io/v1beta1, kind Policy`},
		{"wrong type", `{"readonly":"yes"}`, nil, "p:1: decoding policy: json: cannot unmarshal string into Go struct field abacV0Policy.readonly of type bool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseABAC("p", []byte(tc.data))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("ParseABAC() error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseABAC() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseABAC(f *testing.F) {
	data, err := os.ReadFile("testdata/abac-policy.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"user":"x"}` + "\nuser: y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pl, err := ParseABAC("fuzz", data)
		if err != nil {
			return
		}
		a := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "x"}, Verb: "get", Resource: "pods", ResourceRequest: true}
		_, _, _ = pl.Authorize(context.Background(), a)
		_, _, _, _ = pl.RulesFor(context.Background(), a.User, "")
	})
}
