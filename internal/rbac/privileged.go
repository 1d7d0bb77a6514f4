package rbac

import (
	"context"
	"strings"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Privileged allows every request of a user in one of its groups and has
// no opinion otherwise: kube-apiserver puts it, for the group
// system:masters, ahead of every configured authorizer, so that group can
// never be locked out by RBAC.
type Privileged struct {
	Groups []string
}

var _ authorizer.Authorizer = Privileged{}

// SystemMasters returns the privileged authorizer of kube-apiserver: the
// group system:masters.
func SystemMasters() Privileged {
	return Privileged{Groups: []string{user.SystemPrivilegedGroup}}
}

// Authorize allows members of the privileged groups with an empty reason,
// as k8s.io/apiserver's privileged-group authorizer does.
func (p Privileged) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	u := a.GetUser()
	if u == nil {
		return authorizer.DecisionNoOpinion, "Error", errNoUser
	}
	for _, g := range u.GetGroups() {
		if contains(p.Groups, g) {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionNoOpinion, "", nil
}

// ConditionsAwareAuthorize wraps the unconditional decision.
func (p Privileged) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(p.Authorize(ctx, a))
}

// EvaluateConditions fails closed: there are no conditions.
func (Privileged) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// Chain is kube-apiserver's authorizer for --authorization-mode=RBAC: a
// union of the privileged group, named
// "kubernetes.io/system-privileged-group", then RBAC, named "rbac". The
// first Allow or Deny wins with its own reason; when both have no opinion,
// the reasons are joined as the union joins them, each prefixed with its
// authorizer's name ("rbac: RBAC: clusterrole... not found").
type Chain struct {
	Privileged Privileged
	RBAC       *Index
}

// The names kube-apiserver gives the authorizers of its union; they prefix
// the reasons of a request nobody allowed.
const (
	PrivilegedAuthorizerName = "kubernetes.io/system-privileged-group"
	RBACAuthorizerName       = "rbac"
)

var _ authorizer.Authorizer = (*Chain)(nil)

// NewAuthorizer returns the chain kube-apiserver runs with
// --authorization-mode=RBAC: system:masters, then idx.
func NewAuthorizer(idx *Index) *Chain {
	return &Chain{Privileged: SystemMasters(), RBAC: idx}
}

// Authorize asks the privileged authorizer, then RBAC, as
// k8s.io/apiserver's union does.
func (c *Chain) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	var (
		reasons []string
		errs    []error
	)
	for _, step := range []struct {
		name string
		az   authorizer.UnconditionalAuthorizer
	}{{PrivilegedAuthorizerName, c.Privileged}, {RBACAuthorizerName, c.RBAC}} {
		d, reason, err := step.az.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, step.name+": "+reason)
		}
		if d == authorizer.DecisionAllow || d == authorizer.DecisionDeny {
			return d, reason, err
		}
	}
	return authorizer.DecisionNoOpinion, strings.Join(reasons, "\n"), utilerrors.NewAggregate(errs)
}

// ConditionsAwareAuthorize wraps the unconditional decision.
func (c *Chain) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(c.Authorize(ctx, a))
}

// EvaluateConditions fails closed: there are no conditions.
func (*Chain) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RulesFor is RBAC's: kube-apiserver's privileged-group authorizer is not
// a rule resolver, so SelfSubjectRulesReview (and "kubectl auth can-i
// --list") shows only what RBAC grants, even to system:masters.
func (c *Chain) RulesFor(ctx context.Context, u user.Info, ns string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	return c.RBAC.RulesFor(ctx, u, ns)
}
