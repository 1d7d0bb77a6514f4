package quota

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/admission"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	resourcehelper "k8s.io/component-helpers/resource"
)

// The resources kube-apiserver's pod evaluator (k8s.io/kubernetes
// pkg/quota/v1/evaluator/core/pods.go) tracks.
var (
	podGroupResource   = schema.GroupResource{Resource: "pods"}
	podObjectCountName = generic.ObjectCountQuotaResourceNameFor(podGroupResource)
	podResources       = []corev1.ResourceName{
		podObjectCountName,
		corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
		corev1.ResourcePods,
	}
	podResourcePrefixes       = []string{corev1.ResourceHugePagesPrefix, corev1.ResourceRequestsHugePagesPrefix}
	requestedResourcePrefixes = []string{corev1.ResourceHugePagesPrefix}
	// validationSet is upstream's backward-compatibility list: when a quota
	// tracks one of these, every container must set it ("must specify").
	validationSet = sets.New(
		string(corev1.ResourceCPU), string(corev1.ResourceMemory),
		string(corev1.ResourceRequestsCPU), string(corev1.ResourceRequestsMemory),
		string(corev1.ResourceLimitsCPU), string(corev1.ResourceLimitsMemory),
	)
)

// deviceClassPrefix is resource.k8s.io's implicit extended resource prefix.
const deviceClassPrefix = "deviceclass.resource.kubernetes.io/"

// PodEvaluator measures pods for quota exactly as kube-apiserver's pod
// evaluator does. It implements k8s.io/apiserver's quota.Evaluator.
type PodEvaluator struct {
	// Now is the clock for pods stuck terminating; nil means time.Now.
	Now func() time.Time
}

var _ quotav1.Evaluator = (*PodEvaluator)(nil)

// Constraints returns upstream's "must specify ..." error when a quota
// tracks cpu or memory and a container does not set it.
func (p *PodEvaluator) Constraints(required []corev1.ResourceName, item runtime.Object) error {
	pod, err := toPod(item)
	if err != nil {
		return err
	}
	if resourcehelper.IsPodLevelResourcesSet(pod) {
		return nil
	}
	requiredSet := sets.New[string]()
	for _, r := range required {
		if validationSet.Has(string(r)) {
			requiredSet.Insert(string(r))
		}
	}
	missing := map[string]sets.Set[string]{}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			have := sets.New[string]()
			for r := range podComputeUsage(cs[i].Resources.Requests, cs[i].Resources.Limits) {
				have.Insert(string(r))
			}
			for _, r := range sets.List(requiredSet.Difference(have)) {
				if missing[r] == nil {
					missing[r] = sets.New[string]()
				}
				missing[r].Insert(cs[i].Name)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(missing))
	for _, r := range sets.List(sets.KeySet(missing)) {
		msgs = append(msgs, fmt.Sprintf("%s for: %s", r, strings.Join(sets.List(missing[r]), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(msgs, "; "))
}

// GroupResource is pods.
func (p *PodEvaluator) GroupResource() schema.GroupResource { return podGroupResource }

// Handles is true for pod creation and resize, and for updates that change
// the Terminating scope.
func (p *PodEvaluator) Handles(a admission.Attributes) bool {
	op := a.GetOperation()
	switch a.GetSubresource() {
	case "":
		if op == admission.Update {
			pod, err1 := toPod(a.GetObject())
			old, err2 := toPod(a.GetOldObject())
			if err1 != nil || err2 != nil {
				return false
			}
			if isTerminating(old) != isTerminating(pod) {
				return true
			}
		}
		return op == admission.Create
	case "resize":
		return op == admission.Update
	default:
		return false
	}
}

// Matches tells whether the quota tracks a pod resource and all its scopes
// match the pod.
func (p *PodEvaluator) Matches(q *corev1.ResourceQuota, item runtime.Object) (bool, error) {
	return generic.Matches(q, item, p.MatchingResources, podMatchesScope)
}

// MatchingResources keeps the names the pod evaluator tracks.
func (p *PodEvaluator) MatchingResources(input []corev1.ResourceName) []corev1.ResourceName {
	result := quotav1.Intersection(input, podResources)
	for _, r := range input {
		if quotav1.ContainsPrefix(podResourcePrefixes, r) || isExtendedResourceNameForQuota(r) {
			result = append(result, r)
		}
	}
	return result
}

// MatchingScopes returns the selectors the pod matches.
func (p *PodEvaluator) MatchingScopes(item runtime.Object, selectors []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	matched := []corev1.ScopedResourceSelectorRequirement{}
	for _, s := range selectors {
		ok, err := podMatchesScope(s, item)
		if err != nil {
			return []corev1.ScopedResourceSelectorRequirement{}, fmt.Errorf("error on matching scope %v: %w", s, err)
		}
		if ok {
			matched = append(matched, s)
		}
	}
	return matched, nil
}

// UncoveredQuotaScopes returns the limited scopes no quota covers.
func (p *PodEvaluator) UncoveredQuotaScopes(limited, matched []corev1.ScopedResourceSelectorRequirement) ([]corev1.ScopedResourceSelectorRequirement, error) {
	uncovered := []corev1.ScopedResourceSelectorRequirement{}
	for _, s := range limited {
		covered := false
		for _, m := range matched {
			if m.ScopeName == s.ScopeName {
				covered = true
				break
			}
		}
		if !covered {
			uncovered = append(uncovered, s)
		}
	}
	return uncovered, nil
}

// Usage is what the pod charges: count/pods always, and its compute
// resources unless it is terminal.
func (p *PodEvaluator) Usage(item runtime.Object) (corev1.ResourceList, error) {
	pod, err := toPod(item)
	if err != nil {
		return corev1.ResourceList{}, err
	}
	return PodUsage(pod, p.now()), nil
}

// UsageStats is not supported: kauth measures objects it is given.
func (p *PodEvaluator) UsageStats(quotav1.UsageStatsOptions) (quotav1.UsageStats, error) {
	return quotav1.UsageStats{}, fmt.Errorf("usage stats are not supported: measure objects with Usage")
}

func (p *PodEvaluator) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// PodUsage is kube-apiserver's PodUsageFunc: count/pods always; for a pod
// that is not terminal, pods, cpu, memory, ephemeral-storage, hugepages
// and extended resources from its effective requests and limits (init
// containers by the max rule, sidecars added, overhead included,
// pod-level resources when set).
func PodUsage(pod *corev1.Pod, now time.Time) corev1.ResourceList {
	result := corev1.ResourceList{podObjectCountName: *resource.NewQuantity(1, resource.DecimalSI)}
	if !chargeable(pod, now) {
		return result
	}
	opts := resourcehelper.PodResourcesOptions{UseStatusResources: true}
	requests := resourcehelper.PodRequests(pod, opts)
	limits := resourcehelper.PodLimits(pod, opts)
	return quotav1.Add(result, podComputeUsage(requests, limits))
}

// chargeable is upstream's QuotaV1Pod: terminal pods and pods stuck
// terminating past their grace period are not charged.
func chargeable(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return false
	}
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		grace := time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		if now.After(pod.DeletionTimestamp.Add(grace)) {
			return false
		}
	}
	return true
}

func podComputeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	result := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	pairs := []struct{ name, req, lim corev1.ResourceName }{
		{corev1.ResourceCPU, corev1.ResourceRequestsCPU, corev1.ResourceLimitsCPU},
		{corev1.ResourceMemory, corev1.ResourceRequestsMemory, corev1.ResourceLimitsMemory},
		{corev1.ResourceEphemeralStorage, corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage},
	}
	for _, p := range pairs {
		if q, ok := requests[p.name]; ok {
			result[p.name] = q
			result[p.req] = q
		}
		if q, ok := limits[p.name]; ok {
			result[p.lim] = q
		}
	}
	for name, q := range requests {
		if quotav1.ContainsPrefix(requestedResourcePrefixes, name) {
			result[name] = q
			result[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q
		}
		if isExtendedResourceName(name) || strings.HasPrefix(string(name), deviceClassPrefix) {
			result[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q
		}
	}
	return result
}

func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

func isExtendedResourceName(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

func isExtendedResourceNameForQuota(name corev1.ResourceName) bool {
	s := string(name)
	implicit := strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix+deviceClassPrefix)
	return (!isNativeResource(name) || implicit) && strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix)
}

func toPod(obj runtime.Object) (*corev1.Pod, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("expected *v1.Pod, got %T", obj)
	}
	return pod, nil
}

func podMatchesScope(s corev1.ScopedResourceSelectorRequirement, obj runtime.Object) (bool, error) {
	pod, err := toPod(obj)
	if err != nil {
		return false, err
	}
	switch s.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return isTerminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !isTerminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return isBestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !isBestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		if s.Operator == corev1.ScopeSelectorOpExists {
			return pod.Spec.PriorityClassName != "", nil
		}
		return priorityClassMatches(pod, s)
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return usesCrossNamespacePodAffinity(pod), nil
	}
	return false, nil
}

func isTerminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

func priorityClassMatches(pod *corev1.Pod, s corev1.ScopedResourceSelectorRequirement) (bool, error) {
	sel, err := scopeSelector(s)
	if err != nil {
		return false, fmt.Errorf("failed to parse and convert selector: %w", err)
	}
	var m map[string]string
	if pod.Spec.PriorityClassName != "" {
		m = map[string]string{string(corev1.ResourceQuotaScopePriorityClass): pod.Spec.PriorityClassName}
	}
	return sel.Matches(labels.Set(m)), nil
}

func scopeSelector(s corev1.ScopedResourceSelectorRequirement) (labels.Selector, error) {
	var op selection.Operator
	switch s.Operator {
	case corev1.ScopeSelectorOpIn:
		op = selection.In
	case corev1.ScopeSelectorOpNotIn:
		op = selection.NotIn
	case corev1.ScopeSelectorOpExists:
		op = selection.Exists
	case corev1.ScopeSelectorOpDoesNotExist:
		op = selection.DoesNotExist
	default:
		return nil, fmt.Errorf("%q is not a valid scope selector operator", s.Operator)
	}
	r, err := labels.NewRequirement(string(s.ScopeName), op, s.Values)
	if err != nil {
		return nil, err
	}
	return labels.NewSelector().Add(*r), nil
}

// isBestEffort mirrors the QoS computation: a pod is BestEffort when no
// container (or the pod level, when set) asks for cpu or memory.
func isBestEffort(pod *corev1.Pod) bool {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass == corev1.PodQOSBestEffort
	}
	if pod.Spec.Resources != nil && resourcehelper.IsPodLevelResourcesSet(pod) {
		return requirementsBestEffort(pod.Spec.Resources)
	}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if !requirementsBestEffort(&cs[i].Resources) {
				return false
			}
		}
	}
	return true
}

func requirementsBestEffort(r *corev1.ResourceRequirements) bool {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := r.Requests[name], r.Limits[name]
		if !req.IsZero() || !lim.IsZero() {
			return false
		}
	}
	return true
}

func usesCrossNamespacePodAffinity(pod *corev1.Pod) bool {
	if pod.Spec.Affinity == nil {
		return false
	}
	cross := func(t *corev1.PodAffinityTerm) bool { return len(t.Namespaces) != 0 || t.NamespaceSelector != nil }
	var terms []corev1.PodAffinityTerm
	if a := pod.Spec.Affinity.PodAffinity; a != nil {
		terms = append(terms, a.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if a := pod.Spec.Affinity.PodAntiAffinity; a != nil {
		terms = append(terms, a.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for i := range terms {
		if cross(&terms[i]) {
			return true
		}
	}
	return false
}
