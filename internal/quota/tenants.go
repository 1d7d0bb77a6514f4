package quota

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// The tenants file's apiVersion and kind.
const (
	TenantsAPIVersion = "kauth.io/v1alpha1"
	TenantsKind       = "Tenants"
)

// DefaultAdminRole is the ClusterRole a tenant's admins are bound to in
// each of its namespaces.
const DefaultAdminRole = "admin"

// Tenants is the tenants file: who owns which namespaces, with what quota
// and limits, administered by whom.
type Tenants struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Defaults apply to every tenant that does not set its own.
	Defaults *TenantDefaults `json:"defaults,omitempty"`
	Tenants  []Tenant        `json:"tenants"`
}

// TenantDefaults are the quota, limits and admin role a tenant gets when
// it does not set them.
type TenantDefaults struct {
	Quota     *TenantQuota            `json:"quota,omitempty"`
	Limits    []corev1.LimitRangeItem `json:"limits,omitempty"`
	AdminRole string                  `json:"adminRole,omitempty"`
}

// Tenant is one team: its namespaces, the quota and limit range each of
// them gets, and its administrators.
type Tenant struct {
	Name       string   `json:"name"`
	Namespaces []string `json:"namespaces"`
	Admins     Admins   `json:"admins,omitzero"`
	// AdminRole is the ClusterRole the admins get in each namespace
	// ("admin" unless the defaults say otherwise).
	AdminRole string `json:"adminRole,omitempty"`
	// Quota becomes a ResourceQuota in each namespace.
	Quota *TenantQuota `json:"quota,omitempty"`
	// Limits become a LimitRange in each namespace.
	Limits []corev1.LimitRangeItem `json:"limits,omitempty"`
	// Labels and Annotations are added to each Namespace (for example
	// pod-security.kubernetes.io/enforce).
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Admins are the subjects bound to the admin role.
type Admins struct {
	Groups []string `json:"groups,omitempty"`
	Users  []string `json:"users,omitempty"`
}

// TenantQuota is a ResourceQuota's spec.
type TenantQuota struct {
	Hard          corev1.ResourceList         `json:"hard"`
	Scopes        []corev1.ResourceQuotaScope `json:"scopes,omitempty"`
	ScopeSelector *corev1.ScopeSelector       `json:"scopeSelector,omitempty"`
}

// Effective returns the tenant with the defaults filled in.
func (t *Tenants) Effective(i int) Tenant {
	tn := t.Tenants[i]
	if d := t.Defaults; d != nil {
		if tn.Quota == nil && d.Quota != nil {
			tn.Quota = d.Quota
		}
		if tn.Limits == nil {
			tn.Limits = d.Limits
		}
		if tn.AdminRole == "" {
			tn.AdminRole = d.AdminRole
		}
	}
	if tn.AdminRole == "" {
		tn.AdminRole = DefaultAdminRole
	}
	return tn
}

// validate checks what the structure cannot: names, uniqueness, values.
// lines maps a field path to its line.
func (t *Tenants) validate(file string, lines map[string]int) error {
	at := func(path string, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", file, lineFor(lines, path), path, fmt.Sprintf(format, args...))
	}
	if t.APIVersion != TenantsAPIVersion {
		return at("apiVersion", "must be %s, got %q", TenantsAPIVersion, t.APIVersion)
	}
	if t.Kind != TenantsKind {
		return at("kind", "must be %s, got %q", TenantsKind, t.Kind)
	}
	if len(t.Tenants) == 0 {
		return at("tenants", "must list at least one tenant")
	}
	if t.Defaults != nil {
		if err := validateQuotaAndLimits("defaults", t.Defaults.Quota, t.Defaults.Limits, at); err != nil {
			return err
		}
	}
	tenants, namespaces := map[string]string{}, map[string]string{}
	for i, tn := range t.Tenants {
		p := fmt.Sprintf("tenants[%d]", i)
		if errs := validation.IsDNS1123Label(tn.Name); len(errs) > 0 {
			return at(p+".name", "%q is not a valid tenant name: %s", tn.Name, errs[0])
		}
		if prev, dup := tenants[tn.Name]; dup {
			return at(p+".name", "tenant %q is already defined at %s", tn.Name, prev)
		}
		tenants[tn.Name] = p
		if len(tn.Namespaces) == 0 {
			return at(p+".namespaces", "must list at least one namespace")
		}
		for j, ns := range tn.Namespaces {
			np := fmt.Sprintf("%s.namespaces[%d]", p, j)
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return at(np, "%q is not a valid namespace name: %s", ns, errs[0])
			}
			if prev, dup := namespaces[ns]; dup {
				return at(np, "namespace %q already belongs to %s", ns, prev)
			}
			namespaces[ns] = fmt.Sprintf("tenant %q", tn.Name)
		}
		if err := validateAdmins(p, tn.Admins, at); err != nil {
			return err
		}
		if err := validateLabels(p, tn.Labels, at); err != nil {
			return err
		}
		if err := validateQuotaAndLimits(p, tn.Quota, tn.Limits, at); err != nil {
			return err
		}
	}
	return nil
}

type atFunc func(path string, format string, args ...any) error

func validateAdmins(p string, a Admins, at atFunc) error {
	for j, g := range a.Groups {
		if g == "" {
			return at(fmt.Sprintf("%s.admins.groups[%d]", p, j), "must not be empty")
		}
	}
	for j, u := range a.Users {
		if u == "" {
			return at(fmt.Sprintf("%s.admins.users[%d]", p, j), "must not be empty")
		}
	}
	return nil
}

func validateLabels(p string, labels map[string]string, at atFunc) error {
	for _, k := range sortedKeys(labels) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return at(p+".labels."+k, "invalid label key: %s", errs[0])
		}
		if errs := validation.IsValidLabelValue(labels[k]); len(errs) > 0 {
			return at(p+".labels."+k, "invalid label value %q: %s", labels[k], errs[0])
		}
	}
	return nil
}

func validateQuotaAndLimits(p string, q *TenantQuota, limits []corev1.LimitRangeItem, at atFunc) error {
	if q != nil {
		if len(q.Hard) == 0 {
			return at(p+".quota.hard", "must set at least one resource")
		}
		for _, name := range sortedNames(q.Hard) {
			if errs := validation.IsQualifiedName(string(name)); len(errs) > 0 {
				return at(p+".quota.hard."+string(name), "invalid resource name: %s", errs[0])
			}
			if v := q.Hard[name]; v.Sign() < 0 {
				return at(p+".quota.hard."+string(name), "must not be negative")
			}
			if err := validateQuotaName(p+".quota.hard."+string(name), name, q.Hard[name], at); err != nil {
				return err
			}
		}
	}
	for j, item := range limits {
		lp := fmt.Sprintf("%s.limits[%d]", p, j)
		switch item.Type {
		case corev1.LimitTypeContainer:
		case corev1.LimitTypePod, corev1.LimitTypePersistentVolumeClaim:
			if len(item.Default) > 0 || len(item.DefaultRequest) > 0 {
				return at(lp, "default and defaultRequest apply to type Container only, not %s", item.Type)
			}
		default:
			return at(lp+".type", "must be Container, Pod or PersistentVolumeClaim, got %q", item.Type)
		}
	}
	return validateLimitItems(p, limits, at)
}

// standardQuotaNames are the unqualified names kube-apiserver's
// ResourceQuota validation accepts (besides hugepages-*).
var standardQuotaNames = map[corev1.ResourceName]bool{
	corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true,
	corev1.ResourceRequestsCPU: true, corev1.ResourceRequestsMemory: true, corev1.ResourceRequestsStorage: true,
	corev1.ResourceRequestsEphemeralStorage: true, corev1.ResourceLimitsCPU: true, corev1.ResourceLimitsMemory: true,
	corev1.ResourceLimitsEphemeralStorage: true, corev1.ResourcePods: true, corev1.ResourceQuotas: true,
	corev1.ResourceServices: true, corev1.ResourceReplicationControllers: true, corev1.ResourceSecrets: true,
	corev1.ResourcePersistentVolumeClaims: true, corev1.ResourceConfigMaps: true,
	corev1.ResourceServicesNodePorts: true, corev1.ResourceServicesLoadBalancers: true,
}

// integerQuotaNames are counted in whole numbers; so are extended
// resources (and count/*, which the API server reads as one).
var integerQuotaNames = map[corev1.ResourceName]bool{
	corev1.ResourcePods: true, corev1.ResourceQuotas: true, corev1.ResourceServices: true,
	corev1.ResourceReplicationControllers: true, corev1.ResourceSecrets: true, corev1.ResourceConfigMaps: true,
	corev1.ResourcePersistentVolumeClaims: true, corev1.ResourceServicesNodePorts: true,
	corev1.ResourceServicesLoadBalancers: true,
}

// validateQuotaName checks a hard limit as kube-apiserver's ResourceQuota
// validation does: an unqualified name must be a standard quota resource
// (a misspelt one is refused, not silently unenforced), and object counts
// and extended resources take whole numbers.
func validateQuotaName(path string, name corev1.ResourceName, v resource.Quantity, at atFunc) error {
	s := string(name)
	if !strings.Contains(s, "/") && !standardQuotaNames[name] &&
		!strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) && !strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix) {
		return at(path, "%q is not a standard quota resource: expected one such as requests.cpu, limits.memory, pods or configmaps, or a qualified name such as count/deployments.apps or requests.nvidia.com/gpu (kube-apiserver refuses the ResourceQuota)", s)
	}
	if (integerQuotaNames[name] || extendedResource(name)) && v.MilliValue()%1000 != 0 {
		return at(path, "%s: must be a whole number (kube-apiserver refuses the ResourceQuota)", v.String())
	}
	return nil
}

// extendedResource: a qualified name outside kubernetes.io that is not a
// requests.* quota name, and that is still qualified with requests. in
// front.
func extendedResource(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	if native || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// validateLimitItems checks what kube-apiserver's LimitRange validation
// checks, on the values it validates: those after its defaulting (a
// Container item's missing default limit takes max, a missing
// defaultRequest the default limit, then min). A LimitRange that fails
// here is refused by kubectl apply, so generate must not write it.
func validateLimitItems(p string, limits []corev1.LimitRangeItem, at atFunc) error {
	refused := " (kube-apiserver refuses the LimitRange)"
	seen := map[corev1.LimitType]string{}
	for j := range limits {
		lp := fmt.Sprintf("%s.limits[%d]", p, j)
		if prev, dup := seen[limits[j].Type]; dup {
			return at(lp+".type", "%s is already limited by %s: kube-apiserver allows one item per type", limits[j].Type, prev)
		}
		seen[limits[j].Type] = lp
		if err := validateLimitNames(lp, limits[j], at); err != nil {
			return err
		}
		lr := corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{*limits[j].DeepCopy()}}}
		DefaultLimitRange(&lr)
		item := lr.Spec.Limits[0]
		if item.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := item.Min[corev1.ResourceStorage]
			_, hasMax := item.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				return at(lp, "a PersistentVolumeClaim item needs min or max storage"+refused)
			}
		}
		names := corev1.ResourceList{}
		for _, l := range []corev1.ResourceList{item.Min, item.Max, item.Default, item.DefaultRequest, item.MaxLimitRequestRatio} {
			for name, v := range l {
				names[name] = v
			}
		}
		for _, name := range sortedNames(names) {
			// each pair: the field reported, the lower and the higher value
			for _, c := range []struct {
				field, lowName, highName string
				low, high                corev1.ResourceList
			}{
				{"min", "min value", "max value", item.Min, item.Max},
				{"min", "min value", "default value", item.Min, item.Default},
				{"default", "default value", "max value", item.Default, item.Max},
				{"defaultRequest", "min value", "default request value", item.Min, item.DefaultRequest},
				{"defaultRequest", "default request value", "max value", item.DefaultRequest, item.Max},
				{"defaultRequest", "default request value", "default limit value", item.DefaultRequest, item.Default},
			} {
				lo, okLo := c.low[name]
				hi, okHi := c.high[name]
				if okLo && okHi && lo.Cmp(hi) > 0 {
					return at(fmt.Sprintf("%s.%s.%s", lp, c.field, name), "%s %s is greater than %s %s"+refused, c.lowName, lo.String(), c.highName, hi.String())
				}
			}
			if err := validateRatio(lp, name, item, at); err != nil {
				return err
			}
			def, okDef := item.Default[name]
			req, okReq := item.DefaultRequest[name]
			if okDef && okReq && !overcommitAllowed(name) && def.Cmp(req) != 0 {
				return at(fmt.Sprintf("%s.defaultRequest.%s", lp, name), "default value %s must equal defaultRequest value %s: %s cannot be overcommitted"+refused, def.String(), req.String(), name)
			}
		}
	}
	return nil
}

// standardResourceNames are the unqualified names a PersistentVolumeClaim
// item may limit (besides hugepages-*), as kube-apiserver validates them.
var standardResourceNames = map[corev1.ResourceName]bool{
	corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true,
	corev1.ResourceRequestsCPU: true, corev1.ResourceRequestsMemory: true, corev1.ResourceRequestsEphemeralStorage: true,
	corev1.ResourceLimitsCPU: true, corev1.ResourceLimitsMemory: true, corev1.ResourceLimitsEphemeralStorage: true,
	corev1.ResourcePods: true, corev1.ResourceQuotas: true, corev1.ResourceServices: true,
	corev1.ResourceReplicationControllers: true, corev1.ResourceSecrets: true, corev1.ResourceConfigMaps: true,
	corev1.ResourcePersistentVolumeClaims: true, corev1.ResourceStorage: true, corev1.ResourceRequestsStorage: true,
	corev1.ResourceServicesNodePorts: true, corev1.ResourceServicesLoadBalancers: true,
}

// validateLimitNames checks the resource names of one item as
// kube-apiserver does: Container and Pod items limit cpu, memory,
// ephemeral-storage, hugepages-* or extended resources; a
// PersistentVolumeClaim item standard resources (storage) or qualified
// names.
func validateLimitNames(lp string, item corev1.LimitRangeItem, at atFunc) error {
	for _, f := range []struct {
		name string
		list corev1.ResourceList
	}{{"min", item.Min}, {"max", item.Max}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}} {
		for _, name := range sortedNames(f.list) {
			path, s := fmt.Sprintf("%s.%s.%s", lp, f.name, name), string(name)
			if errs := validation.IsQualifiedName(s); len(errs) > 0 {
				return at(path, "invalid resource name: %s", errs[0])
			}
			container := item.Type != corev1.LimitTypePersistentVolumeClaim
			switch {
			case container && !strings.Contains(s, "/"):
				if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) {
					return at(path, "%q is not a resource of a %s: expected cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource such as example.com/gpu (kube-apiserver refuses the LimitRange)", s, item.Type)
				}
			case container:
				if !strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) && !extendedResource(name) {
					return at(path, "%q does not follow the extended resource name standard (kube-apiserver refuses the LimitRange)", s)
				}
			case !strings.Contains(s, "/"):
				if !standardResourceNames[name] && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) && !strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix) {
					return at(path, "%q is not a standard resource: expected storage for a PersistentVolumeClaim item (kube-apiserver refuses the LimitRange)", s)
				}
			}
		}
	}
	return nil
}

// validateRatio checks maxLimitRequestRatio: at least 1, and no more than
// max/min when both are set.
func validateRatio(lp string, name corev1.ResourceName, item corev1.LimitRangeItem, at atFunc) error {
	ratio, ok := item.MaxLimitRequestRatio[name]
	if !ok {
		return nil
	}
	path := fmt.Sprintf("%s.maxLimitRequestRatio.%s", lp, name)
	if ratio.Cmp(resource.MustParse("1")) < 0 {
		return at(path, "ratio %s is less than 1 (kube-apiserver refuses the LimitRange)", ratio.String())
	}
	lo, okLo := item.Min[name]
	hi, okHi := item.Max[name]
	if !okLo || !okHi || lo.Sign() <= 0 {
		return nil
	}
	r, l, h := float64(ratio.Value()), lo.Value(), hi.Value()
	if ratio.Value() < resource.MaxMilliValue && l < resource.MaxMilliValue && h < resource.MaxMilliValue {
		r, l, h = float64(ratio.MilliValue())/1000, lo.MilliValue(), hi.MilliValue()
	}
	if limit := float64(h) / float64(l); r > limit {
		return at(path, "ratio %s is greater than max/min = %s (kube-apiserver refuses the LimitRange)", ratio.String(), strconv.FormatFloat(limit, 'f', -1, 64))
	}
	return nil
}

// overcommitAllowed: a native resource other than hugepages may have a
// default limit above its default request; extended resources and
// hugepages may not.
func overcommitAllowed(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	return native && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
