package rbaclint

import (
	"context"
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// Probe values that no policy names: a rule matches them only through a
// wildcard (or, for names, only when it has no resourceNames).
const (
	probeVerb     = "kauth-probe-verb"
	probeGroup    = "probe.kauth.invalid"
	probeResource = "kauth-probe-resources"
	probeName     = "kauth-probe-name"
)

// Risk is one risky permission: the requests that exercise it and how
// scope changes its weight. Requests carry no user and no namespace; the
// engine answers them.
type Risk struct {
	Rule string
	// NamespaceRule, when set, replaces Rule for grants by RoleBindings.
	NamespaceRule string
	What          string
	Severity      Severity // overrides the rule's severity when set
	Requests      []authorizer.AttributesRecord
	// ClusterOnly risks target cluster-scoped resources: a RoleBinding
	// never grants them.
	ClusterOnly bool
	// PrivilegedOnly risks matter only cluster-wide or in privileged
	// namespaces.
	PrivilegedOnly bool
	// Namespace limits namespaced grants to one namespace.
	Namespace string
	// Requires lists requests the same subject must also be allowed (any
	// one of them) for the risk to be real.
	Requires []authorizer.AttributesRecord
}

func res(group, resource, sub, name string, verbs ...string) []authorizer.AttributesRecord {
	out := make([]authorizer.AttributesRecord, len(verbs))
	for i, v := range verbs {
		out[i] = authorizer.AttributesRecord{Verb: v, APIGroup: group, Resource: resource, Subresource: sub, Name: name, ResourceRequest: true}
	}
	return out
}

func join(lists ...[]authorizer.AttributesRecord) []authorizer.AttributesRecord {
	var out []authorizer.AttributesRecord
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var write = []string{"create", "update", "patch"}

// fullWildcardWhat describes the full-wildcard risk.
const fullWildcardWhat = "every verb on every resource"

// Risks is the risk classification shared by lint and the permission diff:
// a permission is risky when it allows one of these requests.
func Risks() []Risk {
	const rbacG, certs, admission = rbacv1.GroupName, "certificates.k8s.io", "admissionregistration.k8s.io"
	workloads := join(res("", "pods", "", "", "create"), res("", "replicationcontrollers", "", probeName, write...), res("", "replicationcontrollers", "", "", "create"))
	for _, r := range []struct{ g, r string }{{"apps", "deployments"}, {"apps", "daemonsets"}, {"apps", "statefulsets"}, {"apps", "replicasets"}, {"batch", "jobs"}, {"batch", "cronjobs"}} {
		workloads = join(workloads, res(r.g, r.r, "", "", "create"), res(r.g, r.r, "", probeName, "update", "patch"))
	}
	var webhooks []authorizer.AttributesRecord
	for _, r := range []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"} {
		webhooks = join(webhooks, res(admission, r, "", "", "create"), res(admission, r, "", probeName, "update", "patch", "delete"))
	}
	writes := func(group string, resources ...string) []authorizer.AttributesRecord {
		var out []authorizer.AttributesRecord
		for _, r := range resources {
			out = join(out, res(group, r, "", "", "create"), res(group, r, "", probeName, "update", "patch", "delete"))
		}
		return out
	}
	const kyverno, kyvernoPolicies = "kyverno.io", "policies.kyverno.io"
	return []Risk{
		{Rule: RuleFullWildcard, What: fullWildcardWhat, Requests: res(probeGroup, probeResource, "", "", probeVerb)},
		{Rule: RuleSecretsReadCluster, NamespaceRule: RuleSecretsReadNamespace, What: "read secrets",
			Requests: join(res("", "secrets", "", probeName, "get"), res("", "secrets", "", "", "list", "watch"))},
		{Rule: RuleSecretsWrite, What: "write secrets", Requests: join(res("", "secrets", "", "", "create"), res("", "secrets", "", probeName, "update", "patch"))},
		{Rule: RuleEscalate, What: "escalate roles", Requests: join(res(rbacG, "roles", "", probeName, "escalate"), res(rbacG, "clusterroles", "", probeName, "escalate"))},
		{Rule: RuleBind, What: "bind roles", Requests: join(res(rbacG, "roles", "", probeName, "bind"), res(rbacG, "clusterroles", "", probeName, "bind"))},
		{Rule: RuleImpersonate, What: "impersonate users, groups, user extras or UIDs", ClusterOnly: true, Requests: join(
			res("", "users", "", probeName, "impersonate"), res("", "groups", "", probeName, "impersonate"), res("", "groups", "", "system:masters", "impersonate"),
			res("authentication.k8s.io", "uids", "", probeName, "impersonate"), userExtras())},
		{Rule: RuleImpersonate, What: "impersonate service accounts", Requests: res("", "serviceaccounts", "", probeName, "impersonate")},
		{Rule: RuleBindingsCreate, What: "write RoleBindings", Requests: join(res(rbacG, "rolebindings", "", "", "create"), res(rbacG, "rolebindings", "", probeName, "update", "patch"))},
		{Rule: RuleBindingsCreate, What: "write ClusterRoleBindings", Severity: SeverityError, ClusterOnly: true,
			Requests: join(res(rbacG, "clusterrolebindings", "", "", "create"), res(rbacG, "clusterrolebindings", "", probeName, "update", "patch"))},
		{Rule: RuleWorkloadsCreate, What: "create pods or workloads", Requests: workloads},
		{Rule: RulePodsExec, What: "exec or attach into pods", Requests: join(res("", "pods", "exec", probeName, "create", "get"), res("", "pods", "attach", probeName, "create", "get"))},
		{Rule: RulePodsPortForward, What: "port-forward to pods", Requests: res("", "pods", "portforward", probeName, "create", "get")},
		{Rule: RulePodsEphemeral, What: "add ephemeral containers", Requests: res("", "pods", "ephemeralcontainers", probeName, "update", "patch")},
		{Rule: RuleNodesProxy, What: "proxy to kubelets", ClusterOnly: true, Requests: res("", "nodes", "proxy", probeName, "get", "create", "update", "patch", "delete")},
		{Rule: RuleTokenCreate, What: "create service-account tokens", Requests: res("", "serviceaccounts", "token", probeName, "create")},
		{Rule: RuleCSRApprove, What: "approve certificate signing requests", ClusterOnly: true,
			Requests: join(res(certs, "signers", "", "kubernetes.io/kube-apiserver-client", "approve"), res(certs, "signers", "", "kubernetes.io/*", "approve"), res(certs, "signers", "", probeName, "approve")),
			Requires: res(certs, "certificatesigningrequests", "approval", probeName, "update", "patch")},
		{Rule: RuleAdmissionWebhooks, What: "write admission configuration", ClusterOnly: true, Requests: webhooks},
		{Rule: RulePersistentVolumes, What: "create PersistentVolumes", ClusterOnly: true, Requests: res("", "persistentvolumes", "", "", "create")},
		{Rule: RuleStatusModify, What: "modify nodes/status", ClusterOnly: true, Requests: res("", "nodes", "status", probeName, "update", "patch")},
		{Rule: RuleStatusModify, What: "modify pods/status or services/status", Requests: join(res("", "pods", "status", probeName, "update", "patch"), res("", "services", "status", probeName, "update", "patch"))},
		{Rule: RuleStealPods, What: "modify nodes and delete or evict pods", ClusterOnly: true, Requests: res("", "nodes", "", probeName, "update", "patch"),
			Requires: join(res("", "pods", "", probeName, "delete"), res("", "pods", "eviction", probeName, "create"))},
		{Rule: RuleConfigMapsModify, What: "modify configmaps", PrivilegedOnly: true, Requests: res("", "configmaps", "", probeName, "update", "patch")},
		{Rule: RuleAWSAuth, What: "modify aws-auth", Namespace: "kube-system", Requests: res("", "configmaps", "", "aws-auth", "update", "patch")},
		{Rule: RuleEventsDelete, What: "delete events", Requests: join(res("", "events", "", probeName, "delete"), res("", "events", "", "", "deletecollection"), res("events.k8s.io", "events", "", probeName, "delete"), res("events.k8s.io", "events", "", "", "deletecollection"))},
		{Rule: RuleCRDModify, What: "write CustomResourceDefinitions", ClusterOnly: true,
			Requests: join(res("apiextensions.k8s.io", "customresourcedefinitions", "", "", "create"), res("apiextensions.k8s.io", "customresourcedefinitions", "", probeName, "update", "patch", "delete"))},
		{Rule: RulePolicyEngine, What: "write Gatekeeper or cluster-wide Kyverno policies", ClusterOnly: true, Requests: join(
			writes("templates.gatekeeper.sh", "constrainttemplates"), writes("constraints.gatekeeper.sh", probeResource),
			writes("mutations.gatekeeper.sh", "assign", "assignmetadata", "modifyset", "assignimage"),
			writes(kyverno, "clusterpolicies", "clustercleanuppolicies"),
			writes(kyvernoPolicies, "validatingpolicies", "imagevalidatingpolicies", "mutatingpolicies", "generatingpolicies", "deletingpolicies"))},
		{Rule: RulePolicyEngine, What: "write namespaced Kyverno policies or Gatekeeper config", Requests: join(
			writes("config.gatekeeper.sh", "configs"), writes(kyverno, "policies", "cleanuppolicies", "policyexceptions"), writes(kyvernoPolicies, "policyexceptions"))},
	}
}

// lintRisks are risks lint reports that the permission diff does not mark
// as escalations: writing services, ingresses and routes is everyday work
// in an ordinary namespace (the edit role grants it), where lint rates it
// info; an escalation is what needs a second reviewer.
func lintRisks() []Risk {
	writes := func(group string, resources ...string) []authorizer.AttributesRecord {
		var out []authorizer.AttributesRecord
		for _, r := range resources {
			out = join(out, res(group, r, "", "", "create"), res(group, r, "", probeName, "update", "patch", "delete"))
		}
		return out
	}
	const gateway = "gateway.networking.k8s.io"
	return []Risk{
		{Rule: RuleNetworkingModify, What: "modify services, endpoints, ingresses, network policies or Gateway API routes", Requests: join(
			writes("", "services", "endpoints"), writes("discovery.k8s.io", "endpointslices"), writes("networking.k8s.io", "ingresses", "networkpolicies"),
			writes(gateway, "gateways", "httproutes", "grpcroutes", "tcproutes", "tlsroutes", "udproutes", "referencegrants"))},
		{Rule: RuleNetworkingModify, What: "modify IngressClasses or GatewayClasses", ClusterOnly: true,
			Requests: join(writes("networking.k8s.io", "ingressclasses"), writes(gateway, "gatewayclasses"))},
	}
}

// userExtras are impersonation requests for user extras: the extra key is
// the subresource, so a probe asks for the keys clusters use and a key no
// policy names.
func userExtras() []authorizer.AttributesRecord {
	var out []authorizer.AttributesRecord
	for _, key := range []string{probeName, "scopes", "authentication.kubernetes.io/credential-id", "authentication.kubernetes.io/node-name",
		"authentication.kubernetes.io/pod-name", "authentication.kubernetes.io/pod-uid", "reason"} {
		out = append(out, res("authentication.k8s.io", "userextras", key, probeName, "impersonate")...)
	}
	return out
}

// ruleKey names one rule of one role.
type ruleKey struct {
	role  rbac.ObjectKey
	index int
}

// ruleIndex is an index in which each rule of a policy is its own
// ClusterRole, bound to a user named after the rule: asking the engine
// about that user asks about the rule alone.
type ruleIndex struct {
	idx  *rbac.Index
	keys []ruleKey
	ids  map[ruleKey]int
}

// allows asks the engine whether rule k alone allows req.
func (ri *ruleIndex) allows(k ruleKey, req authorizer.AttributesRecord) bool {
	req.User = &user.DefaultInfo{Name: strconv.Itoa(ri.ids[k])}
	d, _, _ := ri.idx.Authorize(context.Background(), req)
	return d == authorizer.DecisionAllow
}

// classify answers every risk request for every rule of p at once, asking
// the rule index who may make each request. The result maps each rule to
// the indexes of its risks.
func classify(p *rbac.Policy, risks []Risk) (*ruleIndex, map[ruleKey][]int) {
	probe := &rbac.Policy{Sources: map[rbac.ObjectKey]loader.Source{}}
	var keys []ruleKey
	add := func(role rbac.ObjectKey, rules []rbacv1.PolicyRule) {
		for i := range rules {
			name := strconv.Itoa(len(keys))
			keys = append(keys, ruleKey{role, i})
			probe.ClusterRoles = append(probe.ClusterRoles, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules[i : i+1]})
			probe.ClusterRoleBindings = append(probe.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: rbac.KindClusterRole, Name: name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
			})
		}
	}
	for _, cr := range p.ClusterRoles {
		add(rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: cr.Name}, cr.Rules)
	}
	for _, r := range p.Roles {
		add(rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}, r.Rules)
	}
	ri := &ruleIndex{idx: rbac.NewIndex(probe), keys: keys, ids: make(map[ruleKey]int, len(keys))}
	for i, k := range keys {
		ri.ids[k] = i
	}
	hits := map[ruleKey][]int{}
	for n, risk := range risks {
		seen := map[int]bool{}
		for _, req := range risk.Requests {
			for _, s := range ri.idx.WhoCan(req).Subjects {
				id, err := strconv.Atoi(s.Name)
				if s.Privileged || err != nil || seen[id] {
					continue
				}
				seen[id] = true
				hits[keys[id]] = append(hits[keys[id]], n)
			}
		}
	}
	return ri, hits
}
