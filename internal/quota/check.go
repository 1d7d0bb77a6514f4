package quota

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"

	"github.com/kauth/kauth/internal/loader"
)

// CheckRequest is what [Check] evaluates.
type CheckRequest struct {
	// Objects are the manifests, in the order they would be applied.
	// ResourceQuotas, LimitRanges and RuntimeClasses among them join the
	// policy.
	Objects []loader.Object
	// Policy holds the ResourceQuotas, LimitRanges and RuntimeClasses
	// already in place; other kinds are ignored.
	Policy []loader.Object
	// DaemonSetNodes is how many nodes a DaemonSet's pods are counted for
	// (at least 1).
	DaemonSetNodes int
	// DefaultNamespace is used for namespaced objects without one;
	// "default" when empty.
	DefaultNamespace string
	// Now is the clock for pods stuck terminating; nil means time.Now.
	Now func() time.Time
}

// CheckResult says whether every object would be admitted, what each
// namespace would use, and the first rejection.
type CheckResult struct {
	Fits       bool             `json:"fits"`
	Rejected   *Rejection       `json:"rejected,omitempty"`
	Objects    []ObjectResult   `json:"objects"`
	Namespaces []NamespaceUsage `json:"namespaces"`
}

// Rejection is the first create request admission would refuse.
type Rejection struct {
	Source loader.Source `json:"source"`
	// Kind and Name are those of the applied object (a Deployment whose
	// pod is refused names the Deployment).
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Message is kube-apiserver's error for the refused create request.
	Message string `json:"message"`
}

// ObjectResult is the fate of one applied object and what it leads to.
type ObjectResult struct {
	Source    loader.Source `json:"source"`
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	// Pods is how many pods the object runs (replicas multiplied out);
	// Admitted how many of them admission lets through.
	Pods     int    `json:"pods"`
	Admitted int    `json:"admitted"`
	Rejected bool   `json:"rejected"`
	Message  string `json:"message,omitempty"`
	Note     string `json:"note,omitempty"`
}

// NamespaceUsage is what the admitted objects charge in one namespace.
type NamespaceUsage struct {
	Namespace string `json:"namespace"`
	// Used is everything the admitted objects charge (what a quota
	// tracking each resource would count).
	Used   corev1.ResourceList `json:"used,omitempty"`
	Quotas []QuotaUsage        `json:"quotas,omitempty"`
}

// QuotaUsage is one ResourceQuota's used against hard.
type QuotaUsage struct {
	Name      string          `json:"name"`
	Resources []ResourceUsage `json:"resources"`
	// StatusUnknown is set for a live quota whose status the quota
	// controller has not written yet: used is then unknown.
	StatusUnknown bool `json:"statusUnknown,omitempty"`
}

// ResourceUsage is one resource of a quota.
type ResourceUsage struct {
	Resource corev1.ResourceName `json:"resource"`
	Used     resource.Quantity   `json:"used"`
	Hard     resource.Quantity   `json:"hard"`
	// Percent is used/hard in percent, rounded down (100 when hard is 0
	// and something is used).
	Percent int `json:"percent"`
}

// Check replays the creation of every object, and of what its controllers
// create, through kube-apiserver's LimitRanger and ResourceQuota admission.
func Check(req CheckRequest) (*CheckResult, error) {
	policy, _ := SplitPolicy(req.Policy)
	inline, objects := SplitPolicy(req.Objects)
	policy.Quotas = append(policy.Quotas, inline.Quotas...)
	policy.LimitRanges = append(policy.LimitRanges, inline.LimitRanges...)
	policy.RuntimeClasses = append(policy.RuntimeClasses, inline.RuntimeClasses...)
	ns := req.DefaultNamespace
	if ns == "" {
		ns = "default"
	}
	for i := range policy.Quotas {
		if policy.Quotas[i].Namespace == "" {
			policy.Quotas[i].Namespace = ns
		}
	}
	for i := range policy.LimitRanges {
		if policy.LimitRanges[i].Namespace == "" {
			policy.LimitRanges[i].Namespace = ns
		}
	}
	nodes := max(req.DaemonSetNodes, 1)
	adm := NewAdmission(policy, req.Now)
	res := &CheckResult{Fits: true, Objects: []ObjectResult{}}
	used := map[string]corev1.ResourceList{}
	for _, o := range objects {
		r, err := checkObject(adm, o, ns, nodes, used)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Source, err)
		}
		if r.Rejected && res.Fits {
			res.Fits = false
			res.Rejected = &Rejection{Source: r.Source, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Message: r.Message}
		}
		res.Objects = append(res.Objects, r)
	}
	res.Namespaces = namespaceUsage(adm, policy, used)
	return res, nil
}

func checkObject(adm *Admission, o loader.Object, defaultNS string, nodes int, used map[string]corev1.ResourceList) (ObjectResult, error) {
	obj := o.Object.DeepCopyObject()
	gvk := loader.GVK(obj)
	acc, err := meta.Accessor(obj)
	if err != nil {
		return ObjectResult{}, err
	}
	r := ObjectResult{Source: o.Source, Kind: gvk.Kind, Name: acc.GetName()}
	if isClusterScoped(gvk) {
		return r, nil
	}
	if acc.GetNamespace() == "" {
		acc.SetNamespace(defaultNS)
	}
	r.Namespace = acc.GetNamespace()
	e := expand(obj, gvk, r.Namespace, nodes)
	r.Pods, r.Note = e.pods, e.note
	for _, c := range e.creations {
		if err := adm.Admit(c.obj, c.gvk, c.gvr); err != nil {
			r.Rejected, r.Message = true, err.Error()
			break
		}
		u, err := adm.Usage(c.obj, c.gvr.GroupResource())
		if err != nil {
			return r, err
		}
		used[r.Namespace] = quotav1.Add(used[r.Namespace], u)
		if c.pod {
			r.Admitted++
		}
	}
	return r, nil
}

// HasPolicy reports whether objs hold a ResourceQuota or a LimitRange:
// what a --quota source is for.
func HasPolicy(objs []loader.Object) bool {
	p, _ := SplitPolicy(objs)
	return len(p.Quotas) > 0 || len(p.LimitRanges) > 0
}

// SplitPolicy separates ResourceQuotas, LimitRanges and RuntimeClasses
// from the other objects, keeping both in order.
func SplitPolicy(objs []loader.Object) (Policy, []loader.Object) {
	var p Policy
	var rest []loader.Object
	for _, o := range objs {
		switch t := o.Object.(type) {
		case *corev1.ResourceQuota:
			p.Quotas = append(p.Quotas, *t.DeepCopy())
		case *corev1.LimitRange:
			p.LimitRanges = append(p.LimitRanges, *t.DeepCopy())
		case *nodev1.RuntimeClass:
			p.RuntimeClasses = append(p.RuntimeClasses, *t)
		default:
			rest = append(rest, o)
		}
	}
	return p, rest
}

func namespaceUsage(adm *Admission, p Policy, used map[string]corev1.ResourceList) []NamespaceUsage {
	names := map[string]bool{}
	for ns := range used {
		names[ns] = true
	}
	for _, q := range p.Quotas {
		names[q.Namespace] = true
	}
	out := make([]NamespaceUsage, 0, len(names))
	for ns := range names {
		nu := NamespaceUsage{Namespace: ns, Used: quotav1.RemoveZeros(used[ns])}
		if nu.Used == nil {
			nu.Used = corev1.ResourceList{}
		}
		for _, q := range adm.Quotas(ns) {
			nu.Quotas = append(nu.Quotas, QuotaUsageOf(q))
		}
		out = append(out, nu)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

// QuotaUsageOf reads a quota's status: used against hard, resources sorted.
func QuotaUsageOf(q corev1.ResourceQuota) QuotaUsage {
	qu := QuotaUsage{Name: q.Name, Resources: []ResourceUsage{}}
	for _, name := range sortedNames(q.Status.Hard) {
		hard := q.Status.Hard[name]
		u := q.Status.Used[name]
		qu.Resources = append(qu.Resources, ResourceUsage{Resource: name, Used: u, Hard: hard, Percent: percent(u, hard)})
	}
	return qu
}

func percent(used, hard resource.Quantity) int {
	h := hard.AsApproximateFloat64()
	u := used.AsApproximateFloat64()
	if h <= 0 {
		if u > 0 {
			return 100
		}
		return 0
	}
	return int(u * 100 / h)
}

// UsageFromQuotas reads used against hard from the status of live
// ResourceQuotas, per namespace.
func UsageFromQuotas(quotas []corev1.ResourceQuota) []NamespaceUsage {
	byNS := map[string][]corev1.ResourceQuota{}
	for _, q := range quotas {
		byNS[q.Namespace] = append(byNS[q.Namespace], q)
	}
	out := make([]NamespaceUsage, 0, len(byNS))
	for _, ns := range sortedKeysOf(byNS) {
		qs := byNS[ns]
		sort.Slice(qs, func(i, j int) bool { return qs[i].Name < qs[j].Name })
		nu := NamespaceUsage{Namespace: ns}
		for _, q := range qs {
			if len(q.Status.Hard) > 0 {
				nu.Quotas = append(nu.Quotas, QuotaUsageOf(q))
				continue
			}
			// The quota controller has not reported yet: show the
			// spec's limits with usage unknown.
			q.Status.Hard = q.Spec.Hard
			qu := QuotaUsageOf(q)
			qu.StatusUnknown = true
			nu.Quotas = append(nu.Quotas, qu)
		}
		out = append(out, nu)
	}
	return out
}
