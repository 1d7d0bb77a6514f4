package rbaclint

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReadConfig(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadConfig(".kauth.yaml", data)
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	want := Config{
		Disable: []Suppression{{Rules: []string{RuleRoleNotBound}, Reason: "roles are bound by the platform repository", Source: ".kauth.yaml:4"}},
		AllowSubjects: []AllowSubject{{Kind: "Group", Name: "platform-admins", Suppression: Suppression{
			Rules: []string{RuleClusterAdminBinding}, Reason: "break-glass group", Expires: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), Source: ".kauth.yaml:7"}}},
		Ignore: []Ignore{{Kind: "Role", Namespace: "backup", Name: "backup-reader", Suppression: Suppression{
			Rules: []string{RuleSecretsReadNamespace}, Reason: "the backup job reads every secret", Source: ".kauth.yaml:13"}}},
		PrivilegedNamespaces:  []string{"kube-system", "ingress"},
		MaxBindingsPerSubject: 30,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReadConfig mismatch (-want +got):\n%s", d)
	}
}

func TestReadConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"unknown top-level field", "lint: {}\n", `c.yaml:1: top level: unknown field "lint"; expected rbac`},
		{"unknown lint field", "rbac:\n  lint:\n    disabled: []\n", `c.yaml:3: rbac.lint: unknown field "disabled"; expected allowSubjects, disable, ignore, maxBindingsPerSubject, privilegedNamespaces`},
		{"missing reason", "rbac:\n  lint:\n    disable:\n    - rule: pods-exec\n", `c.yaml:4: rbac.lint.disable[0].reason: required; say why this is acceptable`},
		{"unknown rule", "rbac:\n  lint:\n    disable:\n    - {rule: nope, reason: x}\n", `c.yaml:4: rbac.lint.disable[0]: unknown rule "nope"; run kauth rbac lint --list-rules for the IDs`},
		{"no rule", "rbac:\n  lint:\n    ignore:\n    - {name: x, reason: x}\n", `c.yaml:4: rbac.lint.ignore[0]: rule or rules is required`},
		{"bad date", "rbac:\n  lint:\n    disable:\n    - {rule: pods-exec, reason: x, expires: soon}\n", `c.yaml:4: rbac.lint.disable[0].expires: "soon" is not a date; expected YYYY-MM-DD or RFC 3339`},
		{"bad kind", "rbac:\n  lint:\n    allowSubjects:\n    - {kind: Robot, name: x, reason: x}\n", `c.yaml:4: rbac.lint.allowSubjects[0].kind: "Robot" must be User, Group or ServiceAccount`},
		{"not a list", "rbac:\n  lint:\n    disable: pods-exec\n", `c.yaml:3: rbac.lint.disable: expected a list`},
		{"bad threshold", "rbac:\n  lint:\n    maxBindingsPerSubject: many\n", `c.yaml:3: rbac.lint.maxBindingsPerSubject: expected a positive integer, got "many"`},
		{"duplicate field", "rbac:\n  lint:\n    disable: []\n    disable: []\n", `c.yaml:4: rbac.lint: field "disable" given twice`},
		{"syntax", "rbac: [\n", `c.yaml: line 1: did not find expected node content`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadConfig("c.yaml", []byte(tc.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("error = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseIgnore(t *testing.T) {
	t.Parallel()
	got, err := ParseIgnore("pods-exec, secrets-write: debugging namespace; expires 2026-12-31\nrole-not-bound: used by the operator\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []Suppression{
		{Rules: []string{RulePodsExec, RuleSecretsWrite}, Reason: "debugging namespace", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Rules: []string{RuleRoleNotBound}, Reason: "used by the operator"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseIgnore mismatch (-want +got):\n%s", d)
	}
	for _, bad := range []string{"pods-exec", "pods-exec:", "nope: x", "pods-exec: x; until tomorrow"} {
		if _, err := ParseIgnore(bad); err == nil {
			t.Errorf("ParseIgnore(%q) accepted", bad)
		}
	}
}

// FuzzReadConfig checks that the reader never panics, that every error
// names the file, and that what it accepts names only known rules and
// carries reasons.
func FuzzReadConfig(f *testing.F) {
	for _, name := range []string{"testdata/valid-config.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("rbac:\n  lint:\n    disable:\n    - {rule: pods-exec, reason: x, expires: 2026-01-01}\n"))
	f.Add([]byte("rbac: {lint: {allowSubjects: [{kind: User, name: a, reason: b}]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ReadConfig("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Errorf("error without file name: %v", err)
			}
			return
		}
		for _, list := range [][]Suppression{cfg.Disable, suppressionsOf(cfg)} {
			for _, s := range list {
				if strings.TrimSpace(s.Reason) == "" {
					t.Errorf("accepted a suppression without reason: %+v", s)
				}
				for _, id := range s.Rules {
					if _, ok := LookupRule(id); !ok {
						t.Errorf("accepted unknown rule %q", id)
					}
				}
			}
		}
	})
}

func suppressionsOf(c Config) []Suppression {
	var out []Suppression
	for _, a := range c.AllowSubjects {
		out = append(out, a.Suppression)
	}
	for _, i := range c.Ignore {
		out = append(out, i.Suppression)
	}
	return out
}
