package rbac

import (
	"context"
	"errors"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

var (
	_ authorizer.Authorizer   = (*Index)(nil)
	_ authorizer.RuleResolver = (*Index)(nil)
)

// errNoUser is returned for attributes without a user, which upstream's
// authorizer would dereference.
var errNoUser = errors.New("no user on request")

// Authorize decides one request as kube-apiserver's RBAC authorizer does:
// DecisionAllow with the reason "RBAC: allowed by <binding>", or
// DecisionNoOpinion with an empty reason, or with "RBAC: <errors>" when
// bindings that apply to the user reference missing roles. RBAC never
// denies outright. The error is always nil, as upstream's.
func (idx *Index) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "", errNoUser
	}
	req := idx.vocab.request(a)
	var (
		errs []error
		buf  [64]int32
	)
	name, groups := u.GetName(), u.GetGroups()
	sets := [2]*bindingSet{&idx.cluster, nil}
	if ns := a.GetNamespace(); ns != "" {
		sets[1] = idx.namespaces[ns]
	}
	for _, set := range sets {
		if set == nil {
			continue
		}
		for _, pos := range set.candidates(name, groups, buf[:]) {
			b := set.all[pos]
			if b.role == nil {
				errs = append(errs, b.missing)
				continue
			}
			if !b.role.mayMatch(&req) {
				continue
			}
			for i := range b.role.rules {
				if b.role.rules[i].allows(&req) {
					return authorizer.DecisionAllow, b.reason(b.appliesTo(name, groups)), nil
				}
			}
		}
	}
	if len(errs) > 0 {
		return authorizer.DecisionNoOpinion, "RBAC: " + utilerrors.NewAggregate(errs).Error(), nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// ConditionsAwareAuthorize is [Index.Authorize] for conditions-aware
// callers: RBAC has no conditions, so it wraps the unconditional decision.
func (idx *Index) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(idx.Authorize(ctx, a))
}

// EvaluateConditions fails closed: RBAC never returns conditional
// decisions.
func (*Index) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RuleRef is one rule of one role reached through one binding.
type RuleRef struct {
	Binding ObjectKey         `json:"binding"`
	Role    ObjectKey         `json:"role"`
	Index   int               `json:"index"` // position in the role's rules
	Rule    rbacv1.PolicyRule `json:"rule"`
	Subject rbacv1.Subject    `json:"subject"` // the binding's subject that matched
	// BindingSource and RoleSource are file:line of the two objects, when
	// known.
	BindingSource string `json:"bindingSource,omitempty"`
	RoleSource    string `json:"roleSource,omitempty"`
}

// Rules lists, in upstream's visiting order, every rule that applies to
// the user in namespace ns (cluster-wide bindings first, then the
// RoleBindings of ns), and the errors of bindings to missing roles. This
// is what SelfSubjectRulesReview and "kubectl auth can-i --list" show.
func (idx *Index) Rules(u user.Info, ns string) ([]RuleRef, error) {
	var (
		out  []RuleRef
		errs []error
	)
	idx.visit(u, ns, func(b *binding, sub int) {
		if b.role == nil {
			errs = append(errs, b.missing)
			return
		}
		for i := range b.role.rules {
			out = append(out, b.ruleRef(sub, i))
		}
	})
	return out, utilerrors.NewAggregate(errs)
}

// visit calls fn, in upstream's order, for every binding that applies to
// u in the scope of ns, with the index of the subject that matched.
func (idx *Index) visit(u user.Info, ns string, fn func(b *binding, subject int)) {
	var buf [64]int32
	name, groups := u.GetName(), u.GetGroups()
	for _, set := range idx.scopes(ns) {
		for _, pos := range set.candidates(name, groups, buf[:]) {
			b := set.all[pos]
			fn(b, b.appliesTo(name, groups))
		}
	}
}

func (b *binding) ruleRef(subject, i int) RuleRef {
	return RuleRef{Binding: b.key, Role: b.role.key, Index: i, Rule: *b.role.rules[i].src, Subject: b.subjects[subject], BindingSource: b.src, RoleSource: b.role.src}
}

// RulesFor implements authorizer.RuleResolver as upstream's RBAC
// authorizer does: resource rules and non-resource rules, never
// incomplete, with the errors of missing roles.
func (idx *Index) RulesFor(_ context.Context, u user.Info, ns string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	refs, err := idx.Rules(u, ns)
	var (
		res    []authorizer.ResourceRuleInfo
		nonRes []authorizer.NonResourceRuleInfo
	)
	for _, r := range refs {
		if len(r.Rule.Resources) > 0 {
			res = append(res, &authorizer.DefaultResourceRuleInfo{
				Verbs: r.Rule.Verbs, APIGroups: r.Rule.APIGroups, Resources: r.Rule.Resources, ResourceNames: r.Rule.ResourceNames,
			})
		}
		if len(r.Rule.NonResourceURLs) > 0 {
			nonRes = append(nonRes, &authorizer.DefaultNonResourceRuleInfo{Verbs: r.Rule.Verbs, NonResourceURLs: r.Rule.NonResourceURLs})
		}
	}
	return res, nonRes, false, err
}
