package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// Kauth is the engine under test, built from the same objects.
type Kauth struct {
	Index *rbac.Index
	Chain *rbac.Chain
}

// NewKauth builds kauth's index the way its commands do: a Policy,
// aggregation, then the index.
func NewKauth(objs *Objects) *Kauth {
	objs = objs.DeepCopy()
	p := &rbac.Policy{
		Roles:               objs.Roles,
		ClusterRoles:        objs.ClusterRoles,
		RoleBindings:        objs.RoleBindings,
		ClusterRoleBindings: objs.ClusterRoleBindings,
	}
	rbac.Aggregate(p)
	idx := rbac.NewIndex(p)
	return &Kauth{Index: idx, Chain: rbac.NewAuthorizer(idx)}
}

// Disagreement is one question the two engines answer differently.
type Disagreement struct {
	// Check is "rbac" (the RBAC authorizer alone), "chain" (kube-apiserver's
	// system:masters + RBAC), "reason" (the missing-role errors of a
	// denial), "who-can" (the subject locator's subjects) or
	// "who-can-errors" (its missing-role errors), "rules-for" (the rules
	// that apply to the user in the namespace, as can-i --list reads them)
	// or "rules-for-errors".
	Check    string
	Query    authorizer.AttributesRecord
	Upstream string
	Kauth    string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s: %s\n  upstream: %s\n  kauth:    %s", d.Check, describe(d.Query), d.Upstream, d.Kauth)
}

// describe renders a request like a SubjectAccessReview spec, in one line.
func describe(a authorizer.AttributesRecord) string {
	var b strings.Builder
	if a.User != nil {
		fmt.Fprintf(&b, "user=%q groups=%q ", a.User.GetName(), a.User.GetGroups())
	}
	if !a.ResourceRequest {
		fmt.Fprintf(&b, "verb=%q path=%q", a.Verb, a.Path)
		return b.String()
	}
	fmt.Fprintf(&b, "verb=%q group=%q resource=%q subresource=%q name=%q namespace=%q", a.Verb, a.APIGroup, a.Resource, a.Subresource, a.Name, a.Namespace)
	return b.String()
}

// Engines are both sides built from one policy.
type Engines struct {
	Upstream *Upstream
	Kauth    *Kauth
}

// NewEngines builds both engines from objs.
func NewEngines(objs *Objects) (*Engines, error) {
	up, err := NewUpstream(objs)
	if err != nil {
		return nil, err
	}
	return &Engines{Upstream: up, Kauth: NewKauth(objs)}, nil
}

// Compare asks both engines every question of qs and returns every
// disagreement: decisions of RBAC alone and of the full chain, the
// missing-role errors named in a denial, and who-can (subjects and errors).
func (e *Engines) Compare(ctx context.Context, qs []authorizer.AttributesRecord) []Disagreement {
	return e.CompareFirst(ctx, qs, len(qs))
}

// CompareFirst compares decisions on every question of qs and who-can on
// the first whoCan of them (upstream's subject locator reads every binding
// and role for each question, which is slow on large policies).
func (e *Engines) CompareFirst(ctx context.Context, qs []authorizer.AttributesRecord, whoCan int) []Disagreement {
	var out []Disagreement
	for i := range qs {
		out = append(out, e.compare(ctx, qs[i], i < whoCan)...)
	}
	return out
}

// CompareOne compares the engines on one question.
func (e *Engines) CompareOne(ctx context.Context, q authorizer.AttributesRecord) []Disagreement {
	return e.compare(ctx, q, true)
}

func (e *Engines) compare(ctx context.Context, q authorizer.AttributesRecord, whoCan bool) []Disagreement {
	var out []Disagreement
	add := func(check, up, k string) {
		if up != k {
			out = append(out, Disagreement{Check: check, Query: q, Upstream: up, Kauth: k})
		}
	}
	ud, ureason, _ := e.Upstream.RBAC.Authorize(ctx, q)
	kd, kreason, _ := e.Kauth.Index.Authorize(ctx, q)
	add("rbac", decision(ud), decision(kd))
	if ud != authorizer.DecisionAllow && kd != authorizer.DecisionAllow {
		add("reason", reasonErrors(ureason), reasonErrors(kreason))
	}
	cd, _, _ := e.Upstream.Chain.Authorize(ctx, q)
	kcd, _, _ := e.Kauth.Chain.Authorize(ctx, q)
	add("chain", decision(cd), decision(kcd))

	if !whoCan {
		return out
	}
	usubs, uerr := e.Upstream.Locator.AllowedSubjects(ctx, q)
	kres := e.Kauth.Index.WhoCan(q)
	ksubs := make([]rbacv1.Subject, 0, len(kres.Subjects))
	for _, s := range kres.Subjects {
		ksubs = append(ksubs, rbacv1.Subject{Kind: s.Kind, APIGroup: s.APIGroup, Name: s.Name, Namespace: s.Namespace})
	}
	add("who-can", subjectSet(usubs), subjectSet(ksubs))
	add("who-can-errors", errorSet(uerr), strings.Join(sortedUnique(kres.Errors), "; "))

	// can-i --list: the rules that apply to the user in the namespace.
	ures, unon, _, uerr := e.Upstream.RBAC.RulesFor(ctx, q.User, q.Namespace)
	kresr, knon, _, kerr := e.Kauth.Index.RulesFor(ctx, q.User, q.Namespace)
	add("rules-for", ruleSet(ures, unon), ruleSet(kresr, knon))
	add("rules-for-errors", errorSet(uerr), errorSet(kerr))
	return out
}

// ruleSet renders rule infos as a sorted, distinct list (upstream lists
// them in informer order, with repeats).
func ruleSet(res []authorizer.ResourceRuleInfo, non []authorizer.NonResourceRuleInfo) string {
	var s []string
	for _, r := range res {
		s = append(s, fmt.Sprintf("verbs=%q groups=%q resources=%q names=%q", r.GetVerbs(), r.GetAPIGroups(), r.GetResources(), r.GetResourceNames()))
	}
	for _, r := range non {
		s = append(s, fmt.Sprintf("verbs=%q urls=%q", r.GetVerbs(), r.GetNonResourceURLs()))
	}
	return strings.Join(sortedUnique(s), "\n            ")
}

func decision(d authorizer.Decision) string {
	switch d {
	case authorizer.DecisionAllow:
		return "allow"
	case authorizer.DecisionDeny:
		return "deny"
	default:
		return "no-opinion"
	}
}

// reasonErrors reduces an RBAC denial reason ("RBAC: [e1, e2]" or
// "RBAC: e1") to its sorted, distinct errors: upstream visits bindings in
// informer order, so only the set is defined.
func reasonErrors(reason string) string {
	r := strings.TrimPrefix(reason, "RBAC: ")
	r = strings.TrimSuffix(strings.TrimPrefix(r, "["), "]")
	if r == "" {
		return ""
	}
	return strings.Join(sortedUnique(strings.Split(r, ", ")), "; ")
}

func errorSet(err error) string {
	if err == nil {
		return ""
	}
	var msgs []string
	if agg, ok := err.(utilerrors.Aggregate); ok {
		for _, e := range agg.Errors() {
			msgs = append(msgs, e.Error())
		}
	} else {
		msgs = []string{err.Error()}
	}
	return strings.Join(sortedUnique(msgs), "; ")
}

// subjectSet renders subjects as a sorted, distinct list: upstream's
// locator returns duplicates (it computes a de-duplicated list but returns
// the original one) and lists bindings in informer order.
func subjectSet(subs []rbacv1.Subject) string {
	var s []string
	for _, x := range subs {
		s = append(s, fmt.Sprintf("%s:%s/%s(%s)", x.Kind, x.Namespace, x.Name, x.APIGroup))
	}
	return strings.Join(sortedUnique(s), " ")
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
