package rbaclint

import (
	"fmt"
	"slices"
)

// Severity ranks a finding.
type Severity string

// The severities, from least to most severe.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// Rank orders severities: info 1, warning 2, error 3, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityWarning:
		return 2
	case SeverityError:
		return 3
	}
	return 0
}

// ParseSeverity reads error, warning or info.
func ParseSeverity(s string) (Severity, error) {
	if v := Severity(s); v.Rank() > 0 {
		return v, nil
	}
	return "", fmt.Errorf("severity %q: must be error, warning or info", s)
}

// lower is the severity one step down (info stays info): a namespaced
// grant outside the privileged namespaces.
func (s Severity) lower() Severity {
	if s == SeverityError {
		return SeverityWarning
	}
	return SeverityInfo
}

// Rule describes one check. IDs are stable: configuration files and
// annotations name them.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"` // for a cluster-wide grant
	Title    string   `json:"title"`
	Hint     string   `json:"hint"`
	// Equivalents are the IDs of the same check in other scanners
	// (Trivy KSV, Kubescape C-, kube-linter, rbac-police, rbac-tool, krane,
	// KubiScan).
	Equivalents []string `json:"equivalents,omitempty"`
}

// The rule IDs.
const (
	RuleFullWildcard          = "full-wildcard"
	RuleWildcardVerbs         = "wildcard-verbs"
	RuleWildcardResources     = "wildcard-resources"
	RuleWildcardAPIGroups     = "wildcard-api-groups"
	RuleWildcardURLs          = "wildcard-non-resource-urls"
	RuleClusterAdminBinding   = "cluster-admin-binding"
	RuleSecretsReadCluster    = "secrets-read-cluster"
	RuleSecretsReadNamespace  = "secrets-read-namespace"
	RuleSecretsWrite          = "secrets-write"
	RuleEscalate              = "escalate-verb"
	RuleBind                  = "bind-verb"
	RuleImpersonate           = "impersonate-verb"
	RuleBindingsCreate        = "bindings-create"
	RuleWorkloadsCreate       = "workloads-create"
	RulePodsExec              = "pods-exec"
	RulePodsPortForward       = "pods-portforward"
	RulePodsEphemeral         = "pods-ephemeral-containers"
	RuleNodesProxy            = "nodes-proxy"
	RuleTokenCreate           = "serviceaccount-token-create"
	RuleCSRApprove            = "csr-approve"
	RuleAdmissionWebhooks     = "admission-webhooks"
	RulePersistentVolumes     = "persistentvolumes-create"
	RuleStatusModify          = "status-modify"
	RuleStealPods             = "steal-pods"
	RuleConfigMapsModify      = "configmaps-modify"
	RuleAWSAuth               = "aws-auth-modify"
	RuleEventsDelete          = "events-delete"
	RuleCRDModify             = "crd-modify"
	RuleAnonymous             = "anonymous-access"
	RuleAuthenticated         = "authenticated-access"
	RuleSystemMasters         = "system-masters-subject"
	RuleDefaultServiceAccount = "default-service-account"
	RuleMissingRole           = "missing-role"
	RuleSANoNamespace         = "serviceaccount-without-namespace"
	RuleRoleNotBound          = "role-not-bound"
	RuleDuplicateRule         = "duplicate-rule"
	RuleShadowedRule          = "shadowed-rule"
	RuleRemovedAPIVersion     = "removed-api-version"
	RuleBloatBindings         = "bloat-bindings-per-subject"
	RuleBloatDuplicateRoles   = "bloat-duplicate-roles"
	RuleAggregation           = "aggregation-pulls-risky-rules"
	RuleInvalidSuppression    = "invalid-lint-ignore"
	RulePolicyEngine          = "policy-engine-modify"
	RuleNetworkingModify      = "networking-modify"
	RuleWorkloadPrivilegedSA  = "workload-privileged-service-account"
	RuleTokenAutomount        = "token-automount-unneeded"
	RuleCloudIAM              = "cloud-iam-service-account"
	RuleDashboardSA           = "dashboard-service-account"
	RuleMissingServiceAccount = "workload-missing-service-account"
	RuleReachPrivilegedSA     = "privileged-service-account-reachable"
)

var catalog = []Rule{
	{RuleFullWildcard, SeverityError, "all verbs on all resources in all API groups (cluster-admin equivalent)",
		"grant the verbs and resources the subject needs instead of *", []string{"KSV-0044", "C-0187", "kube-linter wildcard-in-rules", "krane subjects-with-open-cluster-wide-access", "KubiScan */* CRITICAL"}},
	{RuleWildcardVerbs, SeverityWarning, "wildcard verbs", "list the verbs instead of *; * also grants escalate, bind, impersonate and verbs added later",
		[]string{"KSV-0045", "C-0187", "kube-linter wildcard-in-rules", "krane risky-any-verb-*"}},
	{RuleWildcardResources, SeverityWarning, "wildcard resources", "list the resources instead of *; * also grants secrets and resources added later",
		[]string{"KSV-0046", "KSV-0112", "C-0187", "kube-linter wildcard-in-rules", "krane risky-any-resource-*"}},
	{RuleWildcardAPIGroups, SeverityInfo, "wildcard API groups", "list the API groups instead of *", []string{"C-0187", "kube-linter wildcard-in-rules"}},
	{RuleWildcardURLs, SeverityWarning, "wildcard non-resource URLs", "list the paths (such as /healthz, /metrics) instead of *", []string{"C-0187", "kube-linter wildcard-in-rules"}},
	{RuleClusterAdminBinding, SeverityError, "cluster-admin (or an equivalent wildcard role) bound outside system:",
		"bind a role with the permissions the subject needs; keep cluster-admin for break-glass accounts",
		[]string{"KSV-0111", "C-0185", "C-0035", "kube-linter cluster-admin-role-binding", "rbac-police cluster_admin"}},
	{RuleSecretsReadCluster, SeverityError, "read access to secrets in every namespace", "grant get on named secrets in one namespace with a RoleBinding",
		[]string{"KSV-0041", "C-0015", "C-0186", "kube-linter access-to-secrets", "rbac-police list_secrets", "rbac-police retrieve_token_secrets", "rbac-tool Secret Readers", "krane risky-get-secrets", "krane risky-list-secrets"}},
	{RuleSecretsReadNamespace, SeverityWarning, "read access to the secrets of a namespace", "restrict the rule with resourceNames to the secrets the subject needs",
		[]string{"KSV-0113", "C-0015", "C-0186", "kube-linter access-to-secrets", "krane risky-get-secrets", "krane risky-list-secrets"}},
	{RuleSecretsWrite, SeverityWarning, "create or modify secrets (can mint service-account token secrets)", "restrict the rule with resourceNames, or let a controller manage these secrets",
		[]string{"KSV-0041", "rbac-police issue_token_secrets"}},
	{RuleEscalate, SeverityError, "escalate on roles or clusterroles (grant any permission by editing a role)", "remove escalate; edit roles through a reviewed pipeline",
		[]string{"KSV-0050", "C-0191", "rbac-police escalate_roles", "rbac-tool Privilege Escalators via bind or escalate"}},
	{RuleBind, SeverityError, "bind on roles or clusterroles (bind roles with permissions the subject lacks)", "remove bind, or restrict it with resourceNames to harmless roles",
		[]string{"KSV-0050", "C-0191", "rbac-police bind_roles", "rbac-tool Privilege Escalators via bind or escalate"}},
	{RuleImpersonate, SeverityError, "impersonate users, groups, service accounts, user extras or UIDs", "remove impersonate, or restrict it with resourceNames to specific unprivileged identities",
		[]string{"KSV-0043", "C-0065", "C-0191", "rbac-police impersonate", "rbac-tool Privilege Escalators via impersonate", "krane risky-impersonate-privileged-groups", "KubiScan impersonate"}},
	{RuleBindingsCreate, SeverityWarning, "create or modify RoleBindings or ClusterRoleBindings", "let a reviewed pipeline manage bindings; grant the subject only what it needs",
		[]string{"KSV-0051", "KSV-0052", "KSV-0055", "C-0191", "krane risky-create-rolebinding-role", "krane risky-create-rolebinding-clusterrole", "krane risky-create-clusterrolebinding", "krane risky-add-rolebinding", "krane subjects-with-rbac-management"}},
	{RuleWorkloadsCreate, SeverityWarning, "create pods or pod-owning workloads (runs as any service account of the namespace)",
		"grant this in namespaces whose service accounts hold no more than the subject may hold",
		[]string{"KSV-0048", "C-0188", "kube-linter access-to-create-pods", "rbac-police assign_sa", "rbac-police modify_pods", "rbac-tool Workload Creators & Editors", "krane risky-create-*", "KubiScan create pods"}},
	{RulePodsExec, SeverityWarning, "pods/exec or pods/attach (run commands in running containers)", "grant exec only in namespaces the subject operates, or use ephemeral debugging with review",
		[]string{"KSV-0053", "KSV-0054", "C-0002", "rbac-police pods_exec", "rbac-tool Exec into Pod", "krane risky-exec-pods", "krane risky-attach-pods"}},
	{RulePodsPortForward, SeverityWarning, "pods/portforward (reach any port of a pod)", "grant port-forward only where needed", []string{"C-0063"}},
	{RulePodsEphemeral, SeverityWarning, "pods/ephemeralcontainers (add containers to running pods)", "remove update/patch on pods/ephemeralcontainers",
		[]string{"rbac-police pods_ephemeral_ctrs", "rbac-tool Create Ephemeral Containers"}},
	{RuleNodesProxy, SeverityError, "nodes/proxy (kubelet API: exec in any pod on the node)", "remove nodes/proxy; use metrics endpoints that do not need it",
		[]string{"KSV-0047", "C-0279", "rbac-police nodes_proxy", "rbac-tool Create Node Proxy"}},
	{RuleTokenCreate, SeverityWarning, "serviceaccounts/token create (mint tokens for service accounts)", "restrict the rule with resourceNames to the service accounts the subject may act as",
		[]string{"C-0282", "rbac-police token_request", "rbac-police obtain_token_weak_ns"}},
	{RuleCSRApprove, SeverityError, "approve CertificateSigningRequests (certificatesigningrequests/approval and signers approve)",
		"restrict signers approve with resourceNames to the signers the subject operates; never kubernetes.io/kube-apiserver-client",
		[]string{"C-0280", "rbac-police approve_csrs"}},
	{RuleAdmissionWebhooks, SeverityError, "write admission webhook or policy configurations (intercept or rewrite every request)",
		"let a reviewed pipeline manage admission configuration", []string{"KSV-0114", "C-0281", "C-0036", "C-0039", "rbac-police control_webhooks", "rbac-tool Installing or Modifying Admission Controllers",
			"rbac-tool Installing or Modifying Kubernetes Admission Policies"}},
	{RulePersistentVolumes, SeverityWarning, "create PersistentVolumes (hostPath volumes reach the node's disk)", "let a provisioner create volumes; users create claims",
		[]string{"C-0278", "rbac-tool Storage & Data"}},
	{RuleStatusModify, SeverityWarning, "modify nodes/status, pods/status or services/status", "status belongs to controllers and kubelets",
		[]string{"KSV-0056", "rbac-police modify_node_status", "rbac-police modify_pod_status", "rbac-police modify_service_status_cve_2020_8554"}},
	{RuleStealPods, SeverityWarning, "modify nodes and delete or evict pods (steal pods onto a chosen node)", "split node maintenance from pod deletion",
		[]string{"C-0007", "rbac-police steal_pods"}},
	{RuleConfigMapsModify, SeverityInfo, "modify configmaps (for instance CoreDNS's in kube-system)", "restrict the rule with resourceNames", []string{"KSV-0049", "C-0037"}},
	{RuleAWSAuth, SeverityError, "modify the aws-auth configmap in kube-system (EKS cluster access)", "manage aws-auth through EKS access entries or a reviewed pipeline",
		[]string{"KSV-0115", "rbac-police eks_modify_aws_auth"}},
	{RuleEventsDelete, SeverityInfo, "delete events (hide what happened)", "only the event TTL controller needs to delete events", []string{"KSV-0042", "C-0031"}},
	{RuleCRDModify, SeverityWarning, "create or modify CustomResourceDefinitions", "let a reviewed pipeline install CRDs", []string{"rbac-tool Installing or Modifying Cluster Extensions (CRDs)"}},
	{RuleAnonymous, SeverityError, "grant to system:anonymous or system:unauthenticated", "bind to authenticated users or groups instead",
		[]string{"KSV-0122", "C-0262", "krane unauthenticated-subject-access"}},
	{RuleAuthenticated, SeverityWarning, "grant to system:authenticated beyond discovery (every user and service account)", "bind to a specific group instead",
		[]string{"KSV-01011", "C-0265", "krane unauthenticated-subject-access"}},
	{RuleSystemMasters, SeverityInfo, "binding to the group system:masters (allowed ahead of RBAC; the binding changes nothing)", "remove the binding; system:masters cannot be restricted by RBAC",
		[]string{"KSV-0123", "C-0246"}},
	{RuleDefaultServiceAccount, SeverityWarning, "grant to a namespace's default service account (every pod without serviceAccountName gets it)", "create a dedicated service account and bind that",
		[]string{"C-0189", "C-0225", "kube-linter default-service-account"}},
	{RuleMissingRole, SeverityWarning, "binding to a role that does not exist", "create the role or fix roleRef", []string{"krane subjects-with-non-existing-roles"}},
	{RuleSANoNamespace, SeverityError, "ServiceAccount subject without namespace in a ClusterRoleBinding (matches nobody)", "set subjects[].namespace", nil},
	{RuleRoleNotBound, SeverityInfo, "role never bound", "bind it or remove it", nil},
	{RuleDuplicateRule, SeverityInfo, "rule repeated in the same role", "remove the copy", nil},
	{RuleShadowedRule, SeverityInfo, "rule already allowed by a broader rule of the same role", "remove the narrower rule or the broader one", nil},
	{RuleRemovedAPIVersion, SeverityError, "rbac.authorization.k8s.io/v1beta1 or v1alpha1 (no longer served)", "use apiVersion: rbac.authorization.k8s.io/v1", nil},
	{RuleBloatBindings, SeverityInfo, "very many bindings for one subject (every decision for it visits them all)", "bind one aggregated role instead of many", nil},
	{RuleBloatDuplicateRoles, SeverityInfo, "roles with identical rules (could be merged)", "keep one role and bind it everywhere", nil},
	{RuleAggregation, SeverityWarning, "aggregation rule pulls risky rules into a role", "narrow the selector or remove the label from the risky ClusterRole",
		[]string{"rbac-tool aggregated ClusterRoles"}},
	{RulePolicyEngine, SeverityError, "write Gatekeeper or Kyverno policies, mutations, exceptions or configuration (the policy engine admits and rewrites requests)",
		"let a reviewed pipeline manage policy-engine resources", []string{"rbac-tool Open Policy Agent (OPA) GateKeeper Administration", "rbac-tool Kyverno Administration"}},
	{RuleNetworkingModify, SeverityWarning, "modify services, endpoints, ingresses, network policies or Gateway API routes (redirect traffic, lift isolation)",
		"let a reviewed pipeline manage networking in shared namespaces", []string{"KSV-0056", "rbac-tool Networking - Manipulate Networking and Network Access related resources", "rbac-tool Networking - Manipulate Gateway API Resources"}},
	{RuleWorkloadPrivilegedSA, SeverityError, "workload runs as a service account that holds risky permissions, with its token mounted (a compromised container acts with them)",
		"give the workload its own service account with only what it needs, or set automountServiceAccountToken: false",
		[]string{"C-0267", "C-0272", "rbac-police (service accounts linked to pods)"}},
	{RuleTokenAutomount, SeverityInfo, "service-account token mounted although the account holds nothing beyond discovery in these files",
		"set automountServiceAccountToken: false on the ServiceAccount or the pod template", []string{"C-0034", "C-0190", "C-0261", "C-0189"}},
	{RuleCloudIAM, SeverityInfo, "service account linked to a cloud IAM identity (EKS, GKE or AKS workload identity), with who can act as it",
		"restrict who can create pods, tokens or impersonation in its namespace; give the cloud role only what the workload needs",
		[]string{"rbac-police providerIAM"}},
	{RuleDashboardSA, SeverityWarning, "the Kubernetes dashboard's service account used by other workloads, bound to others, or holding risky permissions",
		"keep the dashboard's service account to the dashboard, with read-only permissions; users log in with their own tokens",
		[]string{"C-0014"}},
	{RuleMissingServiceAccount, SeverityWarning, "workload runs as a ServiceAccount these files do not define, although they define others of its namespace",
		"create the ServiceAccount or fix serviceAccountName", []string{"kube-linter non-existent-service-account"}},
	{RuleReachPrivilegedSA, SeverityError, "subject can act as a service account that holds more than it does (create its tokens or pods in its namespace, impersonate it, exec into its pods)",
		"keep pod creation, token requests and exec out of namespaces whose service accounts hold more than the subject may",
		[]string{"rbac-police assign_sa", "rbac-police token_request", "rbac-police pods_exec"}},
	{RuleInvalidSuppression, SeverityError, "malformed kauth.io/lint-ignore annotation", "write RULE[,RULE...]: REASON[; expires YYYY-MM-DD], one per line", nil},
}

// Rules returns the catalog, sorted by ID.
func Rules() []Rule {
	out := slices.Clone(catalog)
	slices.SortFunc(out, func(a, b Rule) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// LookupRule returns the rule with the given ID.
func LookupRule(id string) (Rule, bool) {
	for _, r := range catalog {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

func mustRule(id string) Rule {
	r, ok := LookupRule(id)
	if !ok {
		panic("rbaclint: unknown rule " + id) // a programming error in the catalog
	}
	return r
}
