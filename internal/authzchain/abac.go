package authzchain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	abacGroup         = "abac.authorization.kubernetes.io"
	abacV1beta1       = abacGroup + "/v1beta1"
	abacV0            = abacGroup + "/v0"
	allAuthenticated  = "system:authenticated"
	abacNoPolicyMatch = "No policy matched."
)

// ABACSpec is one ABAC rule after conversion to kube-apiserver's internal
// form: what the authorizer compares.
type ABACSpec struct {
	User            string `json:"user,omitempty"`
	Group           string `json:"group,omitempty"`
	Readonly        bool   `json:"readonly,omitempty"`
	APIGroup        string `json:"apiGroup,omitempty"`
	Resource        string `json:"resource,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	NonResourcePath string `json:"nonResourcePath,omitempty"`
}

// ABACPolicy is a rule and the line it came from.
type ABACPolicy struct {
	Line int      `json:"line"`
	Spec ABACSpec `json:"spec"`
	// Unversioned is true for a v0 line (no apiVersion or kind), which
	// kube-apiserver migrates with different defaults.
	Unversioned bool `json:"unversioned,omitempty"`
}

// ABAC is a policy file: kube-apiserver allows a request when any rule
// matches it, and has no opinion otherwise.
type ABAC []ABACPolicy

var (
	_ authorizer.Authorizer   = ABAC(nil)
	_ authorizer.RuleResolver = ABAC(nil)
)

// LoadABAC reads --authorization-policy-file.
func LoadABAC(path string) (ABAC, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseABAC(path, data)
}

// ParseABAC reads a policy file as kube-apiserver does: one object per
// line (a line longer than 64 KiB is an error), blank lines and lines
// starting with # skipped, versioned lines
// (abac.authorization.kubernetes.io/v1beta1, kind Policy) and unversioned
// v0 lines, which are migrated.
func ParseABAC(name string, data []byte) (ABAC, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	var pl ABAC
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		trimmed := strings.TrimSpace(string(b))
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		p, err := decodeABACLine(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		p.Line = line
		pl = append(pl, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return pl, nil
}

type abacV1beta1Policy struct {
	Spec struct {
		User            string `json:"user,omitempty"`
		Group           string `json:"group,omitempty"`
		Readonly        bool   `json:"readonly,omitempty"`
		APIGroup        string `json:"apiGroup,omitempty"`
		Resource        string `json:"resource,omitempty"`
		Namespace       string `json:"namespace,omitempty"`
		NonResourcePath string `json:"nonResourcePath,omitempty"`
	} `json:"spec"`
}

type abacV0Policy struct {
	User      string `json:"user,omitempty"`
	Group     string `json:"group,omitempty"`
	Readonly  bool   `json:"readonly,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// decodeABACLine follows apimachinery's universal decoder: JSON when the
// line starts with "{", YAML otherwise; apiVersion and kind located
// case-insensitively, fields matched case-sensitively, unknown fields
// ignored.
func decodeABACLine(b []byte) (ABACPolicy, error) {
	js := b
	if !isJSONObject(b) {
		var err error
		if js, err = yaml.YAMLToJSON(b); err != nil {
			return ABACPolicy{}, fmt.Errorf("not JSON or YAML: %w", err)
		}
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &tm); err != nil {
		return ABACPolicy{}, fmt.Errorf("expected one JSON object (a Policy) per line: %w", err)
	}
	switch {
	case tm.APIVersion == abacV1beta1 && tm.Kind == "Policy":
		var v abacV1beta1Policy
		if err := strictTypes(js, &v); err != nil {
			return ABACPolicy{}, err
		}
		spec := ABACSpec(v.Spec)
		if spec.User == "*" || spec.Group == "*" {
			spec.Group, spec.User = allAuthenticated, ""
		}
		return ABACPolicy{Spec: spec}, nil
	case (tm.APIVersion == "" || tm.APIVersion == abacV0) && (tm.Kind == "" || tm.Kind == "Policy"):
		var v abacV0Policy
		if err := strictTypes(js, &v); err != nil {
			return ABACPolicy{}, err
		}
		return ABACPolicy{Spec: convertV0(v), Unversioned: tm.APIVersion == "" || tm.Kind == ""}, nil
	case tm.Kind == "":
		return ABACPolicy{}, fmt.Errorf("apiVersion %q without kind: expected kind Policy", tm.APIVersion)
	default:
		return ABACPolicy{}, fmt.Errorf("no kind %q is registered for version %q: expected apiVersion %s, kind Policy", tm.Kind, tm.APIVersion, abacV1beta1)
	}
}

func isJSONObject(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// strictTypes decodes with case-sensitive field names; wrong types are
// errors, unknown fields are not.
func strictTypes(js []byte, v any) error {
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(js, v); err != nil {
		return fmt.Errorf("decoding policy: %w", err)
	}
	return nil
}

// convertV0 is kube-apiserver's v0 migration: no subject or "*" means
// every authenticated user, an empty namespace or resource means all, any
// API group, and neither namespace nor resource also opens every
// non-resource path.
func convertV0(in abacV0Policy) ABACSpec {
	out := ABACSpec{User: in.User, Group: in.Group, Namespace: in.Namespace, Resource: in.Resource, Readonly: in.Readonly}
	if in.User == "" && in.Group == "" {
		out.Group = allAuthenticated
	}
	if in.User == "*" || in.Group == "*" {
		out.Group, out.User = allAuthenticated, ""
	}
	if in.Namespace == "" {
		out.Namespace = "*"
	}
	if in.Resource == "" {
		out.Resource = "*"
	}
	out.APIGroup = "*"
	if in.Namespace == "" && in.Resource == "" {
		out.NonResourcePath = "*"
	}
	return out
}

// Authorize allows a request that a rule matches.
func (pl ABAC) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	for i := range pl {
		if pl[i].Spec.matches(a) {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionNoOpinion, abacNoPolicyMatch, nil
}

// Match returns the line of the first rule that allows a, or 0.
func (pl ABAC) Match(a authorizer.Attributes) int {
	for i := range pl {
		if pl[i].Spec.matches(a) {
			return pl[i].Line
		}
	}
	return 0
}

func (s *ABACSpec) matches(a authorizer.Attributes) bool {
	if !s.subjectMatches(a.GetUser()) || !s.verbMatches(a) {
		return false
	}
	return s.resourceMatches(a) || s.nonResourceMatches(a)
}

// subjectMatches: a rule with neither user nor group matches nobody.
func (s *ABACSpec) subjectMatches(u user.Info) bool {
	if u == nil {
		return false
	}
	matched := false
	if s.User != "" {
		if s.User != "*" && s.User != u.GetName() {
			return false
		}
		matched = true
	}
	if s.Group != "" {
		if s.Group == "*" {
			return true
		}
		for _, g := range u.GetGroups() {
			if g == s.Group {
				return true
			}
		}
		return false
	}
	return matched
}

// verbMatches: every rule allows read-only verbs; readonly rules allow
// nothing else.
func (s *ABACSpec) verbMatches(a authorizer.Attributes) bool {
	return a.IsReadOnly() || !s.Readonly
}

func (s *ABACSpec) resourceMatches(a authorizer.Attributes) bool {
	return a.IsResourceRequest() &&
		(s.Namespace == "*" || s.Namespace == a.GetNamespace()) &&
		(s.Resource == "*" || s.Resource == a.GetResource()) &&
		(s.APIGroup == "*" || s.APIGroup == a.GetAPIGroup())
}

func (s *ABACSpec) nonResourceMatches(a authorizer.Attributes) bool {
	if a.IsResourceRequest() {
		return false
	}
	p := s.NonResourcePath
	if p == "*" || p == a.GetPath() {
		return true
	}
	return strings.HasSuffix(p, "*") && strings.HasPrefix(a.GetPath(), strings.TrimRight(p, "*"))
}

// RulesFor lists the rules that apply to u in namespace, as
// kube-apiserver's ABAC rule resolver does.
func (pl ABAC) RulesFor(_ context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	var res []authorizer.ResourceRuleInfo
	var nonRes []authorizer.NonResourceRuleInfo
	for i := range pl {
		s := &pl[i].Spec
		if !s.subjectMatches(u) || (s.Namespace != "*" && s.Namespace != namespace) {
			continue
		}
		verbs := []string{"*"}
		if s.Readonly {
			verbs = []string{"get", "list", "watch"}
		}
		if s.Resource != "" {
			res = append(res, &authorizer.DefaultResourceRuleInfo{Verbs: verbs, APIGroups: []string{s.APIGroup}, Resources: []string{s.Resource}})
		}
		if s.NonResourcePath != "" {
			nonRes = append(nonRes, &authorizer.DefaultNonResourceRuleInfo{Verbs: verbs, NonResourceURLs: []string{s.NonResourcePath}})
		}
	}
	return res, nonRes, false, nil
}

// ConditionsAwareAuthorize: ABAC has no conditions.
func (pl ABAC) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(pl.Authorize(ctx, a))
}

// EvaluateConditions fails closed: ABAC never returns conditions.
func (ABAC) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}
