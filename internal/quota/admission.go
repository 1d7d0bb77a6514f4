package quota

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
)

// Policy is what create admission consults: the ResourceQuotas and
// LimitRanges of every namespace, and the RuntimeClasses whose overhead
// pods are charged for.
type Policy struct {
	Quotas         []corev1.ResourceQuota
	LimitRanges    []corev1.LimitRange
	RuntimeClasses []nodev1.RuntimeClass
}

// Admission replays kube-apiserver's create admission for quota, in
// order: API defaulting of the pod, RuntimeClass overhead, LimitRanger
// (mutate, then validate), then ResourceQuota. Each admitted object
// advances the quotas' status.used, as the apiserver does. It is not safe
// for concurrent use.
type Admission struct {
	registry       *Registry
	quotas         map[string][]corev1.ResourceQuota
	limitRanges    map[string][]corev1.LimitRange
	runtimeClasses map[string]*nodev1.RuntimeClass
}

// NewAdmission prepares the policy: quotas get status.hard from
// spec.hard and status.used from their status (zero where missing, as the
// quota controller reports an empty namespace); limit ranges are
// defaulted as the API server stores them. now may be nil.
func NewAdmission(p Policy, now func() time.Time) *Admission {
	a := &Admission{
		registry:       NewRegistry(now),
		quotas:         map[string][]corev1.ResourceQuota{},
		limitRanges:    map[string][]corev1.LimitRange{},
		runtimeClasses: map[string]*nodev1.RuntimeClass{},
	}
	for _, q := range p.Quotas {
		q = *q.DeepCopy()
		q.Status.Hard = quotav1.Add(corev1.ResourceList{}, q.Spec.Hard)
		used := corev1.ResourceList{}
		for name, hard := range q.Status.Hard {
			if u, ok := q.Status.Used[name]; ok {
				used[name] = u
			} else {
				used[name] = resource.Quantity{Format: hard.Format}
			}
		}
		q.Status.Used = used
		a.quotas[q.Namespace] = append(a.quotas[q.Namespace], q)
	}
	for _, lr := range p.LimitRanges {
		lr = *lr.DeepCopy()
		DefaultLimitRange(&lr)
		a.limitRanges[lr.Namespace] = append(a.limitRanges[lr.Namespace], lr)
	}
	for i := range p.RuntimeClasses {
		a.runtimeClasses[p.RuntimeClasses[i].Name] = &p.RuntimeClasses[i]
	}
	for ns := range a.quotas {
		sort.SliceStable(a.quotas[ns], func(i, j int) bool { return a.quotas[ns][i].Name < a.quotas[ns][j].Name })
	}
	return a
}

// Quotas returns the quotas of a namespace with their current usage.
func (a *Admission) Quotas(namespace string) []corev1.ResourceQuota {
	return a.quotas[namespace]
}

// Usage measures what obj would charge to a quota that tracks every
// resource, using the evaluator for gr.
func (a *Admission) Usage(obj runtime.Object, gr schema.GroupResource) (corev1.ResourceList, error) {
	return a.registry.Get(gr).Usage(obj)
}

// Admit runs create admission for obj, a typed object with its namespace
// set. A pod is defaulted and mutated in place. A rejection is returned as
// kube-apiserver's Forbidden error (`pods "web" is forbidden: exceeded
// quota: ...`); on success the namespace's quotas are charged.
func (a *Admission) Admit(obj runtime.Object, gvk schema.GroupVersionKind, gvr schema.GroupVersionResource) error {
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Errorf("reading object metadata: %w", err)
	}
	ns := accessor.GetNamespace()
	attrs := admission.NewAttributesRecord(obj, nil, gvk, ns, accessor.GetName(), gvr, "", admission.Create, nil, false, nil)
	if err := a.limitRanger(obj, attrs); err != nil {
		return err
	}
	evaluator := a.registry.Get(gvr.GroupResource())
	quotas, err := resourcequota.CheckRequest(a.quotas[ns], attrs, evaluator, nil)
	if err != nil {
		return err
	}
	if len(quotas) > 0 {
		a.quotas[ns] = quotas
	}
	return nil
}

func (a *Admission) limitRanger(obj runtime.Object, attrs admission.Attributes) error {
	lrs := a.limitRanges[attrs.GetNamespace()]
	switch o := obj.(type) {
	case *corev1.Pod:
		DefaultPod(o)
		if err := a.runtimeClassOverhead(o, attrs); err != nil {
			return err
		}
		MutatePod(o, lrs)
		for i := range lrs {
			if err := ValidatePod(o, &lrs[i]); err != nil {
				return admission.NewForbidden(attrs, err)
			}
		}
	case *corev1.PersistentVolumeClaim:
		for i := range lrs {
			if err := ValidatePVC(o, &lrs[i]); err != nil {
				return admission.NewForbidden(attrs, err)
			}
		}
	}
	return nil
}

// runtimeClassOverhead is the RuntimeClass admission plugin's part that
// matters for quota: the pod's overhead comes from its RuntimeClass.
func (a *Admission) runtimeClassOverhead(pod *corev1.Pod, attrs admission.Attributes) error {
	if pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName == "" {
		return nil
	}
	rc, ok := a.runtimeClasses[*pod.Spec.RuntimeClassName]
	if !ok {
		return nil
	}
	if rc.Overhead == nil {
		return nil
	}
	if pod.Spec.Overhead != nil && !quotav1.Equals(pod.Spec.Overhead, rc.Overhead.PodFixed) {
		return admission.NewForbidden(attrs, fmt.Errorf("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"))
	}
	pod.Spec.Overhead = quotav1.Add(corev1.ResourceList{}, rc.Overhead.PodFixed)
	return nil
}
