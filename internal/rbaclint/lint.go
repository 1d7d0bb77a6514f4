package rbaclint

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/bootstrappolicy"
)

// Input is what Lint reads.
type Input struct {
	// Objects are the user's manifests, as the loader returns them.
	Objects []loader.Object
	// Bootstrap adds the default roles and bindings of Kubernetes v1.37 so
	// references to them resolve; findings never point into them.
	Bootstrap bool
	Config    Config
	// Now decides which suppressions have expired.
	Now time.Time
}

// Subject is a user, group or service account holding a risky rule.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// String renders the subject as Kind "name" or ServiceAccount "ns/name".
func (s Subject) String() string {
	if s.Namespace != "" {
		return fmt.Sprintf("%s %q", s.Kind, s.Namespace+"/"+s.Name)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

// Finding is one problem.
type Finding struct {
	Rule      string           `json:"rule"`
	Severity  Severity         `json:"severity"`
	Message   string           `json:"message"`
	File      string           `json:"file"`
	Line      int              `json:"line"`
	Kind      string           `json:"kind"`
	Name      string           `json:"name"`
	Namespace string           `json:"namespace"`
	Subjects  []Subject        `json:"subjects"`
	Bindings  []rbac.ObjectKey `json:"bindings,omitempty"`
	Hint      string           `json:"hint"`
}

// Result is every finding, sorted by file, line, rule and message.
type Result struct {
	Findings []Finding `json:"findings"`
	// Suppressed counts findings silenced by configuration or annotations.
	Suppressed int `json:"suppressed"`
	// Objects counts the RBAC objects read (bootstrap policy included).
	Objects int `json:"objects"`
}

// Count returns how many findings have at least severity s.
func (r *Result) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity.Rank() >= s.Rank() {
			n++
		}
	}
	return n
}

// InputError is a problem with the manifests themselves (invalid RBAC
// objects, duplicates), as opposed to findings.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Lint checks the policy in in.
func Lint(in Input) (*Result, error) {
	objs, early := upgradeRemoved(in.Objects)
	objs, dropped := dropNamespacelessSubjects(objs)
	early = append(early, dropped...)
	marks, bad := readAnnotations(objs)
	early = append(early, bad...)
	accounts, workloads := readWorkloads(objs)
	if in.Bootstrap {
		base, err := bootstrapObjects()
		if err != nil {
			return nil, err
		}
		objs = rbac.Layer(base, objs)
	}
	p, _, err := rbac.FromObjects(objs)
	if err != nil {
		return nil, &InputError{err}
	}
	rbac.Aggregate(p)
	l := newLinter(p, in.Config, marks, in.Now)
	l.accounts, l.workloads = accounts, workloads
	findings := append(early, l.run()...)
	res := &Result{Objects: p.Len()}
	res.Findings = l.suppress(findings)
	res.Suppressed = l.suppressed
	sortFindings(res.Findings)
	return res, nil
}

func bootstrapObjects() ([]loader.Object, error) {
	objs, err := bootstrappolicy.Objects()
	if err != nil {
		return nil, fmt.Errorf("reading the bootstrap policy: %w", err)
	}
	out := make([]loader.Object, len(objs))
	for i, o := range objs {
		out[i] = loader.Object{Object: o, Source: loader.Source{File: rbac.BootstrapSource}}
	}
	return out, nil
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
}

// linter holds what every check reads.
type linter struct {
	p       *rbac.Policy
	idx     *rbac.Index
	cfg     Config
	marks   map[rbac.ObjectKey][]Suppression
	now     time.Time
	risks   []Risk
	hits    map[ruleKey][]int
	ruleIdx *ruleIndex
	holding []holding
	// rules are the rules of every role, aggregated.
	rules map[rbac.ObjectKey][]rbacv1.PolicyRule
	// heldRoles are the roles some binding applies to someone.
	heldRoles map[rbac.ObjectKey]bool
	// aggregated are the ClusterRoles an aggregationRule selects.
	aggregated map[rbac.ObjectKey]bool
	// accounts and workloads are the ServiceAccounts and pod-running
	// objects of the inputs.
	accounts  []account
	workloads []workload
	// bySubject indexes holding by subject; accountMemo and actorMemo
	// remember what accounts hold and who can act in a namespace.
	bySubject   map[Subject][]holding
	accountMemo map[Subject][]heldRisk
	actorMemo   map[actorKey]actorSet
	ownMemo     map[Subject]map[string]map[string]bool
	suppressed  int
}

func newLinter(p *rbac.Policy, cfg Config, marks map[rbac.ObjectKey][]Suppression, now time.Time) *linter {
	l := &linter{p: p, idx: rbac.NewIndex(p), cfg: cfg, marks: marks, now: now, risks: append(Risks(), lintRisks()...), rules: map[rbac.ObjectKey][]rbacv1.PolicyRule{},
		accountMemo: map[Subject][]heldRisk{}, actorMemo: map[actorKey]actorSet{}, ownMemo: map[Subject]map[string]map[string]bool{}}
	for _, cr := range p.ClusterRoles {
		l.rules[rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: cr.Name}] = cr.Rules
	}
	for _, r := range p.Roles {
		l.rules[rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}] = r.Rules
	}
	l.ruleIdx, l.hits = classify(p, l.risks)
	l.addWrittenWildcards()
	l.holding = holdings(p, l.idx)
	l.heldRoles = map[rbac.ObjectKey]bool{}
	for _, h := range l.holding {
		l.heldRoles[h.role] = true
	}
	l.aggregated = map[rbac.ObjectKey]bool{}
	for _, sel := range l.aggregations() {
		for _, src := range sel.sources {
			l.aggregated[src] = true
		}
	}
	return l
}

// roleKeys lists every role in policy order: ClusterRoles, then Roles.
func (l *linter) roleKeys() []rbac.ObjectKey {
	var out []rbac.ObjectKey
	for _, cr := range l.p.ClusterRoles {
		out = append(out, rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: cr.Name})
	}
	for _, r := range l.p.Roles {
		out = append(out, rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name})
	}
	return out
}

// allowed asks the policy's engine about one request.
func (l *linter) allowed(req authorizer.AttributesRecord) bool {
	d, _, _ := l.idx.Authorize(context.Background(), req)
	return d == authorizer.DecisionAllow
}

func (l *linter) run() []Finding {
	var out []Finding
	for _, check := range []func() []Finding{
		l.riskFindings, l.subjectFindings, l.bindingFindings,
		l.roleFindings, l.bloatFindings, l.aggregationFindings,
		l.workloadFindings, l.automountFindings, l.cloudIAMFindings, l.dashboardFindings, l.missingAccountFindings, l.reachFindings,
	} {
		out = append(out, check()...)
	}
	return out
}

// user tells whether an object comes from the user's files rather than
// the bootstrap policy.
func (l *linter) user(k rbac.ObjectKey) bool {
	src, ok := l.p.Sources[k]
	return ok && src.File != rbac.BootstrapSource
}

// privileged tells whether ns is a privileged namespace.
func (l *linter) privileged(ns string) bool {
	return slices.Contains(l.cfg.privilegedNamespaces(), ns)
}

// at builds a finding located at the object k.
func (l *linter) at(rule string, sev Severity, k rbac.ObjectKey, msg string) Finding {
	src := l.p.Sources[k]
	r := mustRule(rule)
	if sev == "" {
		sev = r.Severity
	}
	return Finding{Rule: rule, Severity: sev, Message: msg, File: src.File, Line: src.Line, Kind: k.Kind, Name: k.Name, Namespace: k.Namespace, Subjects: []Subject{}, Hint: r.Hint}
}

// subjectOf renders a binding subject, with the namespace a RoleBinding
// gives a ServiceAccount that names none.
func subjectOf(s rbacv1.Subject, bindingNS string) Subject {
	out := Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
	if s.Kind == rbacv1.ServiceAccountKind && out.Namespace == "" {
		out.Namespace = bindingNS
	}
	return out
}
