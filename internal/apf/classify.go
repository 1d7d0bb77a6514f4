package apf

import (
	"fmt"
	"strings"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// Request describes one request as the APF filter sees it: who asks and
// what, in SubjectAccessReview terms.
type Request struct {
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"`
	Verb   string   `json:"verb"`
	// Resource requests.
	APIGroup    string `json:"apiGroup,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	// NonResourceURL is set for non-resource requests (a path).
	NonResourceURL string `json:"nonResourceURL,omitempty"`
}

// IsResource reports whether r is a resource request.
func (r Request) IsResource() bool { return r.NonResourceURL == "" }

// Skipped is a FlowSchema tried before the match and why it did not match.
type Skipped struct {
	FlowSchema         string `json:"flowSchema"`
	MatchingPrecedence int32  `json:"matchingPrecedence"`
	Reason             string `json:"reason"`
}

// Classification is where a request goes.
type Classification struct {
	FlowSchema         string    `json:"flowSchema"`
	MatchingPrecedence int32     `json:"matchingPrecedence"`
	PriorityLevel      string    `json:"priorityLevel"`
	FlowDistinguisher  string    `json:"flowDistinguisher"`
	DistinguisherType  string    `json:"distinguisherMethod,omitempty"`
	Exempt             bool      `json:"exempt"`
	Queuing            bool      `json:"queuing"`
	Skipped            []Skipped `json:"skipped,omitempty"`
	// FallbackToCatchAll is set when no schema matched and the controller
	// would fall back to catch-all.
	FallbackToCatchAll bool `json:"fallbackToCatchAll,omitempty"`
}

// Classifier matches requests against a configuration in the
// controller's order.
type Classifier struct {
	cfg     *Config
	schemas []*flowcontrolv1.FlowSchema
	levels  map[string]*flowcontrolv1.PriorityLevelConfiguration
}

// NewClassifier prepares cfg for matching. Schemas whose priority level
// does not exist are dropped, as the controller ignores dangling schemas.
func NewClassifier(cfg *Config) *Classifier {
	c := &Classifier{cfg: cfg, levels: map[string]*flowcontrolv1.PriorityLevelConfiguration{}}
	for _, pl := range cfg.PriorityLevels {
		c.levels[pl.Name] = pl
	}
	for _, fs := range cfg.FlowSchemas {
		if c.levels[fs.Spec.PriorityLevelConfiguration.Name] != nil {
			c.schemas = append(c.schemas, fs)
		}
	}
	return c
}

// Classify returns the matching schema. With explain, every schema tried
// before it is listed with the reason it did not match. ok is false when
// no schema matches (the API server would then fall back to catch-all).
func (c *Classifier) Classify(r Request, explain bool) (Classification, bool) {
	var out Classification
	var catchAll *flowcontrolv1.FlowSchema
	for _, fs := range c.schemas {
		reason := matchSchema(r, fs)
		if reason == "" {
			return c.finish(out, r, fs), true
		}
		if fs.Name == flowcontrolv1.FlowSchemaNameCatchAll {
			catchAll = fs
		}
		if explain {
			out.Skipped = append(out.Skipped, Skipped{FlowSchema: fs.Name, MatchingPrecedence: fs.Spec.MatchingPrecedence, Reason: reason})
		}
	}
	if catchAll == nil {
		return out, false
	}
	out = c.finish(out, r, catchAll)
	out.FallbackToCatchAll = true
	return out, false
}

func (c *Classifier) finish(out Classification, r Request, fs *flowcontrolv1.FlowSchema) Classification {
	pl := c.levels[fs.Spec.PriorityLevelConfiguration.Name]
	out.FlowSchema, out.MatchingPrecedence, out.PriorityLevel = fs.Name, fs.Spec.MatchingPrecedence, pl.Name
	if dm := fs.Spec.DistinguisherMethod; dm != nil {
		out.DistinguisherType = string(dm.Type)
	}
	out.Exempt = pl.Spec.Type == flowcontrolv1.PriorityLevelEnablementExempt
	var queues int32
	if !out.Exempt && pl.Spec.Limited != nil && pl.Spec.Limited.LimitResponse.Queuing != nil {
		queues = pl.Spec.Limited.LimitResponse.Queuing.Queues
	}
	out.Queuing = queues > 0
	// The controller computes a distinguisher only when the level has
	// more than one queue; otherwise every flow shares the one queue.
	if queues > 1 {
		out.FlowDistinguisher = distinguisher(r, fs.Spec.DistinguisherMethod)
	}
	return out
}

func distinguisher(r Request, m *flowcontrolv1.FlowDistinguisherMethod) string {
	if m == nil {
		return ""
	}
	switch m.Type {
	case flowcontrolv1.FlowDistinguisherMethodByUserType:
		return r.User
	case flowcontrolv1.FlowDistinguisherMethodByNamespaceType:
		return r.Namespace
	}
	return ""
}

// matchSchema returns "" when a rule of fs matches r, else why not.
func matchSchema(r Request, fs *flowcontrolv1.FlowSchema) string {
	if len(fs.Spec.Rules) == 0 {
		return "has no rules"
	}
	subjectOK := false
	for i := range fs.Spec.Rules {
		rule := &fs.Spec.Rules[i]
		if !matchesASubject(r, rule.Subjects) {
			continue
		}
		subjectOK = true
		if r.IsResource() && matchesResourceRules(r, rule.ResourceRules) {
			return ""
		}
		if !r.IsResource() && matchesNonResourceRules(r, rule.NonResourceRules) {
			return ""
		}
	}
	if !subjectOK {
		return fmt.Sprintf("no subject matches user %q or groups [%s]", r.User, strings.Join(r.Groups, " "))
	}
	if r.IsResource() {
		return "subjects match but no resource rule matches " + describe(r)
	}
	return "subjects match but no non-resource rule matches " + describe(r)
}

func describe(r Request) string {
	if !r.IsResource() {
		return r.Verb + " " + r.NonResourceURL
	}
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	if r.APIGroup != "" {
		res += "." + r.APIGroup
	}
	if r.Namespace == "" {
		return r.Verb + " " + res + " (cluster-scoped)"
	}
	return r.Verb + " " + res + " in namespace " + r.Namespace
}

func matchesASubject(r Request, subjects []flowcontrolv1.Subject) bool {
	for _, s := range subjects {
		if matchesSubject(r, s) {
			return true
		}
	}
	return false
}

func matchesSubject(r Request, s flowcontrolv1.Subject) bool {
	switch s.Kind {
	case flowcontrolv1.SubjectKindUser:
		return s.User != nil && (s.User.Name == flowcontrolv1.NameAll || s.User.Name == r.User)
	case flowcontrolv1.SubjectKindGroup:
		if s.Group == nil {
			return false
		}
		if s.Group.Name == "*" {
			return true
		}
		for _, g := range r.Groups {
			if g == s.Group.Name {
				return true
			}
		}
		return false
	case flowcontrolv1.SubjectKindServiceAccount:
		if s.ServiceAccount == nil {
			return false
		}
		if s.ServiceAccount.Name == flowcontrolv1.NameAll {
			return saInNamespace(s.ServiceAccount.Namespace, r.User)
		}
		return serviceaccount.MatchesUsername(s.ServiceAccount.Namespace, s.ServiceAccount.Name, r.User)
	}
	return false
}

// saInNamespace mirrors upstream's prefix test: the user name starts
// with "system:serviceaccount:" + namespace + ":".
func saInNamespace(ns, user string) bool {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, ns)
	return ok && strings.HasPrefix(rest, ":")
}

func matchesResourceRules(r Request, rules []flowcontrolv1.ResourcePolicyRule) bool {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	for _, rr := range rules {
		if !contains(r.Verb, rr.Verbs, flowcontrolv1.VerbAll) ||
			!contains(res, rr.Resources, flowcontrolv1.ResourceAll) ||
			!contains(r.APIGroup, rr.APIGroups, flowcontrolv1.APIGroupAll) {
			continue
		}
		if r.Namespace == "" {
			if rr.ClusterScope {
				return true
			}
			continue
		}
		if contains(r.Namespace, rr.Namespaces, flowcontrolv1.NamespaceEvery) {
			return true
		}
	}
	return false
}

func matchesNonResourceRules(r Request, rules []flowcontrolv1.NonResourcePolicyRule) bool {
	for _, rr := range rules {
		if !contains(r.Verb, rr.Verbs, flowcontrolv1.VerbAll) {
			continue
		}
		for _, p := range rr.NonResourceURLs {
			if p == flowcontrolv1.NonResourceAll || p == r.NonResourceURL {
				return true
			}
			prefix := strings.TrimSuffix(p, "*")
			if !strings.HasSuffix(prefix, "/") {
				prefix += "/"
			}
			if strings.HasPrefix(r.NonResourceURL, prefix) {
				return true
			}
		}
	}
	return false
}

// contains is upstream's containsString: the wildcard counts only when
// it is the list's single member.
func contains(x string, list []string, wildcard string) bool {
	if len(list) == 1 && list[0] == wildcard {
		return true
	}
	for _, y := range list {
		if x == y {
			return true
		}
	}
	return false
}

// ImpersonatedGroups returns the groups kube-apiserver gives a user
// impersonated with --as: a service account's fixed groups when no group
// is given, then system:authenticated (system:unauthenticated for
// system:anonymous), as the impersonation filter does.
func ImpersonatedGroups(user string, groups []string) []string {
	out := append([]string{}, groups...)
	if ns, _, err := serviceaccount.SplitUsername(user); err == nil && len(groups) == 0 {
		out = append(out, serviceaccount.MakeGroupNames(ns)...)
	}
	implied := "system:authenticated"
	if user == "system:anonymous" {
		implied = "system:unauthenticated"
	}
	for _, g := range out {
		if g == implied {
			return out
		}
	}
	return append(out, implied)
}
