package admission

import (
	"fmt"
	"slices"
	"strings"
)

// Plugin names, as kube-apiserver spells them.
const (
	AlwaysAdmit                = "AlwaysAdmit"
	NamespaceLifecycle         = "NamespaceLifecycle"
	LimitRanger                = "LimitRanger"
	ServiceAccount             = "ServiceAccount"
	AlwaysPullImages           = "AlwaysPullImages"
	PodSecurity                = "PodSecurity"
	MutatingAdmissionWebhook   = "MutatingAdmissionWebhook"
	ValidatingAdmissionWebhook = "ValidatingAdmissionWebhook"
	ValidatingAdmissionPolicy  = "ValidatingAdmissionPolicy"
	MutatingAdmissionPolicy    = "MutatingAdmissionPolicy"
	ResourceQuota              = "ResourceQuota"
	AlwaysDeny                 = "AlwaysDeny"
	// NamespaceCreator is kauth's own: it records the user creating a
	// Namespace in [CreatedByAnnotation]. It runs right after
	// NamespaceLifecycle and is off by default.
	NamespaceCreator = "NamespaceCreator"
)

// orderedPlugins is kube-apiserver v1.37's AllOrderedPlugins
// (pkg/kubeapiserver/options/plugins.go) with kauth's NamespaceCreator
// after NamespaceLifecycle.
var orderedPlugins = []string{
	AlwaysAdmit,
	"NamespaceAutoProvision",
	NamespaceLifecycle,
	NamespaceCreator,
	"NamespaceExists",
	"LimitPodHardAntiAffinityTopology",
	LimitRanger,
	ServiceAccount,
	"NodeRestriction",
	"TaintNodesByCondition",
	AlwaysPullImages,
	"ImagePolicyWebhook",
	PodSecurity,
	"PodNodeSelector",
	"Priority",
	"DefaultTolerationSeconds",
	"PodTolerationRestriction",
	"EventRateLimit",
	"ExtendedResourceToleration",
	"DefaultStorageClass",
	"StorageObjectInUseProtection",
	"PodGroupProtection",
	"OwnerReferencesPermissionEnforcement",
	"PersistentVolumeClaimResize",
	"RuntimeClass",
	"CertificateApproval",
	"CertificateSigning",
	"ClusterTrustBundleAttest",
	"CertificateSubjectRestriction",
	"DefaultIngressClass",
	"DenyServiceExternalIPs",
	"PodTopologyLabels",
	"NodeDeclaredFeatureValidator",
	"PodResizeValidator",
	MutatingAdmissionPolicy,
	MutatingAdmissionWebhook,
	ValidatingAdmissionPolicy,
	ValidatingAdmissionWebhook,
	ResourceQuota,
	AlwaysDeny,
}

// defaultOn is kube-apiserver v1.37's default enabled set (the complement
// of DefaultOffAdmissionPlugins).
var defaultOn = []string{
	NamespaceLifecycle, LimitRanger, ServiceAccount, "DefaultStorageClass",
	"PersistentVolumeClaimResize", "DefaultTolerationSeconds",
	MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota,
	"StorageObjectInUseProtection", "PodGroupProtection", "Priority",
	"TaintNodesByCondition", "RuntimeClass", "CertificateApproval",
	"CertificateSigning", "ClusterTrustBundleAttest",
	"CertificateSubjectRestriction", "DefaultIngressClass", PodSecurity,
	"PodTopologyLabels", MutatingAdmissionPolicy, ValidatingAdmissionPolicy,
	"NodeDeclaredFeatureValidator", "PodResizeValidator",
}

// implemented lists the plugins kauth runs; the others are accepted by
// name (kube-apiserver knows them) and reported as skipped.
var implemented = []string{
	AlwaysAdmit, NamespaceLifecycle, NamespaceCreator, LimitRanger,
	ServiceAccount, AlwaysPullImages, PodSecurity, MutatingAdmissionPolicy,
	MutatingAdmissionWebhook, ValidatingAdmissionPolicy,
	ValidatingAdmissionWebhook, ResourceQuota, AlwaysDeny,
}

// OrderedPlugins returns every plugin name kube-apiserver accepts (plus
// NamespaceCreator), in the order they run.
func OrderedPlugins() []string { return slices.Clone(orderedPlugins) }

// DefaultEnabled returns the plugins enabled without flags, in order.
func DefaultEnabled() []string {
	var out []string
	for _, n := range orderedPlugins {
		if slices.Contains(defaultOn, n) {
			out = append(out, n)
		}
	}
	return out
}

// Selection is the outcome of the admission flags: the plugins that run,
// in order, and the enabled ones kauth does not implement.
type Selection struct {
	Enabled []string `json:"enabled"`
	Skipped []string `json:"skipped,omitempty"`
}

// Select applies --enable-admission-plugins and --disable-admission-plugins
// as kube-apiserver does: the default set plus enable minus disable, in
// the fixed order whatever the flags' order; unknown names and a name in
// both lists are errors.
func Select(enable, disable []string) (Selection, error) {
	var errs []string
	for _, n := range enable {
		if !slices.Contains(orderedPlugins, n) {
			errs = append(errs, fmt.Sprintf("enable-admission-plugins plugin %q is unknown", n))
		}
	}
	for _, n := range disable {
		if !slices.Contains(orderedPlugins, n) {
			errs = append(errs, fmt.Sprintf("disable-admission-plugins plugin %q is unknown", n))
		}
	}
	var both []string
	for _, n := range enable {
		if slices.Contains(disable, n) && !slices.Contains(both, n) {
			both = append(both, n)
		}
	}
	if len(both) > 0 {
		slices.Sort(both)
		errs = append(errs, fmt.Sprintf("[%s] in enable-admission-plugins and disable-admission-plugins overlapped", strings.Join(both, " ")))
	}
	if len(errs) > 0 {
		return Selection{}, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var s Selection
	for _, n := range orderedPlugins {
		on := (slices.Contains(defaultOn, n) || slices.Contains(enable, n)) && !slices.Contains(disable, n)
		switch {
		case !on:
		case slices.Contains(implemented, n):
			s.Enabled = append(s.Enabled, n)
		default:
			s.Skipped = append(s.Skipped, n)
		}
	}
	return s, nil
}
