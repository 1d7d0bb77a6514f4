package rbaclint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Config is the rbac.lint section of .kauth.yaml:
//
//	rbac:
//	  lint:
//	    disable:
//	    - rule: role-not-bound
//	      reason: roles are bound by the platform team's repository
//	    allowSubjects:
//	    - kind: Group
//	      name: platform-admins
//	      rules: [cluster-admin-binding]   # every rule when empty
//	      reason: break-glass group
//	      expires: 2027-01-31
//	    ignore:
//	    - rule: secrets-read-namespace
//	      kind: Role
//	      namespace: backup
//	      name: backup-reader
//	      reason: the backup job reads every secret
//	    privilegedNamespaces: [kube-system, ingress]
//	    maxBindingsPerSubject: 20
//
// Every suppression carries a reason and may carry an expiry date
// (YYYY-MM-DD, through the end of that day in UTC, or RFC 3339), after
// which it stops applying.
type Config struct {
	Disable               []Suppression  `json:"disable,omitempty"`
	AllowSubjects         []AllowSubject `json:"allowSubjects,omitempty"`
	Ignore                []Ignore       `json:"ignore,omitempty"`
	PrivilegedNamespaces  []string       `json:"privilegedNamespaces,omitempty"`
	MaxBindingsPerSubject int            `json:"maxBindingsPerSubject,omitempty"`
}

// Suppression silences rules for a reason, until an optional expiry.
type Suppression struct {
	Rules   []string  `json:"rules"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires,omitzero"`
	// Source is where the suppression was written (file:line).
	Source string `json:"source,omitempty"`
}

// active tells whether the suppression still applies at now.
func (s Suppression) active(now time.Time) bool {
	return s.Expires.IsZero() || now.Before(s.Expires)
}

func (s Suppression) covers(rule string) bool {
	return len(s.Rules) == 0 || slices.Contains(s.Rules, rule)
}

// AllowSubject lets one subject hold what the listed rules (all when
// empty) would report.
type AllowSubject struct {
	Suppression
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// Ignore silences rules for the objects it names (empty fields match
// any).
type Ignore struct {
	Suppression
	Kind      string `json:"kind,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// DefaultPrivilegedNamespaces are where a RoleBinding weighs as much as a
// ClusterRoleBinding: controllers' service accounts and the cluster's own
// configuration live there.
var DefaultPrivilegedNamespaces = []string{"kube-system"}

func (c Config) privilegedNamespaces() []string {
	if len(c.PrivilegedNamespaces) > 0 {
		return c.PrivilegedNamespaces
	}
	return DefaultPrivilegedNamespaces
}

func (c Config) maxBindingsPerSubject() int {
	if c.MaxBindingsPerSubject > 0 {
		return c.MaxBindingsPerSubject
	}
	return DefaultMaxBindingsPerSubject
}

// allows tells whether the configuration lets subject s hold what rule
// reports.
func (c Config) allows(s Subject, rule string, now time.Time) bool {
	for _, a := range c.AllowSubjects {
		if a.Kind == s.Kind && a.Name == s.Name && (a.Namespace == "" || a.Namespace == s.Namespace) && a.covers(rule) && a.active(now) {
			return true
		}
	}
	return false
}

// ReadConfig decodes a .kauth.yaml strictly: unknown fields, wrong types,
// unknown rule IDs, missing reasons and malformed dates are errors that
// start with "file:line: ".
func ReadConfig(file string, data []byte) (Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, nil
		}
		return Config{}, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	r := &reader{file: file}
	var cfg Config
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	r.mapping(doc, "", map[string]func(*yaml.Node){
		"rbac": func(n *yaml.Node) {
			r.mapping(n, "rbac", map[string]func(*yaml.Node){
				"lint": func(n *yaml.Node) { r.lint(n, &cfg) },
			})
		},
	})
	return cfg, r.err
}

// reader walks the YAML tree, keeping the first error.
type reader struct {
	file string
	err  error
}

func (r *reader) fail(n *yaml.Node, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s:%d: %s", r.file, n.Line, fmt.Sprintf(format, args...))
	}
}

func (r *reader) mapping(n *yaml.Node, path string, fields map[string]func(*yaml.Node)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.fail(n, "%s: expected a mapping", orTop(path))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field, ok := fields[k.Value]
		switch {
		case !ok:
			names := make([]string, 0, len(fields))
			for f := range fields {
				names = append(names, f)
			}
			slices.Sort(names)
			r.fail(k, "%s: unknown field %q; expected %s", orTop(path), k.Value, strings.Join(names, ", "))
		case seen[k.Value]:
			r.fail(k, "%s: field %q given twice", orTop(path), k.Value)
		default:
			seen[k.Value] = true
			field(v)
		}
	}
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

func (r *reader) str(n *yaml.Node, path string, p *string) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!map" {
		r.fail(n, "%s: expected a string", path)
		return
	}
	*p = n.Value
}

func (r *reader) strings(n *yaml.Node, path string, p *[]string) {
	if n.Kind != yaml.SequenceNode {
		r.fail(n, "%s: expected a list of strings", path)
		return
	}
	for i, item := range n.Content {
		var s string
		r.str(item, fmt.Sprintf("%s[%d]", path, i), &s)
		*p = append(*p, s)
	}
}

func (r *reader) list(n *yaml.Node, path string, each func(*yaml.Node, string)) {
	if n.Kind != yaml.SequenceNode {
		r.fail(n, "%s: expected a list", path)
		return
	}
	for i, item := range n.Content {
		each(item, fmt.Sprintf("%s[%d]", path, i))
	}
}

func (r *reader) lint(n *yaml.Node, cfg *Config) {
	const p = "rbac.lint"
	r.mapping(n, p, map[string]func(*yaml.Node){
		"disable": func(n *yaml.Node) {
			r.list(n, p+".disable", func(n *yaml.Node, path string) {
				var s Suppression
				r.suppression(n, path, &s, true, nil)
				cfg.Disable = append(cfg.Disable, s)
			})
		},
		"allowSubjects": func(n *yaml.Node) {
			r.list(n, p+".allowSubjects", func(n *yaml.Node, path string) {
				var a AllowSubject
				r.suppression(n, path, &a.Suppression, false, map[string]func(*yaml.Node){
					"kind": func(v *yaml.Node) { r.str(v, path+".kind", &a.Kind) }, "name": func(v *yaml.Node) { r.str(v, path+".name", &a.Name) },
					"namespace": func(v *yaml.Node) { r.str(v, path+".namespace", &a.Namespace) },
				})
				switch {
				case a.Kind != rbacv1.UserKind && a.Kind != rbacv1.GroupKind && a.Kind != rbacv1.ServiceAccountKind:
					r.fail(n, "%s.kind: %q must be User, Group or ServiceAccount", path, a.Kind)
				case a.Name == "":
					r.fail(n, "%s.name: required", path)
				}
				cfg.AllowSubjects = append(cfg.AllowSubjects, a)
			})
		},
		"ignore": func(n *yaml.Node) {
			r.list(n, p+".ignore", func(n *yaml.Node, path string) {
				var ig Ignore
				r.suppression(n, path, &ig.Suppression, true, map[string]func(*yaml.Node){
					"kind": func(v *yaml.Node) { r.str(v, path+".kind", &ig.Kind) }, "name": func(v *yaml.Node) { r.str(v, path+".name", &ig.Name) },
					"namespace": func(v *yaml.Node) { r.str(v, path+".namespace", &ig.Namespace) },
				})
				cfg.Ignore = append(cfg.Ignore, ig)
			})
		},
		"privilegedNamespaces": func(n *yaml.Node) { r.strings(n, p+".privilegedNamespaces", &cfg.PrivilegedNamespaces) },
		"maxBindingsPerSubject": func(n *yaml.Node) {
			if err := n.Decode(&cfg.MaxBindingsPerSubject); err != nil || cfg.MaxBindingsPerSubject < 1 {
				r.fail(n, "%s.maxBindingsPerSubject: expected a positive integer, got %q", p, n.Value)
			}
		},
	})
}

// suppression reads rule/rules, reason and expires plus extra fields.
// needRule says whether naming no rule is an error.
func (r *reader) suppression(n *yaml.Node, path string, s *Suppression, needRule bool, extra map[string]func(*yaml.Node)) {
	fields := map[string]func(*yaml.Node){
		"rule":    func(v *yaml.Node) { var id string; r.str(v, path+".rule", &id); s.Rules = append(s.Rules, id) },
		"rules":   func(v *yaml.Node) { r.strings(v, path+".rules", &s.Rules) },
		"reason":  func(v *yaml.Node) { r.str(v, path+".reason", &s.Reason) },
		"expires": func(v *yaml.Node) { r.expires(v, path+".expires", &s.Expires) },
	}
	for k, f := range extra {
		fields[k] = f
	}
	r.mapping(n, path, fields)
	s.Source = fmt.Sprintf("%s:%d", r.file, n.Line)
	if r.err != nil {
		return
	}
	for _, id := range s.Rules {
		if _, ok := LookupRule(id); !ok {
			r.fail(n, "%s: unknown rule %q; run kauth rbac lint --list-rules for the IDs", path, id)
			return
		}
	}
	switch {
	case needRule && len(s.Rules) == 0:
		r.fail(n, "%s: rule or rules is required", path)
	case strings.TrimSpace(s.Reason) == "":
		r.fail(n, "%s.reason: required; say why this is acceptable", path)
	}
}

func (r *reader) expires(n *yaml.Node, path string, t *time.Time) {
	v, err := ParseExpiry(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		r.fail(n, "%s: %q is not a date; expected YYYY-MM-DD or RFC 3339", path, n.Value)
		return
	}
	*t = v
}

// ParseExpiry reads YYYY-MM-DD (the suppression holds through that day,
// UTC) or an RFC 3339 time.
func ParseExpiry(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	return time.Parse(time.RFC3339, s)
}
