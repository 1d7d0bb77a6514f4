package quota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
)

// NewRegistry returns the evaluators kube-apiserver's ResourceQuota
// admission starts with: pods, services and persistentvolumeclaims with
// their own evaluators, and configmaps, secrets, replicationcontrollers and
// resourcequotas counted with their legacy names. Any other resource is
// counted as count/<resource>.<group> by [Registry.Get]'s fallback, as
// the admission plugin does. now may be nil (time.Now).
func NewRegistry(now func() time.Time) *Registry {
	r := &Registry{byGR: map[schema.GroupResource]quotav1.Evaluator{}}
	for _, e := range []quotav1.Evaluator{
		&PodEvaluator{Now: now},
		&ServiceEvaluator{},
		&PVCEvaluator{},
		generic.NewObjectCountEvaluator(schema.GroupResource{Resource: "configmaps"}, nil, corev1.ResourceConfigMaps),
		generic.NewObjectCountEvaluator(schema.GroupResource{Resource: "resourcequotas"}, nil, corev1.ResourceQuotas),
		generic.NewObjectCountEvaluator(schema.GroupResource{Resource: "replicationcontrollers"}, nil, corev1.ResourceReplicationControllers),
		generic.NewObjectCountEvaluator(schema.GroupResource{Resource: "secrets"}, nil, corev1.ResourceSecrets),
	} {
		r.byGR[e.GroupResource()] = e
	}
	return r
}

// Registry maps a group-resource to its quota evaluator. It is not safe
// for concurrent use.
type Registry struct {
	byGR map[schema.GroupResource]quotav1.Evaluator
}

// Get returns the evaluator for gr, creating an object-count evaluator for
// resources without their own, as kube-apiserver does.
func (r *Registry) Get(gr schema.GroupResource) quotav1.Evaluator {
	if e, ok := r.byGR[gr]; ok {
		return e
	}
	e := generic.NewObjectCountEvaluator(gr, nil, "")
	r.byGR[gr] = e
	return e
}

// ServiceEvaluator measures services: count/services, services,
// services.loadbalancers and services.nodeports.
type ServiceEvaluator struct{}

var (
	serviceGroupResource   = schema.GroupResource{Resource: "services"}
	serviceObjectCountName = generic.ObjectCountQuotaResourceNameFor(serviceGroupResource)
	serviceResources       = []corev1.ResourceName{
		serviceObjectCountName, corev1.ResourceServices,
		corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
	}
)

var _ quotav1.Evaluator = ServiceEvaluator{}

// Constraints has none for services.
func (ServiceEvaluator) Constraints([]corev1.ResourceName, runtime.Object) error { return nil }

// GroupResource is services.
func (ServiceEvaluator) GroupResource() schema.GroupResource { return serviceGroupResource }

// Handles create and update: a service's type can change.
func (ServiceEvaluator) Handles(a admission.Attributes) bool {
	return a.GetSubresource() == "" && (a.GetOperation() == admission.Create || a.GetOperation() == admission.Update)
}

// Matches tells whether the quota tracks a service resource.
func (e ServiceEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, e.MatchingResources, generic.MatchesNoScopeFunc)
}

// MatchingResources keeps the service resources.
func (ServiceEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	return quotav1.Intersection(input, serviceResources)
}

// MatchingScopes: services have no scopes.
func (ServiceEvaluator) MatchingScopes(runtime.Object, []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return []corev1.ScopedResourceSelectorRequirement{}, nil
}

// UncoveredQuotaScopes: services have no scopes.
func (ServiceEvaluator) UncoveredQuotaScopes(_, _ []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return []corev1.ScopedResourceSelectorRequirement{}, nil
}

// Usage counts the service, its load balancer and its node ports.
func (ServiceEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	svc, ok := item.(*corev1.Service)
	if !ok {
		return corev1.ResourceList{}, fmt.Errorf("expected *v1.Service, got %T", item)
	}
	ports := int64(len(svc.Spec.Ports))
	result := corev1.ResourceList{
		serviceObjectCountName:               *resource.NewQuantity(1, resource.DecimalSI),
		corev1.ResourceServices:              *resource.NewQuantity(1, resource.DecimalSI),
		corev1.ResourceServicesLoadBalancers: {Format: resource.DecimalSI},
		corev1.ResourceServicesNodePorts:     {Format: resource.DecimalSI},
	}
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		result[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
	case corev1.ServiceTypeLoadBalancer:
		if svc.Spec.AllocateLoadBalancerNodePorts != nil && !*svc.Spec.AllocateLoadBalancerNodePorts {
			n := int64(0)
			for _, p := range svc.Spec.Ports {
				if p.NodePort != 0 {
					n++
				}
			}
			ports = n
		}
		result[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(ports, resource.DecimalSI)
		result[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(1, resource.DecimalSI)
	}
	return result, nil
}

// UsageStats is not supported.
func (ServiceEvaluator) UsageStats(quotav1.UsageStatsOptions) (quotav1.UsageStats, error) {
	return quotav1.UsageStats{}, fmt.Errorf("usage stats are not supported: measure objects with Usage")
}

// PVCEvaluator measures persistent volume claims: persistentvolumeclaims,
// requests.storage, their per-storage-class forms and count/.
type PVCEvaluator struct{}

var (
	pvcGroupResource   = schema.GroupResource{Resource: "persistentvolumeclaims"}
	pvcObjectCountName = generic.ObjectCountQuotaResourceNameFor(pvcGroupResource)
	pvcResources       = []corev1.ResourceName{corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage}
)

const storageClassSuffix = ".storageclass.storage.k8s.io/"

var _ quotav1.Evaluator = PVCEvaluator{}

// Constraints has none for claims.
func (PVCEvaluator) Constraints([]corev1.ResourceName, runtime.Object) error { return nil }

// GroupResource is persistentvolumeclaims.
func (PVCEvaluator) GroupResource() schema.GroupResource { return pvcGroupResource }

// Handles create and update of the claim itself.
func (PVCEvaluator) Handles(a admission.Attributes) bool {
	return a.GetSubresource() == "" && (a.GetOperation() == admission.Create || a.GetOperation() == admission.Update)
}

// Matches tells whether the quota tracks a claim resource and its scopes
// match.
func (e PVCEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, e.MatchingResources, pvcMatchesScope)
}

// MatchingResources keeps the claim resources, by storage class too.
func (PVCEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	var result []corev1.ResourceName
	for _, item := range input {
		if item == pvcObjectCountName || quotav1.Contains(pvcResources, item) {
			result = append(result, item)
			continue
		}
		for _, r := range pvcResources {
			if strings.HasSuffix(string(item), storageClassSuffix+string(r)) {
				result = append(result, item)
				break
			}
		}
	}
	return result
}

// MatchingScopes returns the selectors the claim matches.
func (PVCEvaluator) MatchingScopes(item runtime.Object, selectors []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	matched := []corev1.ScopedResourceSelectorRequirement{}
	for _, s := range selectors {
		ok, err := pvcMatchesScope(s, item)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, s)
		}
	}
	return matched, nil
}

// UncoveredQuotaScopes returns the limited scopes no quota covers.
func (PVCEvaluator) UncoveredQuotaScopes(limited, matched []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	return (&PodEvaluator{}).UncoveredQuotaScopes(limited, matched)
}

// Usage charges the claim and its requested storage (rounded up to whole
// bytes), also per storage class.
func (PVCEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	pvc, ok := item.(*corev1.PersistentVolumeClaim)
	if !ok {
		return corev1.ResourceList{}, fmt.Errorf("expected *v1.PersistentVolumeClaim, got %T", item)
	}
	one := *resource.NewQuantity(1, resource.DecimalSI)
	result := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: one, pvcObjectCountName: one}
	class := pvcClass(pvc)
	if class != "" {
		result[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourcePersistentVolumeClaims))] = one
	}
	if storage := pvcStorage(pvc); storage != nil {
		result[corev1.ResourceRequestsStorage] = *storage
		if class != "" {
			result[corev1.ResourceName(class+storageClassSuffix+string(corev1.ResourceRequestsStorage))] = *storage
		}
	}
	return result, nil
}

// UsageStats is not supported.
func (PVCEvaluator) UsageStats(quotav1.UsageStatsOptions) (quotav1.UsageStats, error) {
	return quotav1.UsageStats{}, fmt.Errorf("usage stats are not supported: measure objects with Usage")
}

func pvcClass(pvc *corev1.PersistentVolumeClaim) string {
	if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return c
	}
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

func pvcStorage(pvc *corev1.PersistentVolumeClaim) *resource.Quantity {
	roundUp := func(q resource.Quantity) *resource.Quantity {
		r := q.DeepCopy()
		if !r.RoundUp(0) {
			return &r
		}
		return &q
	}
	req, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil
	}
	result := roundUp(req)
	if alloc, ok := pvc.Status.AllocatedResources[corev1.ResourceStorage]; ok && alloc.Cmp(*result) > 0 {
		result = roundUp(alloc)
	}
	return result
}

func pvcMatchesScope(s corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error) {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return false, fmt.Errorf("expected *v1.PersistentVolumeClaim, got %T", obj)
	}
	if s.ScopeName != corev1.ResourceQuotaScopeVolumeAttributesClass {
		return false, nil
	}
	if s.Operator == corev1.ScopeSelectorOpExists {
		return pvc.Spec.VolumeAttributesClassName != nil && *pvc.Spec.VolumeAttributesClassName != "", nil
	}
	sel, err := scopeSelector(s)
	if err != nil {
		return false, err
	}
	var m map[string]string
	if pvc.Spec.VolumeAttributesClassName != nil && *pvc.Spec.VolumeAttributesClassName != "" {
		m = map[string]string{string(s.ScopeName): *pvc.Spec.VolumeAttributesClassName}
	}
	return sel.Matches(labels.Set(m)), nil
}

// Add registers an evaluator, replacing the one for its group-resource.
func (r *Registry) Add(e quotav1.Evaluator) { r.byGR[e.GroupResource()] = e }

// Remove drops the evaluator for e's group-resource.
func (r *Registry) Remove(e quotav1.Evaluator) { delete(r.byGR, e.GroupResource()) }

// List returns the registered evaluators, ordered by group-resource.
func (r *Registry) List() []quotav1.Evaluator {
	grs := make([]schema.GroupResource, 0, len(r.byGR))
	for gr := range r.byGR {
		grs = append(grs, gr)
	}
	sort.Slice(grs, func(i, j int) bool { return grs[i].String() < grs[j].String() })
	out := make([]quotav1.Evaluator, len(grs))
	for i, gr := range grs {
		out[i] = r.byGR[gr]
	}
	return out
}

var _ quotav1.Registry = (*Registry)(nil)
