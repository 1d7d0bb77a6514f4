package rbaclint

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func cmpDiff(want, got any) string { return cmp.Diff(want, got) }

func TestSuppressions(t *testing.T) {
	t.Parallel()
	secrets := bound(rule("list", `""`, "secrets"))
	annotated := func(value string) []string {
		return []string{
			head + "kind: ClusterRole\nmetadata:\n  name: r\n  annotations:\n    kauth.io/lint-ignore: '" + value + "'\nrules: [{verbs: [list], apiGroups: [''], resources: [secrets]}]\n",
			crb("b", "r", userS("alice")),
		}
	}
	expired := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	future := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		docs       []string
		cfg        Config
		fires      bool
		suppressed int
	}{
		{"nothing", secrets, Config{}, true, 0},
		{"disabled", secrets, Config{Disable: []Suppression{{Rules: []string{RuleSecretsReadCluster}, Reason: "r"}}}, false, 1},
		{"disable expired", secrets, Config{Disable: []Suppression{{Rules: []string{RuleSecretsReadCluster}, Reason: "r", Expires: expired}}}, true, 0},
		{"subject allowed", secrets, Config{AllowSubjects: []AllowSubject{{Kind: "User", Name: "alice", Suppression: Suppression{Reason: "r", Expires: future}}}}, false, 1},
		{"other subject allowed", secrets, Config{AllowSubjects: []AllowSubject{{Kind: "User", Name: "bob", Suppression: Suppression{Reason: "r"}}}}, true, 0},
		{"subject allowed for another rule", secrets, Config{AllowSubjects: []AllowSubject{{Kind: "User", Name: "alice", Suppression: Suppression{Rules: []string{RulePodsExec}, Reason: "r"}}}}, true, 0},
		{"object ignored", secrets, Config{Ignore: []Ignore{{Kind: "ClusterRole", Name: "r", Suppression: Suppression{Rules: []string{RuleSecretsReadCluster}, Reason: "r"}}}}, false, 1},
		{"annotation", annotated("secrets-read-cluster: the auditor needs it"), Config{}, false, 1},
		{"annotation expired", annotated("secrets-read-cluster: the auditor needs it; expires 2026-05-31"), Config{}, true, 0},
		{"annotation expires later", annotated("secrets-read-cluster,pods-exec: the auditor needs it; expires 2026-06-01"), Config{}, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := lint(t, tc.docs, false, tc.cfg)
			if got := find(res, RuleSecretsReadCluster) != nil; got != tc.fires {
				t.Errorf("fires = %v, want %v: %v", got, tc.fires, res.Findings)
			}
			if res.Suppressed != tc.suppressed {
				t.Errorf("suppressed = %d, want %d", res.Suppressed, tc.suppressed)
			}
		})
	}
}

func TestBindingAnnotationSilencesItsHolders(t *testing.T) {
	t.Parallel()
	docs := []string{
		cr("r", rule("list", `""`, "secrets")),
		head + "kind: ClusterRoleBinding\nmetadata:\n  name: b\n  annotations: {kauth.io/lint-ignore: 'secrets-read-cluster: audited'}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: alice}]\n",
		crb("c", "r", userS("bob")),
	}
	f := find(lint(t, docs, false, Config{}), RuleSecretsReadCluster)
	if f == nil {
		t.Fatal("no finding for bob")
	}
	if d := cmp.Diff([]Subject{{Kind: "User", Name: "bob"}}, f.Subjects); d != "" {
		t.Errorf("subjects mismatch (-want +got):\n%s", d)
	}
}
