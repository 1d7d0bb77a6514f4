package localserver

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authzunion "k8s.io/apiserver/pkg/authorization/union"
)

// authz is the server's authorizer: kube-apiserver's union of the
// privileged group (system:masters may do anything, in front of every
// mode), then the --authorization-mode modes in order. It is also the
// union of their rule resolvers, for SelfSubjectRulesReview.
type authz struct {
	authorizer.Authorizer
	rules authorizer.RuleResolver
}

// RulesFor lists the rules of a user in a namespace from every mode that
// can list them.
func (a *authz) RulesFor(ctx context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	return a.rules.RulesFor(ctx, u, namespace)
}

func buildAuthorizer(modes []string, rbacAuth *rbacKeeper) (*authz, error) {
	named := []authzunion.NamedAuthorizer{{AuthorizerName: "privileged", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)}}
	var resolvers []authorizer.RuleResolver
	for _, m := range modes {
		switch m {
		case ModeRBAC:
			named = append(named, authzunion.NamedAuthorizer{AuthorizerName: ModeRBAC, Authorizer: rbacAuth})
			resolvers = append(resolvers, rbacAuth)
		case ModeAlwaysAllow:
			a := authorizerfactory.NewAlwaysAllowAuthorizer()
			named = append(named, authzunion.NamedAuthorizer{AuthorizerName: ModeAlwaysAllow, Authorizer: a})
			resolvers = append(resolvers, a)
		case ModeAlwaysDeny:
			a := authorizerfactory.NewAlwaysDenyAuthorizer()
			named = append(named, authzunion.NamedAuthorizer{AuthorizerName: ModeAlwaysDeny, Authorizer: a})
			resolvers = append(resolvers, a)
		default:
			return nil, fmt.Errorf("--authorization-mode %q: unknown mode", m)
		}
	}
	union, err := authzunion.New(named...)
	if err != nil {
		return nil, err
	}
	return &authz{Authorizer: union, rules: authzunion.NewRuleResolvers(resolvers...)}, nil
}

// errNoIndex is returned, failing closed, if RBAC is asked before its first
// index exists or the index cannot decide.
var errNoIndex = errors.New("RBAC index is not ready")

// Authorize asks the current RBAC index.
func (k *rbacKeeper) Authorize(ctx context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	idx := k.current()
	if idx == nil {
		return authorizer.DecisionNoOpinion, "", errNoIndex
	}
	return idx.Authorize(ctx, a)
}

// ConditionsAwareAuthorize: RBAC has no conditions.
func (k *rbacKeeper) ConditionsAwareAuthorize(ctx context.Context, a authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(k.Authorize(ctx, a))
}

// EvaluateConditions is not supported: RBAC never returns conditions.
func (k *rbacKeeper) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// RulesFor lists the rules of the current RBAC index.
func (k *rbacKeeper) RulesFor(ctx context.Context, u user.Info, namespace string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	idx := k.current()
	if idx == nil {
		return nil, nil, false, errNoIndex
	}
	return idx.RulesFor(ctx, u, namespace)
}
