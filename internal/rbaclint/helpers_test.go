package rbaclint

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kauth/kauth/internal/loader"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const head = "apiVersion: rbac.authorization.k8s.io/v1\n"

func cr(name, rules string) string {
	return fmt.Sprintf("%skind: ClusterRole\nmetadata: {name: %s}\nrules: [%s]\n", head, name, rules)
}

func role(ns, name, rules string) string {
	return fmt.Sprintf("%skind: Role\nmetadata: {name: %s, namespace: %s}\nrules: [%s]\n", head, name, ns, rules)
}

func crb(name, roleName string, subjects ...string) string {
	return fmt.Sprintf("%skind: ClusterRoleBinding\nmetadata: {name: %s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %s}\nsubjects: [%s]\n",
		head, name, roleName, strings.Join(subjects, ", "))
}

func rb(ns, name, kind, roleName string, subjects ...string) string {
	return fmt.Sprintf("%skind: RoleBinding\nmetadata: {name: %s, namespace: %s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}\nsubjects: [%s]\n",
		head, name, ns, kind, roleName, strings.Join(subjects, ", "))
}

func userS(name string) string  { return fmt.Sprintf("{kind: User, name: %q}", name) }
func groupS(name string) string { return fmt.Sprintf("{kind: Group, name: %q}", name) }
func sa(ns, name string) string {
	if ns == "" {
		return fmt.Sprintf("{kind: ServiceAccount, name: %s}", name)
	}
	return fmt.Sprintf("{kind: ServiceAccount, name: %s, namespace: %s}", name, ns)
}

func rule(verbs, groups, resources string) string {
	return fmt.Sprintf("{verbs: [%s], apiGroups: [%s], resources: [%s]}", verbs, groups, resources)
}

// bound is a ClusterRole "r" with rules, bound cluster-wide to alice.
func bound(rules string) []string {
	return []string{cr("r", rules), crb("b", "r", userS("alice"))}
}

// boundIn is a ClusterRole "r" with rules, bound to alice in ns.
func boundIn(ns, rules string) []string {
	return []string{cr("r", rules), rb(ns, "b", "ClusterRole", "r", userS("alice"))}
}

func objects(t testing.TB, docs []string) []loader.Object {
	t.Helper()
	objs, err := loader.Decode("test.yaml", []byte(strings.Join(docs, "---\n")))
	if err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	return objs
}

func lint(t testing.TB, docs []string, bootstrap bool, cfg Config) *Result {
	t.Helper()
	res, err := Lint(Input{Objects: objects(t, docs), Bootstrap: bootstrap, Config: cfg, Now: testNow})
	if err != nil {
		t.Fatalf("Lint: %v", err)
	}
	return res
}

func find(res *Result, rule string) *Finding {
	for i := range res.Findings {
		if res.Findings[i].Rule == rule {
			return &res.Findings[i]
		}
	}
	return nil
}
