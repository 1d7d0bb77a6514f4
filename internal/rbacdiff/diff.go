package rbacdiff

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbaclint"
)

// Changes in effective permissions.
const (
	Granted = "granted"
	Revoked = "revoked"
)

// Subject is a user, group or service account.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Change is one line of the permission diff: verbs on one resource (in
// one namespace, or cluster-wide when Namespace is empty) or on one
// non-resource URL. A "*" stands for every value no rule of the subject
// names; empty ResourceNames means every name.
type Change struct {
	Subject        Subject    `json:"subject"`
	Change         string     `json:"change"`
	Verbs          []string   `json:"verbs"`
	APIGroup       string     `json:"apiGroup"`
	Resource       string     `json:"resource"`
	Subresource    string     `json:"subresource"`
	Namespace      string     `json:"namespace"`
	ResourceNames  []string   `json:"resourceNames"`
	NonResourceURL string     `json:"nonResourceURL"`
	Escalation     bool       `json:"escalation"`
	Via            []rbac.Via `json:"via"`
	// Risks are the rbaclint rules an escalation matches.
	Risks []string `json:"-"`
}

// Result is the permission diff and the object diff.
type Result struct {
	Changes []Change       `json:"changes"`
	Objects []ObjectChange `json:"objects"`
}

// Escalations counts the escalating changes.
func (r *Result) Escalations() int {
	n := 0
	for _, c := range r.Changes {
		if c.Escalation {
			n++
		}
	}
	return n
}

// Diff compares two indexed policies.
func Diff(old, new *rbac.Index) *Result {
	d := &differ{old: old, new: new, u: newUniverse(old.Policy(), new.Policy()), risks: rbaclint.Risks(), memo: map[string]*candidates{}}
	d.riskReqs = make([][]gatom, len(d.risks))
	d.riskRequires = make([][]gatom, len(d.risks))
	d.riskAll = make([][]int, len(d.risks))
	d.riskByRes = make([][][]int, len(d.risks))
	for i, r := range d.risks {
		d.riskByRes[i] = make([][]int, len(d.u.t[dRes].str))
		for j, q := range r.Requests {
			d.riskAll[i] = append(d.riskAll[i], j)
			if res := d.u.t[dRes].lookup(q.Resource); res > 0 {
				d.riskByRes[i][res] = append(d.riskByRes[i][res], j)
			}
		}
		for _, q := range r.Requests {
			d.riskReqs[i] = append(d.riskReqs[i], d.u.request(q))
		}
		for _, q := range r.Requires {
			d.riskRequires[i] = append(d.riskRequires[i], d.u.request(q))
		}
	}
	res := &Result{Changes: []Change{}}
	objects := make(chan []ObjectChange, 1)
	go func() { objects <- diffObjects(old.Policy(), new.Policy()) }()
	dirty := dirtyScopes(old.Policy(), new.Policy())
	var work []scoped
	for _, s := range subjectsOf(old.Policy(), new.Policy()) {
		scopes := s.scopes[:0]
		for _, ns := range s.scopes {
			if dirty[s.s][ns] {
				scopes = append(scopes, ns)
			}
		}
		if len(scopes) > 0 {
			s.scopes = scopes
			work = append(work, s)
		}
	}
	// Subjects are independent and the indexes are safe for concurrent
	// use: diff them on every core, each subject's changes sorted by its
	// worker, then put the subjects in order.
	results := make([][]Change, len(work))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(work), 1)) {
		wg.Go(func() {
			w := newWorker(d)
			for i := int(next.Add(1) - 1); i < len(work); i = int(next.Add(1) - 1) {
				results[i] = w.subject(work[i])
			}
		})
	}
	wg.Wait()
	order := make([]int, len(work))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := work[a].s, work[b].s
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	n := 0
	for _, r := range results {
		n += len(r)
	}
	res.Changes = slices.Grow(res.Changes, n)
	for _, i := range order {
		res.Changes = append(res.Changes, results[i]...)
	}
	res.Objects = <-objects
	return res
}

type differ struct {
	old, new *rbac.Index
	u        *universe
	risks    []rbaclint.Risk
	// riskReqs and riskRequires are the risks' Requests and Requires in
	// universe ids.
	riskReqs, riskRequires [][]gatom
	// riskAll and riskByRes list the positions of each risk's Requests,
	// all of them and by resource id.
	riskAll   [][]int
	riskByRes [][][]int

	mu   sync.Mutex
	memo map[string]*candidates
}

// scoped is a subject and the namespaces where a RoleBinding names it.
type scoped struct {
	s      Subject
	scopes []string
}

// subjectsOf lists every subject either policy's bindings name, with ""
// (cluster-wide) and each namespace where a RoleBinding names it.
func subjectsOf(policies ...*rbac.Policy) []scoped {
	idx := map[Subject]int{}
	var out []scoped
	note := func(sub rbacv1.Subject, ns string) {
		s := Subject{Kind: sub.Kind, Name: sub.Name, Namespace: sub.Namespace}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			s.Namespace = ns
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			return
		}
		i, ok := idx[s]
		if !ok {
			i = len(out)
			idx[s] = i
			out = append(out, scoped{s: s, scopes: []string{""}})
		}
		if ns != "" && !slices.Contains(out[i].scopes, ns) {
			out[i].scopes = append(out[i].scopes, ns)
		}
	}
	for _, p := range policies {
		for _, b := range p.ClusterRoleBindings {
			for _, s := range b.Subjects {
				note(s, "")
			}
		}
		for _, b := range p.RoleBindings {
			for _, s := range b.Subjects {
				note(s, b.Namespace)
			}
		}
	}
	return out
}

func (s Subject) lint() rbaclint.Subject {
	return rbaclint.Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
}

func ruleString(r rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, l := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		b.WriteString(strings.Join(l, ","))
		b.WriteByte(0)
	}
	return b.String()
}

// compareChanges orders changes by subject, namespace, what they are
// about, direction, names and verbs.
func compareChanges(a, b *Change) int {
	if c := cmp.Compare(a.Subject.Kind, b.Subject.Kind); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Subject.Namespace, b.Subject.Namespace); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Subject.Name, b.Subject.Name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	if c := cmp.Compare(a.NonResourceURL, b.NonResourceURL); c != 0 {
		return c
	}
	if c := cmp.Compare(a.APIGroup, b.APIGroup); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Resource, b.Resource); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Subresource, b.Subresource); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Change, b.Change); c != 0 {
		return c
	}
	if c := slices.Compare(a.ResourceNames, b.ResourceNames); c != 0 {
		return c
	}
	return slices.Compare(a.Verbs, b.Verbs)
}
