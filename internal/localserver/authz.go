package localserver

import (
	"context"
	"errors"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/server/healthz"
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

// buildAuthorizer builds kube-apiserver's authorizer: the privileged
// group, then --authorization-mode (or --authorization-config) in order,
// with ABAC and webhooks (internal/authzchain).
func buildAuthorizer(c *Config, rbacAuth *rbacKeeper) (*authz, []healthz.HealthChecker, error) {
	b, err := buildAuthorizationChain(c, rbacAuth)
	if err != nil {
		return nil, nil, err
	}
	checks := make([]healthz.HealthChecker, 0, len(b.Breakers))
	for _, br := range b.Breakers {
		checks = append(checks, br)
	}
	return &authz{Authorizer: b.Authorizer, rules: b.RuleResolver}, checks, nil
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
