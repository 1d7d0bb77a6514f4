package rbac

import (
	"fmt"
	"strings"
)

// APIResource is one built-in resource of Kubernetes v1.37, as discovery
// lists it: what kubectl needs to resolve names and what an access matrix
// needs to know about scope and verbs.
type APIResource struct {
	Group      string   `json:"group"`
	Version    string   `json:"version"`
	Resource   string   `json:"resource"` // plural
	Kind       string   `json:"kind"`
	ShortNames []string `json:"shortNames,omitempty"`
	Namespaced bool     `json:"namespaced"`
	Verbs      []string `json:"verbs"`
}

// GroupResource renders "resource.group" ("pods" for the core group).
func (r APIResource) GroupResource() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// builtinResources is the discovery document of a v1.37 kube-apiserver
// with its default API groups (generally available and default-on beta
// APIs), in discovery order: kubectl prefers the first group that has a
// resource ("events" is core's, not events.k8s.io's).
func builtinResources() []APIResource {
	crud := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	createOnly := []string{"create"}
	noColl := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	return []APIResource{
		{"", "v1", "bindings", "Binding", nil, true, createOnly},
		{"", "v1", "componentstatuses", "ComponentStatus", []string{"cs"}, false, []string{"get", "list"}},
		{"", "v1", "configmaps", "ConfigMap", []string{"cm"}, true, crud},
		{"", "v1", "endpoints", "Endpoints", []string{"ep"}, true, crud},
		{"", "v1", "events", "Event", []string{"ev"}, true, crud},
		{"", "v1", "limitranges", "LimitRange", []string{"limits"}, true, crud},
		{"", "v1", "namespaces", "Namespace", []string{"ns"}, false, noColl},
		{"", "v1", "nodes", "Node", []string{"no"}, false, crud},
		{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", []string{"pvc"}, true, crud},
		{"", "v1", "persistentvolumes", "PersistentVolume", []string{"pv"}, false, crud},
		{"", "v1", "pods", "Pod", []string{"po"}, true, crud},
		{"", "v1", "podtemplates", "PodTemplate", nil, true, crud},
		{"", "v1", "replicationcontrollers", "ReplicationController", []string{"rc"}, true, crud},
		{"", "v1", "resourcequotas", "ResourceQuota", []string{"quota"}, true, crud},
		{"", "v1", "secrets", "Secret", nil, true, crud},
		{"", "v1", "serviceaccounts", "ServiceAccount", []string{"sa"}, true, crud},
		{"", "v1", "services", "Service", []string{"svc"}, true, crud},
		{"admissionregistration.k8s.io", "v1", "mutatingadmissionpolicies", "MutatingAdmissionPolicy", nil, false, crud},
		{"admissionregistration.k8s.io", "v1", "mutatingadmissionpolicybindings", "MutatingAdmissionPolicyBinding", nil, false, crud},
		{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", nil, false, crud},
		{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", nil, false, crud},
		{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", nil, false, crud},
		{"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", nil, false, crud},
		{"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", []string{"crd", "crds"}, false, crud},
		{"apiregistration.k8s.io", "v1", "apiservices", "APIService", nil, false, crud},
		{"apps", "v1", "controllerrevisions", "ControllerRevision", nil, true, crud},
		{"apps", "v1", "daemonsets", "DaemonSet", []string{"ds"}, true, crud},
		{"apps", "v1", "deployments", "Deployment", []string{"deploy"}, true, crud},
		{"apps", "v1", "replicasets", "ReplicaSet", []string{"rs"}, true, crud},
		{"apps", "v1", "statefulsets", "StatefulSet", []string{"sts"}, true, crud},
		{"authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", nil, false, createOnly},
		{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", nil, false, createOnly},
		{"authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", nil, true, createOnly},
		{"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", nil, false, createOnly},
		{"authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", nil, false, createOnly},
		{"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", nil, false, createOnly},
		{"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", []string{"hpa"}, true, crud},
		{"batch", "v1", "cronjobs", "CronJob", []string{"cj"}, true, crud},
		{"batch", "v1", "jobs", "Job", nil, true, crud},
		{"certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", []string{"csr"}, false, crud},
		{"coordination.k8s.io", "v1", "leases", "Lease", nil, true, crud},
		{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", nil, true, crud},
		{"events.k8s.io", "v1", "events", "Event", []string{"ev"}, true, crud},
		{"flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", nil, false, crud},
		{"flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration", nil, false, crud},
		{"networking.k8s.io", "v1", "ingressclasses", "IngressClass", nil, false, crud},
		{"networking.k8s.io", "v1", "ingresses", "Ingress", []string{"ing"}, true, crud},
		{"networking.k8s.io", "v1", "ipaddresses", "IPAddress", []string{"ip"}, false, crud},
		{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", []string{"netpol"}, true, crud},
		{"networking.k8s.io", "v1", "servicecidrs", "ServiceCIDR", nil, false, crud},
		{"node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", nil, false, crud},
		{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", []string{"pdb"}, true, crud},
		{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", nil, false, crud},
		{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", nil, false, crud},
		{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", nil, true, crud},
		{"rbac.authorization.k8s.io", "v1", "roles", "Role", nil, true, crud},
		{"resource.k8s.io", "v1", "deviceclasses", "DeviceClass", nil, false, crud},
		{"resource.k8s.io", "v1", "resourceclaims", "ResourceClaim", nil, true, crud},
		{"resource.k8s.io", "v1", "resourceclaimtemplates", "ResourceClaimTemplate", nil, true, crud},
		{"resource.k8s.io", "v1", "resourceslices", "ResourceSlice", nil, false, crud},
		{"scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", []string{"pc"}, false, crud},
		{"storage.k8s.io", "v1", "csidrivers", "CSIDriver", nil, false, crud},
		{"storage.k8s.io", "v1", "csinodes", "CSINode", nil, false, crud},
		{"storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", nil, true, crud},
		{"storage.k8s.io", "v1", "storageclasses", "StorageClass", []string{"sc"}, false, crud},
		{"storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", nil, false, crud},
		{"storage.k8s.io", "v1", "volumeattributesclasses", "VolumeAttributesClass", []string{"vac"}, false, crud},
	}
}

// BuiltinResources returns the built-in resources of Kubernetes v1.37 in
// discovery order. The slice is a fresh copy.
func BuiltinResources() []APIResource { return builtinResources() }

// nonStandardResources are names kubectl auth can-i accepts without a
// warning although no API serves them: impersonation checks use them.
var nonStandardResources = map[string]bool{"users": true, "groups": true}

// ResolveResource resolves a resource argument the way "kubectl auth
// can-i" does with a RESTMapper over discovery: "*" as is; "RESOURCE.GROUP"
// or a plural, singular, kind or short name, case-insensitively, the first
// group in discovery order winning. An unknown name is returned as given
// (ok false), so the question can still be asked, as kubectl does after
// its warning; users and groups are not warned about.
func ResolveResource(arg string) (res APIResource, ok bool, warning string) {
	if arg == "*" {
		return APIResource{Resource: "*"}, true, ""
	}
	lower := strings.ToLower(arg)
	all := builtinResources()
	if r, found := findResource(all, lower, "", false); found {
		return r, true, ""
	}
	if name, group, dotted := strings.Cut(lower, "."); dotted {
		if r, found := findResource(all, name, group, true); found {
			return r, true, ""
		}
		if !nonStandardResources[lower] {
			warning = fmt.Sprintf("the server doesn't have a resource type '%s' in group '%s'", name, group)
		}
		return APIResource{Resource: arg}, false, warning
	}
	if !nonStandardResources[lower] {
		warning = fmt.Sprintf("the server doesn't have a resource type '%s'", lower)
	}
	return APIResource{Resource: arg}, false, warning
}

func findResource(all []APIResource, name, group string, byGroup bool) (APIResource, bool) {
	for _, r := range all {
		if byGroup && r.Group != group {
			continue
		}
		if r.Resource == name || strings.ToLower(r.Kind) == name || contains(r.ShortNames, name) {
			return r, true
		}
	}
	return APIResource{}, false
}
