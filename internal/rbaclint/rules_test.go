package rbaclint

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kauth/kauth/internal/rbac"
)

func TestRules(t *testing.T) {
	t.Parallel()
	core, apps, rbacG := `""`, "apps", "rbac.authorization.k8s.io"
	tests := []struct {
		name      string
		docs      []string
		bootstrap bool
		cfg       Config
		rule      string
		want      Severity // "" means the rule must not fire
	}{
		{"full wildcard", bound(rule("'*'", "'*'", "'*'")), false, Config{}, RuleFullWildcard, SeverityError},
		{"no full wildcard", bound(rule("get", core, "pods")), false, Config{}, RuleFullWildcard, ""},
		{"wildcard verbs", bound(rule("'*'", core, "pods")), false, Config{}, RuleWildcardVerbs, SeverityWarning},
		{"wildcard verbs in a namespace", boundIn("app", rule("'*'", core, "pods")), false, Config{}, RuleWildcardVerbs, SeverityInfo},
		{"no wildcard verbs", bound(rule("get", core, "pods")), false, Config{}, RuleWildcardVerbs, ""},
		{"wildcard resources", bound(rule("get", core, "'*'")), false, Config{}, RuleWildcardResources, SeverityWarning},
		{"no wildcard resources", bound(rule("get", core, "pods")), false, Config{}, RuleWildcardResources, ""},
		{"wildcard api groups", bound(rule("get", "'*'", "pods")), false, Config{}, RuleWildcardAPIGroups, SeverityInfo},
		{"no wildcard api groups", bound(rule("get", core, "pods")), false, Config{}, RuleWildcardAPIGroups, ""},
		{"wildcard urls", bound(`{verbs: [get], nonResourceURLs: ["*"]}`), false, Config{}, RuleWildcardURLs, SeverityWarning},
		{"no wildcard urls", bound(`{verbs: [get], nonResourceURLs: ["/healthz"]}`), false, Config{}, RuleWildcardURLs, ""},
		{"cluster-admin bound", []string{crb("admins", "cluster-admin", userS("alice"))}, true, Config{}, RuleClusterAdminBinding, SeverityError},
		{"cluster-admin in a namespace", []string{rb("app", "admins", "ClusterRole", "cluster-admin", userS("alice"))}, true, Config{}, RuleClusterAdminBinding, SeverityWarning},
		{"cluster-admin in kube-system", []string{rb("kube-system", "admins", "ClusterRole", "cluster-admin", userS("alice"))}, true, Config{}, RuleClusterAdminBinding, SeverityError},
		{"equivalent wildcard role bound", bound(rule("'*'", "'*'", "'*'")), false, Config{}, RuleClusterAdminBinding, SeverityError},
		{"cluster-admin for system:", []string{crb("admins", "cluster-admin", userS("system:ops"))}, true, Config{}, RuleClusterAdminBinding, ""},
		{"secrets read cluster-wide", bound(rule("list", core, "secrets")), false, Config{}, RuleSecretsReadCluster, SeverityError},
		{"secrets read in a namespace is not cluster-wide", boundIn("app", rule("list", core, "secrets")), false, Config{}, RuleSecretsReadCluster, ""},
		{"secrets read in a namespace", boundIn("app", rule("get", core, "secrets")), false, Config{}, RuleSecretsReadNamespace, SeverityWarning},
		{"secrets read in kube-system", boundIn("kube-system", rule("watch", core, "secrets")), false, Config{}, RuleSecretsReadNamespace, SeverityError},
		{"secrets read in a configured privileged namespace", boundIn("ingress", rule("watch", core, "secrets")), false, Config{PrivilegedNamespaces: []string{"ingress"}}, RuleSecretsReadNamespace, SeverityError},
		{"named secret only", boundIn("app", `{verbs: [get], apiGroups: [""], resources: [secrets], resourceNames: [tls]}`), false, Config{}, RuleSecretsReadNamespace, ""},
		{"secrets write", bound(rule("create", core, "secrets")), false, Config{}, RuleSecretsWrite, SeverityWarning},
		{"no secrets write", bound(rule("get", core, "secrets")), false, Config{}, RuleSecretsWrite, ""},
		{"escalate in a Role", []string{role("app", "r", rule("escalate", rbacG, "roles")), rb("app", "b", "Role", "r", userS("alice"))}, false, Config{}, RuleEscalate, SeverityWarning},
		{"escalate clusterroles cluster-wide", bound(rule("escalate", rbacG, "clusterroles")), false, Config{}, RuleEscalate, SeverityError},
		{"no escalate", bound(rule("get", rbacG, "roles")), false, Config{}, RuleEscalate, ""},
		{"bind", bound(rule("bind", rbacG, "clusterroles")), false, Config{}, RuleBind, SeverityError},
		{"bind only named roles", bound(`{verbs: [bind], apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], resourceNames: [view]}`), false, Config{}, RuleBind, ""},
		{"impersonate uids", bound(rule("impersonate", "authentication.k8s.io", "uids")), false, Config{}, RuleImpersonate, SeverityError},
		{"impersonate user extras", bound(rule("impersonate", "authentication.k8s.io", "userextras/scopes")), false, Config{}, RuleImpersonate, SeverityError},
		{"impersonate service accounts in a Role", []string{role("app", "r", rule("impersonate", core, "serviceaccounts")), rb("app", "b", "Role", "r", userS("alice"))}, false, Config{}, RuleImpersonate, SeverityWarning},
		{"impersonate users through a RoleBinding grants nothing", boundIn("app", rule("impersonate", core, "users")), false, Config{}, RuleImpersonate, ""},
		{"impersonate one service account", bound(`{verbs: [impersonate], apiGroups: [""], resources: [serviceaccounts], resourceNames: [builder]}`), false, Config{}, RuleImpersonate, ""},
		{"create rolebindings", boundIn("app", rule("create", rbacG, "rolebindings")), false, Config{}, RuleBindingsCreate, SeverityInfo},
		{"create clusterrolebindings", bound(rule("create", rbacG, "clusterrolebindings")), false, Config{}, RuleBindingsCreate, SeverityError},
		{"read rolebindings", bound(rule("get,list", rbacG, "rolebindings")), false, Config{}, RuleBindingsCreate, ""},
		{"create deployments", boundIn("app", rule("create", apps, "deployments")), false, Config{}, RuleWorkloadsCreate, SeverityInfo},
		{"create pods cluster-wide", bound(rule("create", core, "pods")), false, Config{}, RuleWorkloadsCreate, SeverityWarning},
		{"read deployments", bound(rule("get", apps, "deployments")), false, Config{}, RuleWorkloadsCreate, ""},
		{"exec", bound(rule("create", core, "pods/exec")), false, Config{}, RulePodsExec, SeverityWarning},
		{"attach via get", bound(rule("get", core, "pods/attach")), false, Config{}, RulePodsExec, SeverityWarning},
		{"logs are not exec", bound(rule("get", core, "pods/log")), false, Config{}, RulePodsExec, ""},
		{"port-forward", bound(rule("create", core, "pods/portforward")), false, Config{}, RulePodsPortForward, SeverityWarning},
		{"no port-forward", bound(rule("get", core, "pods")), false, Config{}, RulePodsPortForward, ""},
		{"ephemeral containers", bound(rule("patch", core, "pods/ephemeralcontainers")), false, Config{}, RulePodsEphemeral, SeverityWarning},
		{"read ephemeral containers", bound(rule("get", core, "pods/ephemeralcontainers")), false, Config{}, RulePodsEphemeral, ""},
		{"nodes/proxy", bound(rule("get", core, "nodes/proxy")), false, Config{}, RuleNodesProxy, SeverityError},
		{"nodes/proxy via RoleBinding grants nothing", boundIn("app", rule("get", core, "nodes/proxy")), false, Config{}, RuleNodesProxy, ""},
		{"token create", boundIn("app", rule("create", core, "serviceaccounts/token")), false, Config{}, RuleTokenCreate, SeverityInfo},
		{"token for one account", boundIn("app", `{verbs: [create], apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [builder]}`), false, Config{}, RuleTokenCreate, ""},
		{"csr approve", bound(rule("approve", "certificates.k8s.io", "signers") + ", " + rule("update", "certificates.k8s.io", "certificatesigningrequests/approval")), false, Config{}, RuleCSRApprove, SeverityError},
		{"signers without approval", bound(rule("approve", "certificates.k8s.io", "signers")), false, Config{}, RuleCSRApprove, ""},
		{"webhooks", bound(rule("create", "admissionregistration.k8s.io", "validatingwebhookconfigurations")), false, Config{}, RuleAdmissionWebhooks, SeverityError},
		{"read webhooks", bound(rule("get,list", "admissionregistration.k8s.io", "validatingwebhookconfigurations")), false, Config{}, RuleAdmissionWebhooks, ""},
		{"persistent volumes", bound(rule("create", core, "persistentvolumes")), false, Config{}, RulePersistentVolumes, SeverityWarning},
		{"claims are fine", bound(rule("create", core, "persistentvolumeclaims")), false, Config{}, RulePersistentVolumes, ""},
		{"node status", bound(rule("patch", core, "nodes/status")), false, Config{}, RuleStatusModify, SeverityWarning},
		{"read node status", bound(rule("get", core, "nodes/status")), false, Config{}, RuleStatusModify, ""},
		{"steal pods", bound(rule("patch", core, "nodes") + ", " + rule("delete", core, "pods")), false, Config{}, RuleStealPods, SeverityWarning},
		{"cordon only", bound(rule("patch", core, "nodes")), false, Config{}, RuleStealPods, ""},
		{"configmaps in kube-system", boundIn("kube-system", rule("update", core, "configmaps")), false, Config{}, RuleConfigMapsModify, SeverityInfo},
		{"configmaps in an app namespace", boundIn("app", rule("update", core, "configmaps")), false, Config{}, RuleConfigMapsModify, ""},
		{"aws-auth", boundIn("kube-system", `{verbs: [update], apiGroups: [""], resources: [configmaps], resourceNames: [aws-auth]}`), false, Config{}, RuleAWSAuth, SeverityError},
		{"aws-auth elsewhere", boundIn("app", `{verbs: [update], apiGroups: [""], resources: [configmaps], resourceNames: [aws-auth]}`), false, Config{}, RuleAWSAuth, ""},
		{"delete events", bound(rule("delete", core, "events")), false, Config{}, RuleEventsDelete, SeverityInfo},
		{"read events", bound(rule("get", core, "events")), false, Config{}, RuleEventsDelete, ""},
		{"crds", bound(rule("create", "apiextensions.k8s.io", "customresourcedefinitions")), false, Config{}, RuleCRDModify, SeverityWarning},
		{"read crds", bound(rule("get", "apiextensions.k8s.io", "customresourcedefinitions")), false, Config{}, RuleCRDModify, ""},
		{"anonymous", []string{cr("r", rule("get", core, "pods")), crb("b", "r", userS("system:anonymous"))}, false, Config{}, RuleAnonymous, SeverityError},
		{"unauthenticated health", []string{cr("r", `{verbs: [get], nonResourceURLs: [/healthz]}`), crb("b", "r", groupS("system:unauthenticated"))}, false, Config{}, RuleAnonymous, ""},
		{"authenticated", []string{cr("r", rule("list", core, "pods")), crb("b", "r", groupS("system:authenticated"))}, false, Config{}, RuleAuthenticated, SeverityWarning},
		{"authenticated secrets", []string{cr("r", rule("list", core, "secrets")), crb("b", "r", groupS("system:authenticated"))}, false, Config{}, RuleAuthenticated, SeverityError},
		{"authenticated discovery", []string{cr("r", `{verbs: [get], nonResourceURLs: [/version, /apis/*]}`), crb("b", "r", groupS("system:authenticated"))}, false, Config{}, RuleAuthenticated, ""},
		{"system:masters", []string{cr("r", rule("get", core, "pods")), crb("b", "r", groupS("system:masters"))}, false, Config{}, RuleSystemMasters, SeverityInfo},
		{"no system:masters", []string{cr("r", rule("get", core, "pods")), crb("b", "r", groupS("ops"))}, false, Config{}, RuleSystemMasters, ""},
		{"default service account", []string{cr("r", rule("get", core, "pods")), rb("app", "b", "ClusterRole", "r", sa("", "default"))}, false, Config{}, RuleDefaultServiceAccount, SeverityWarning},
		{"dedicated service account", []string{cr("r", rule("get", core, "pods")), rb("app", "b", "ClusterRole", "r", sa("", "builder"))}, false, Config{}, RuleDefaultServiceAccount, ""},
		{"missing role", []string{rb("app", "b", "Role", "nope", userS("alice"))}, false, Config{}, RuleMissingRole, SeverityWarning},
		{"existing default role", []string{rb("app", "b", "ClusterRole", "view", userS("alice"))}, true, Config{}, RuleMissingRole, ""},
		{"service account without namespace", []string{cr("r", rule("get", core, "pods")), crb("b", "r", sa("", "builder"))}, false, Config{}, RuleSANoNamespace, SeverityError},
		{"service account without namespace in a RoleBinding", []string{cr("r", rule("get", core, "pods")), rb("app", "b", "ClusterRole", "r", sa("", "builder"))}, false, Config{}, RuleSANoNamespace, ""},
		{"role not bound", []string{cr("r", rule("get", core, "pods"))}, false, Config{}, RuleRoleNotBound, SeverityInfo},
		{"role bound", bound(rule("get", core, "pods")), false, Config{}, RuleRoleNotBound, ""},
		{"duplicate rule", bound(rule("get", core, "pods") + ", " + rule("get", core, "pods")), false, Config{}, RuleDuplicateRule, SeverityInfo},
		{"distinct rules", bound(rule("get", core, "pods") + ", " + rule("get", core, "services")), false, Config{}, RuleDuplicateRule, ""},
		{"shadowed rule", bound(rule("get,list", core, "pods,services") + ", " + rule("get", core, "pods")), false, Config{}, RuleShadowedRule, SeverityInfo},
		{"shadowed by wildcard", bound(rule("'*'", core, "pods") + ", " + `{verbs: [get], apiGroups: [""], resources: [pods], resourceNames: [web]}`), false, Config{}, RuleShadowedRule, SeverityInfo},
		{"overlapping, not shadowed", bound(rule("get,list", core, "pods") + ", " + rule("get", core, "pods,services")), false, Config{}, RuleShadowedRule, ""},
		{"removed api version", []string{"apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [get], apiGroups: [''], resources: [pods]}]\n"}, false, Config{}, RuleRemovedAPIVersion, SeverityError},
		{"served api version", bound(rule("get", core, "pods")), false, Config{}, RuleRemovedAPIVersion, ""},
		{"bloat", []string{cr("r", rule("get", core, "pods")), rb("a", "b", "ClusterRole", "r", userS("alice")), rb("b", "b", "ClusterRole", "r", userS("alice")), crb("c", "r", userS("alice"))}, false, Config{MaxBindingsPerSubject: 2}, RuleBloatBindings, SeverityInfo},
		{"no bloat", []string{cr("r", rule("get", core, "pods")), rb("a", "b", "ClusterRole", "r", userS("alice")), crb("c", "r", userS("alice"))}, false, Config{MaxBindingsPerSubject: 2}, RuleBloatBindings, ""},
		{"duplicate roles", []string{role("a", "r", rule("get", core, "pods")), role("b", "r", rule("get", core, "pods"))}, false, Config{}, RuleBloatDuplicateRoles, SeverityInfo},
		{"different roles", []string{role("a", "r", rule("get", core, "pods")), role("b", "r", rule("list", core, "pods"))}, false, Config{}, RuleBloatDuplicateRoles, ""},
		{"aggregation of secrets", aggregated(rule("get", core, "secrets")), false, Config{}, RuleAggregation, SeverityError},
		{"aggregation of pods", aggregated(rule("get", core, "pods")), false, Config{}, RuleAggregation, ""},
		{"policy engine cluster-wide", bound(rule("create", "kyverno.io", "clusterpolicies")), false, Config{}, RulePolicyEngine, SeverityError},
		{"gatekeeper mutations", bound(rule("patch", "mutations.gatekeeper.sh", "assign")), false, Config{}, RulePolicyEngine, SeverityError},
		{"kyverno policies in a namespace", boundIn("app", rule("create", "kyverno.io", "policies")), false, Config{}, RulePolicyEngine, SeverityWarning},
		{"constraint templates through a RoleBinding grant nothing", boundIn("app", rule("create", "templates.gatekeeper.sh", "constrainttemplates")), false, Config{}, RulePolicyEngine, ""},
		{"read policies", bound(rule("get,list,watch", "kyverno.io", "clusterpolicies,policies")), false, Config{}, RulePolicyEngine, ""},
		{"networking cluster-wide", bound(rule("create", core, "services")), false, Config{}, RuleNetworkingModify, SeverityWarning},
		{"network policies in a namespace", boundIn("app", rule("delete", "networking.k8s.io", "networkpolicies")), false, Config{}, RuleNetworkingModify, SeverityInfo},
		{"gateway routes in kube-system", boundIn("kube-system", rule("update", "gateway.networking.k8s.io", "httproutes")), false, Config{}, RuleNetworkingModify, SeverityWarning},
		{"read services", bound(rule("get,list", core, "services,endpoints")), false, Config{}, RuleNetworkingModify, ""},
		{"workload whose account reads secrets cluster-wide", withWorkload(deployment("app", "web", "builder"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, SeverityError},
		{"workload whose account reads its namespace's secrets", withWorkload(deployment("app", "web", "builder"), cr("r", rule("get", core, "secrets")), rb("app", "b", "ClusterRole", "r", sa("", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, SeverityWarning},
		{"workload on the default account, bound through the namespace's group", withWorkload(deployment("app", "web", ""), cr("r", rule("'*'", "'*'", "'*'")), crb("b", "r", groupS("system:serviceaccounts:app"))), false, Config{}, RuleWorkloadPrivilegedSA, SeverityError},
		{"workload asks for the token its account turns off", withWorkload(deployment("app", "web", "builder", "automountServiceAccountToken: true"), serviceAccount("app", "builder", "automountServiceAccountToken: false"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, SeverityError},
		{"workload projects a token", withWorkload(deployment("app", "web", "builder", "automountServiceAccountToken: false", "volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token}}]}}]"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, SeverityError},
		{"workload without a token", withWorkload(deployment("app", "web", "builder", "automountServiceAccountToken: false"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, ""},
		{"account turns the token off", withWorkload(deployment("app", "web", "builder"), serviceAccount("app", "builder", "automountServiceAccountToken: false"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, ""},
		{"workload creating pods in its own namespace", withWorkload(deployment("app", "web", "builder"), cr("r", rule("create", core, "pods")), rb("app", "b", "ClusterRole", "r", sa("", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, ""},
		{"account bound in another namespace's name", withWorkload(deployment("app", "web", "builder"), cr("r", rule("list", core, "secrets")), crb("b", "r", sa("other", "builder"))), false, Config{}, RuleWorkloadPrivilegedSA, ""},
		{"token of an account with no permissions", withWorkload(deployment("app", "web", "builder")), false, Config{}, RuleTokenAutomount, SeverityInfo},
		{"account object with no permissions", withWorkload(serviceAccount("app", "builder")), false, Config{}, RuleTokenAutomount, SeverityInfo},
		{"token asked for explicitly", withWorkload(deployment("app", "web", "builder", "automountServiceAccountToken: true"), serviceAccount("app", "builder", "automountServiceAccountToken: false")), false, Config{}, RuleTokenAutomount, SeverityInfo},
		{"discovery only", withWorkload(deployment("app", "web", "builder")), true, Config{}, RuleTokenAutomount, SeverityInfo},
		{"token needed", withWorkload(deployment("app", "web", "builder"), cr("r", rule("get", core, "configmaps")), rb("app", "b", "ClusterRole", "r", sa("", "builder"))), false, Config{}, RuleTokenAutomount, ""},
		{"token needed through the service-account group", withWorkload(serviceAccount("app", "builder"), cr("r", rule("get", core, "configmaps")), crb("b", "r", groupS("system:serviceaccounts"))), false, Config{}, RuleTokenAutomount, ""},
		{"automount off", withWorkload(deployment("app", "web", "builder"), serviceAccount("app", "builder", "automountServiceAccountToken: false")), false, Config{}, RuleTokenAutomount, ""},
		{"cloud account others can run pods as", withWorkload(serviceAccount("app", "uploader", "  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/up'}"), cr("r", rule("create", apps, "deployments")), rb("app", "b", "ClusterRole", "r", userS("alice"))), false, Config{}, RuleCloudIAM, SeverityWarning},
		{"cloud account others can mint tokens for", withWorkload(serviceAccount("app", "uploader", "  annotations: {iam.gke.io/gcp-service-account: up@p.iam.gserviceaccount.com}"), cr("r", `{verbs: [create], apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [uploader]}`), crb("b", "r", groupS("ops"))), false, Config{}, RuleCloudIAM, SeverityWarning},
		{"cloud account nobody can act as", withWorkload(serviceAccount("app", "uploader", "  annotations: {azure.workload.identity/client-id: 00000000-0000-0000-0000-000000000000}"), cr("r", rule("create", core, "pods")), rb("other", "b", "ClusterRole", "r", userS("alice"))), false, Config{}, RuleCloudIAM, SeverityInfo},
		{"account without cloud identity", withWorkload(serviceAccount("app", "uploader"), cr("r", rule("create", core, "pods")), rb("app", "b", "ClusterRole", "r", userS("alice"))), false, Config{}, RuleCloudIAM, ""},
		{"dashboard account used by another workload", withWorkload(deployment("kubernetes-dashboard", "monitor", "kubernetes-dashboard")), false, Config{}, RuleDashboardSA, SeverityWarning},
		{"dashboard account with cluster-admin", []string{crb("dash", "cluster-admin", sa("kubernetes-dashboard", "kubernetes-dashboard"))}, true, Config{}, RuleDashboardSA, SeverityError},
		{"dashboard role bound to a user", []string{role("kubernetes-dashboard", "kubernetes-dashboard", `{verbs: [get], apiGroups: [""], resources: [secrets], resourceNames: [kubernetes-dashboard-csrf]}`), rb("kubernetes-dashboard", "b", "Role", "kubernetes-dashboard", userS("alice"))}, false, Config{}, RuleDashboardSA, SeverityInfo},
		{"the dashboard itself", withWorkload(deployment("kubernetes-dashboard", "kubernetes-dashboard", "kubernetes-dashboard"), deployment("kubernetes-dashboard", "dashboard-metrics-scraper", "kubernetes-dashboard"),
			role("kubernetes-dashboard", "kubernetes-dashboard", `{verbs: [get, update], apiGroups: [""], resources: [secrets], resourceNames: [kubernetes-dashboard-csrf]}`),
			rb("kubernetes-dashboard", "kubernetes-dashboard", "Role", "kubernetes-dashboard", sa("", "kubernetes-dashboard"))), false, Config{}, RuleDashboardSA, ""},
		{"workload on an undefined account", withWorkload(serviceAccount("app", "builder"), deployment("app", "web", "buidler")), false, Config{}, RuleMissingServiceAccount, SeverityWarning},
		{"workload on a defined account", withWorkload(serviceAccount("app", "builder"), deployment("app", "web", "builder")), false, Config{}, RuleMissingServiceAccount, ""},
		{"accounts of the namespace managed elsewhere", withWorkload(serviceAccount("other", "builder"), deployment("app", "web", "runner")), false, Config{}, RuleMissingServiceAccount, ""},
		{"workload on the default account", withWorkload(serviceAccount("app", "builder"), deployment("app", "web", "")), false, Config{}, RuleMissingServiceAccount, ""},
		{"a user's dashboard login account is not the dashboard's", []string{crb("dash", "cluster-admin", sa("kubernetes-dashboard", "kubernetes-dashboard-admin"))}, true, Config{}, RuleDashboardSA, ""},
		{"pods in the namespace of an account that reads every secret", []string{cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder")), cr("c", rule("create", core, "pods")), rb("app", "dev", "ClusterRole", "c", userS("alice"))}, false, Config{}, RuleReachPrivilegedSA, SeverityError},
		{"tokens of a named privileged account", []string{cr("r", rule("escalate", rbacG, "clusterroles")), crb("b", "r", sa("app", "builder")), cr("t", `{verbs: [create], apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [builder]}`), crb("t", "t", groupS("ci"))}, false, Config{}, RuleReachPrivilegedSA, SeverityError},
		{"tokens of another account", []string{cr("r", rule("escalate", rbacG, "clusterroles")), crb("b", "r", sa("app", "builder")), cr("t", `{verbs: [create], apiGroups: [""], resources: [serviceaccounts/token], resourceNames: [other]}`), crb("t", "t", groupS("ci"))}, false, Config{}, RuleReachPrivilegedSA, ""},
		{"pods in another namespace", []string{cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder")), cr("c", rule("create", core, "pods")), rb("web", "dev", "ClusterRole", "c", userS("alice"))}, false, Config{}, RuleReachPrivilegedSA, ""},
		{"the account holds nothing more", []string{cr("r", rule("get", core, "pods")), crb("b", "r", sa("app", "builder")), cr("c", rule("create", core, "pods")), rb("app", "dev", "ClusterRole", "c", userS("alice"))}, false, Config{}, RuleReachPrivilegedSA, ""},
		{"the subject holds it already", []string{cr("r", rule("list", core, "secrets")), crb("b", "r", sa("app", "builder"), userS("alice")), cr("c", rule("create", core, "pods")), rb("app", "dev", "ClusterRole", "c", userS("alice"))}, false, Config{}, RuleReachPrivilegedSA, ""},
		{"bad annotation", []string{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  annotations: {kauth.io/lint-ignore: 'role-not-bound'}\n"}, false, Config{}, RuleInvalidSuppression, SeverityError},
		{"good annotation", []string{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n  annotations: {kauth.io/lint-ignore: 'role-not-bound: kept for the operator'}\n"}, false, Config{}, RuleInvalidSuppression, ""},
	}
	covered := map[string][2]bool{}
	for _, tc := range tests {
		c := covered[tc.rule]
		c[boolIndex(tc.want != "")] = true
		covered[tc.rule] = c
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := lint(t, tc.docs, tc.bootstrap, tc.cfg)
			f := find(res, tc.rule)
			switch {
			case tc.want == "" && f != nil:
				t.Errorf("%s fired: %s", tc.rule, f.Message)
			case tc.want != "" && f == nil:
				t.Errorf("%s did not fire; findings: %v", tc.rule, res.Findings)
			case f != nil && f.Severity != tc.want:
				t.Errorf("%s severity = %s, want %s (%s)", tc.rule, f.Severity, tc.want, f.Message)
			}
		})
	}
	for _, r := range Rules() {
		if c := covered[r.ID]; !c[0] || !c[1] {
			t.Errorf("rule %s lacks a positive or a negative case: %v", r.ID, c)
		}
	}
}

// withWorkload is a fixture of workloads, ServiceAccounts and RBAC.
func withWorkload(docs ...string) []string { return docs }

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func aggregated(sourceRule string) []string {
	return []string{
		head + "kind: ClusterRole\nmetadata: {name: ops}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {ops: 'true'}}]\n",
		head + "kind: ClusterRole\nmetadata: {name: src, labels: {ops: 'true'}}\nrules: [" + sourceRule + "]\n",
		crb("ops", "ops", userS("alice")),
	}
}

func TestFindingShape(t *testing.T) {
	t.Parallel()
	docs := []string{cr("reader", rule("get,list", `""`, "secrets")), crb("readers", "reader", userS("alice"), groupS("auditors")), rb("app", "app-readers", "ClusterRole", "reader", sa("", "ci"))}
	res := lint(t, docs, false, Config{})
	f := find(res, RuleSecretsReadCluster)
	if f == nil {
		t.Fatalf("no %s finding: %v", RuleSecretsReadCluster, res.Findings)
	}
	want := Finding{Rule: RuleSecretsReadCluster, Severity: SeverityError, File: "test.yaml", Line: 1, Kind: "ClusterRole", Name: "reader",
		Message:  `ClusterRole "reader" rule 0 grants read secrets cluster-wide to Group "auditors", User "alice" via ClusterRoleBinding "readers"`,
		Subjects: []Subject{{Kind: "Group", Name: "auditors"}, {Kind: "User", Name: "alice"}},
		Bindings: f.Bindings, Hint: mustRule(RuleSecretsReadCluster).Hint}
	if d := cmpDiff(want, *f); d != "" {
		t.Errorf("finding mismatch (-want +got):\n%s", d)
	}
	ns := find(res, RuleSecretsReadNamespace)
	if ns == nil || !slices.Contains(ns.Subjects, Subject{Kind: "ServiceAccount", Name: "ci", Namespace: "app"}) || ns.Severity != SeverityWarning {
		t.Errorf("namespaced finding = %+v, want ServiceAccount app/ci at warning", ns)
	}
}

// TestRulesDocumented keeps docs/rbac.md in step with the catalog: every
// rule is listed with its equivalents.
func TestRulesDocumented(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/rbac.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, r := range Rules() {
		row := "| `" + r.ID + "` | " + string(r.Severity) + " | " + r.Title + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/rbac.md lacks the row of %s: %q", r.ID, row)
		}
		for _, eq := range r.Equivalents {
			if !strings.Contains(doc, eq) {
				t.Errorf("docs/rbac.md lacks %s's equivalent %q", r.ID, eq)
			}
		}
	}
}

func TestWorkloadFindingShape(t *testing.T) {
	t.Parallel()
	docs := []string{deployment("app", "web", "builder"), cr("r", rule("list", `""`, "secrets")), crb("b", "r", sa("app", "builder")),
		rb("app", "local", "ClusterRole", "r", groupS("system:serviceaccounts:app"))}
	res := lint(t, docs, false, Config{})
	f := find(res, RuleWorkloadPrivilegedSA)
	if f == nil {
		t.Fatalf("no %s finding: %v", RuleWorkloadPrivilegedSA, res.Findings)
	}
	want := Finding{Rule: RuleWorkloadPrivilegedSA, Severity: SeverityError, File: "test.yaml", Line: 1, Kind: "Deployment", Name: "web", Namespace: "app",
		Message: `Deployment "app/web" runs as ServiceAccount "app/builder" with its token mounted; the account holds read secrets cluster-wide via ClusterRoleBinding "b" (ClusterRole "r"), ` +
			`read secrets in namespace "app" via RoleBinding "app/local" (ClusterRole "r")`,
		Subjects: []Subject{{Kind: "ServiceAccount", Name: "builder", Namespace: "app"}},
		Bindings: []rbac.ObjectKey{{Kind: "ClusterRoleBinding", Name: "b"}, {Kind: "RoleBinding", Namespace: "app", Name: "local"}},
		Hint:     mustRule(RuleWorkloadPrivilegedSA).Hint}
	if d := cmpDiff(want, *f); d != "" {
		t.Errorf("finding mismatch (-want +got):\n%s", d)
	}
}

// TestAccountSuppressions: an annotation on a ServiceAccount silences its
// findings, and an allowed subject is not an actor.
func TestAccountSuppressions(t *testing.T) {
	t.Parallel()
	cloud := "  annotations: {eks.amazonaws.com/role-arn: 'arn:aws:iam::1:role/up'}"
	grant := []string{cr("r", rule("create", `""`, "pods")), rb("app", "b", "ClusterRole", "r", userS("alice"))}
	tests := []struct {
		name string
		docs []string
		cfg  Config
		want Severity
	}{
		{"reported", append([]string{serviceAccount("app", "up", cloud)}, grant...), Config{}, SeverityWarning},
		{"annotated", append([]string{serviceAccount("app", "up", "  annotations: {eks.amazonaws.com/role-arn: x, kauth.io/lint-ignore: 'cloud-iam-service-account: owned by the data team'}")}, grant...), Config{}, ""},
		{"allowed actor", append([]string{serviceAccount("app", "up", cloud)}, grant...),
			Config{AllowSubjects: []AllowSubject{{Kind: "User", Name: "alice", Suppression: Suppression{Rules: []string{RuleCloudIAM}, Reason: "deployer"}}}}, SeverityInfo},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := find(lint(t, tc.docs, false, tc.cfg), RuleCloudIAM)
			switch {
			case tc.want == "" && f != nil:
				t.Errorf("fired: %s", f.Message)
			case tc.want != "" && (f == nil || f.Severity != tc.want):
				t.Errorf("finding = %+v, want severity %s", f, tc.want)
			}
		})
	}
}
