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

// serviceAccount is a ServiceAccount; extra is more metadata or fields,
// one YAML line each at top level ("automountServiceAccountToken: false")
// or under metadata (lines starting with two spaces).
func serviceAccount(ns, name string, extra ...string) string {
	meta, top := "", ""
	for _, e := range extra {
		if strings.HasPrefix(e, "  ") {
			meta += e + "\n"
		} else {
			top += e + "\n"
		}
	}
	return fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n  namespace: %s\n%s%s", name, ns, meta, top)
}

// deployment runs as account (the default one when empty); spec adds
// lines to the pod spec, indented by six spaces.
func deployment(ns, name, account string, spec ...string) string {
	pod := "      containers: [{name: app, image: app}]\n"
	if account != "" {
		pod += "      serviceAccountName: " + account + "\n"
	}
	for _, s := range spec {
		pod += "      " + s + "\n"
	}
	return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  selector: {matchLabels: {app: %s}}\n  template:\n    metadata: {labels: {app: %s}}\n    spec:\n%s",
		name, ns, name, name, pod)
}
