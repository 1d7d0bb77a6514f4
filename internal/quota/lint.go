package quota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"

	"github.com/kauth/kauth/internal/loader"
)

// Severities of lint findings.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Lint rules.
const (
	RuleNoQuota             = "namespace-without-quota"
	RuleNoLimitRange        = "namespace-without-limitrange"
	RulePodExceedsQuota     = "pod-exceeds-quota"
	RuleDefaultExceedsQuota = "limitrange-default-exceeds-quota"
	RuleMinExceedsQuota     = "limitrange-min-exceeds-quota"
	RuleLimitRangeConflict  = "limitrange-inconsistent"
	RuleQuotaNeedsDefaults  = "quota-requires-container-resources"
)

// Finding is one lint result.
type Finding struct {
	Rule      string        `json:"rule"`
	Severity  string        `json:"severity"`
	Namespace string        `json:"namespace"`
	Kind      string        `json:"kind,omitempty"`
	Name      string        `json:"name,omitempty"`
	Source    loader.Source `json:"source"`
	Message   string        `json:"message"`
}

// LintResult holds the findings, sorted by namespace, rule, kind and name.
type LintResult struct {
	Findings []Finding `json:"findings"`
}

// systemNamespaces are left alone: they hold the control plane, not
// tenants.
var systemNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

type lintInput struct {
	quotas      map[string][]sourced[corev1.ResourceQuota]
	limitRanges map[string][]sourced[corev1.LimitRange]
	namespaces  map[string]loader.Source
	workloads   []loader.Object
}

type sourced[T any] struct {
	obj    T
	source loader.Source
}

// Lint finds namespaces without a ResourceQuota or LimitRange, pods that
// alone exceed a quota, and limit ranges that contradict themselves or
// their namespace's quota. Objects without a namespace are in
// defaultNamespace ("default" when empty).
func Lint(objs []loader.Object, defaultNamespace string) *LintResult {
	if defaultNamespace == "" {
		defaultNamespace = "default"
	}
	in := collect(objs, defaultNamespace)
	var fs []Finding
	for _, ns := range sortedKeysOf(in.namespaces) {
		if systemNamespaces[ns] {
			continue
		}
		fs = append(fs, namespaceFindings(ns, in)...)
	}
	fs = append(fs, podFindings(in, defaultNamespace)...)
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		return strings.Join([]string{a.Namespace, a.Rule, a.Kind, a.Name}, "\x00") < strings.Join([]string{b.Namespace, b.Rule, b.Kind, b.Name}, "\x00")
	})
	if fs == nil {
		fs = []Finding{}
	}
	return &LintResult{Findings: fs}
}

func collect(objs []loader.Object, defaultNS string) lintInput {
	in := lintInput{
		quotas:      map[string][]sourced[corev1.ResourceQuota]{},
		limitRanges: map[string][]sourced[corev1.LimitRange]{},
		namespaces:  map[string]loader.Source{},
	}
	for _, o := range objs {
		gvk := loader.GVK(o.Object)
		acc, err := meta.Accessor(o.Object)
		if err != nil {
			continue
		}
		if gvk.Kind == "Namespace" {
			in.namespaces[acc.GetName()] = o.Source
			continue
		}
		if isClusterScoped(gvk) {
			continue
		}
		ns := acc.GetNamespace()
		if ns == "" {
			ns = defaultNS
		}
		if _, ok := in.namespaces[ns]; !ok {
			in.namespaces[ns] = o.Source
		}
		switch t := o.Object.(type) {
		case *corev1.ResourceQuota:
			q := *t.DeepCopy()
			q.Namespace = ns
			q.Status.Hard = q.Spec.Hard
			in.quotas[ns] = append(in.quotas[ns], sourced[corev1.ResourceQuota]{q, o.Source})
		case *corev1.LimitRange:
			lr := *t.DeepCopy()
			lr.Namespace = ns
			DefaultLimitRange(&lr)
			in.limitRanges[ns] = append(in.limitRanges[ns], sourced[corev1.LimitRange]{lr, o.Source})
		default:
			in.workloads = append(in.workloads, o)
		}
	}
	return in
}

func namespaceFindings(ns string, in lintInput) []Finding {
	var fs []Finding
	src := in.namespaces[ns]
	if len(in.quotas[ns]) == 0 {
		fs = append(fs, Finding{Rule: RuleNoQuota, Severity: SeverityWarning, Namespace: ns, Kind: "Namespace", Name: ns, Source: src,
			Message: fmt.Sprintf("namespace %s has no ResourceQuota: its workloads can use the whole cluster", ns)})
	}
	if len(in.limitRanges[ns]) == 0 {
		fs = append(fs, Finding{Rule: RuleNoLimitRange, Severity: SeverityWarning, Namespace: ns, Kind: "Namespace", Name: ns, Source: src,
			Message: fmt.Sprintf("namespace %s has no LimitRange: containers without requests or limits get no defaults", ns)})
	}
	for _, lr := range in.limitRanges[ns] {
		fs = append(fs, limitRangeFindings(lr)...)
		for _, q := range in.quotas[ns] {
			fs = append(fs, limitRangeVsQuota(lr, q)...)
		}
	}
	for _, q := range in.quotas[ns] {
		if f, ok := quotaNeedsDefaults(q, in.limitRanges[ns]); ok {
			fs = append(fs, f)
		}
	}
	return fs
}

func lrFinding(lr sourced[corev1.LimitRange], rule, format string, args ...any) Finding {
	return Finding{Rule: rule, Severity: SeverityError, Namespace: lr.obj.Namespace, Kind: "LimitRange", Name: lr.obj.Name, Source: lr.source, Message: fmt.Sprintf(format, args...)}
}

// limitRangeFindings checks a limit range against itself: min <= default
// request <= default limit <= max, and the default ratio within
// maxLimitRequestRatio.
func limitRangeFindings(lr sourced[corev1.LimitRange]) []Finding {
	var fs []Finding
	for _, item := range lr.obj.Spec.Limits {
		pairs := []struct {
			lowName, highName string
			low, high         corev1.ResourceList
		}{
			{"min", "max", item.Min, item.Max},
			{"min", "default", item.Min, item.Default},
			{"default", "max", item.Default, item.Max},
			{"defaultRequest", "default", item.DefaultRequest, item.Default},
			{"min", "defaultRequest", item.Min, item.DefaultRequest},
			{"defaultRequest", "max", item.DefaultRequest, item.Max},
		}
		for _, p := range pairs {
			for _, name := range sortedNames(p.low) {
				lo := p.low[name]
				hi, ok := p.high[name]
				if ok && lo.Cmp(hi) > 0 {
					fs = append(fs, lrFinding(lr, RuleLimitRangeConflict, "%s item: %s %s=%s is above %s %s=%s", item.Type, p.lowName, name, lo.String(), p.highName, name, hi.String()))
				}
			}
		}
		for _, name := range sortedNames(item.MaxLimitRequestRatio) {
			ratio := item.MaxLimitRequestRatio[name]
			lim, okL := item.Default[name]
			req, okR := item.DefaultRequest[name]
			if okL && okR && req.Sign() > 0 && lim.AsApproximateFloat64()/req.AsApproximateFloat64() > ratio.AsApproximateFloat64() {
				fs = append(fs, lrFinding(lr, RuleLimitRangeConflict, "%s item: default %s=%s over defaultRequest %s=%s exceeds maxLimitRequestRatio %s", item.Type, name, lim.String(), name, req.String(), ratio.String()))
			}
		}
	}
	return fs
}

// limitRangeVsQuota finds Container defaults and minimums a quota can
// never hold: each pod relying on them is rejected.
func limitRangeVsQuota(lr sourced[corev1.LimitRange], q sourced[corev1.ResourceQuota]) []Finding {
	var fs []Finding
	hard := q.obj.Spec.Hard
	check := func(rule, what string, list corev1.ResourceList, quotaNames func(corev1.ResourceName) []corev1.ResourceName, consequence string) {
		for _, name := range sortedNames(list) {
			v := list[name]
			for _, qn := range quotaNames(name) {
				h, ok := hard[qn]
				if ok && v.Cmp(h) > 0 {
					fs = append(fs, lrFinding(lr, rule, "%s %s=%s is above ResourceQuota %s's %s=%s: %s", what, name, v.String(), q.obj.Name, qn, h.String(), consequence))
				}
			}
		}
	}
	requestNames := func(n corev1.ResourceName) []corev1.ResourceName {
		return []corev1.ResourceName{n, corev1.ResourceName(corev1.DefaultResourceRequestsPrefix + string(n))}
	}
	limitNames := func(n corev1.ResourceName) []corev1.ResourceName {
		return []corev1.ResourceName{corev1.ResourceName("limits." + string(n))}
	}
	for _, item := range lr.obj.Spec.Limits {
		if item.Type == corev1.LimitTypePersistentVolumeClaim {
			check(RuleMinExceedsQuota, "PersistentVolumeClaim min", item.Min, func(n corev1.ResourceName) []corev1.ResourceName {
				return []corev1.ResourceName{corev1.ResourceName(corev1.DefaultResourceRequestsPrefix + string(n))}
			}, "no claim can be created")
			continue
		}
		what := string(item.Type)
		check(RuleMinExceedsQuota, what+" min", item.Min, requestNames, "no pod can be admitted")
		if item.Type == corev1.LimitTypeContainer {
			check(RuleDefaultExceedsQuota, "default limit", item.Default, limitNames, "every pod relying on the default is rejected")
			check(RuleDefaultExceedsQuota, "defaultRequest", item.DefaultRequest, requestNames, "every pod relying on the default is rejected")
		}
	}
	return fs
}

// quotaNeedsDefaults finds a quota on cpu or memory with no LimitRange
// default for it: pods that do not set it are rejected with "must
// specify".
func quotaNeedsDefaults(q sourced[corev1.ResourceQuota], lrs []sourced[corev1.LimitRange]) (Finding, bool) {
	var missing []string
	for _, name := range sortedNames(q.obj.Spec.Hard) {
		if !validationSet.Has(string(name)) {
			continue
		}
		base, isLimit := strings.CutPrefix(string(name), "limits.")
		base = strings.TrimPrefix(base, corev1.DefaultResourceRequestsPrefix)
		if !lrDefaults(lrs, corev1.ResourceName(base), isLimit) {
			missing = append(missing, string(name))
		}
	}
	if len(missing) == 0 {
		return Finding{}, false
	}
	return Finding{
		Rule: RuleQuotaNeedsDefaults, Severity: SeverityWarning, Namespace: q.obj.Namespace, Kind: "ResourceQuota", Name: q.obj.Name, Source: q.source,
		Message: fmt.Sprintf("ResourceQuota %s tracks %s but no LimitRange sets a default: every container must set it or its pod is rejected (must specify ...)", q.obj.Name, strings.Join(missing, ", ")),
	}, true
}

func lrDefaults(lrs []sourced[corev1.LimitRange], base corev1.ResourceName, limit bool) bool {
	for _, lr := range lrs {
		for _, item := range lr.obj.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			if _, ok := item.Default[base]; ok && limit {
				return true
			}
			if _, ok := item.DefaultRequest[base]; ok && !limit {
				return true
			}
		}
	}
	return false
}

// podFindings checks one pod of each workload, with the LimitRange
// defaults applied, against each quota of its namespace on its own.
func podFindings(in lintInput, defaultNS string) []Finding {
	var fs []Finding
	for _, o := range in.workloads {
		obj := o.Object.DeepCopyObject()
		gvk := loader.GVK(obj)
		acc, err := meta.Accessor(obj)
		if err != nil {
			continue
		}
		ns := acc.GetNamespace()
		if ns == "" {
			ns = defaultNS
		}
		pod := firstPod(expand(obj, gvk, ns, 1))
		if pod == nil || len(in.quotas[ns]) == 0 {
			continue
		}
		DefaultPod(pod)
		var lrs []corev1.LimitRange
		for _, lr := range in.limitRanges[ns] {
			lrs = append(lrs, lr.obj)
		}
		MutatePod(pod, lrs)
		usage := PodUsage(pod, time.Time{})
		for _, q := range in.quotas[ns] {
			ok, err := (&PodEvaluator{}).Matches(&q.obj, pod)
			if err != nil || !ok {
				continue
			}
			masked := quotav1.Mask(usage, quotav1.ResourceNames(q.obj.Spec.Hard))
			if fits, exceeded := quotav1.LessThanOrEqual(masked, q.obj.Spec.Hard); !fits {
				fs = append(fs, Finding{
					Rule: RulePodExceedsQuota, Severity: SeverityError, Namespace: ns, Kind: gvk.Kind, Name: acc.GetName(), Source: o.Source,
					Message: fmt.Sprintf("one pod of %s %s alone needs %s, more than ResourceQuota %s allows (%s)", gvk.Kind, acc.GetName(),
						prettyList(quotav1.Mask(masked, exceeded)), q.obj.Name, prettyList(quotav1.Mask(q.obj.Spec.Hard, exceeded))),
				})
			}
		}
	}
	return fs
}

func firstPod(e expansion) *corev1.Pod {
	for _, c := range e.creations {
		if p, ok := c.obj.(*corev1.Pod); ok {
			return p
		}
	}
	return nil
}

// prettyList prints name=value pairs sorted by name, as kube-apiserver's
// quota errors do.
func prettyList(l corev1.ResourceList) string {
	parts := make([]string, 0, len(l))
	for _, name := range sortedNames(l) {
		v := l[name]
		parts = append(parts, string(name)+"="+v.String())
	}
	return strings.Join(parts, ",")
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
