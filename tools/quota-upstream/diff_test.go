package quotaupstream

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	api "k8s.io/kubernetes/pkg/apis/core"
	k8sv1 "k8s.io/kubernetes/pkg/apis/core/v1"
	"k8s.io/kubernetes/pkg/quota/v1/evaluator/core"
	"k8s.io/kubernetes/plugin/pkg/admission/limitranger"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kauth/kauth/internal/quota"
)

var names = []corev1.ResourceName{"cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "example.com/gpu"}

func qty(r *rand.Rand, name corev1.ResourceName) resource.Quantity {
	switch name {
	case "cpu":
		return resource.MustParse(fmt.Sprintf("%dm", 1+r.IntN(3000)))
	case "example.com/gpu":
		return resource.MustParse(fmt.Sprint(r.IntN(4)))
	default:
		return resource.MustParse(fmt.Sprintf("%dMi", 1+r.IntN(4096)))
	}
}

func list(r *rand.Rand, p float64) corev1.ResourceList {
	if r.Float64() < 0.2 {
		return nil
	}
	l := corev1.ResourceList{}
	for _, n := range names {
		if r.Float64() < p {
			l[n] = qty(r, n)
		}
	}
	return l
}

func container(r *rand.Rand, name string) corev1.Container {
	return corev1.Container{Name: name, Image: "x", Resources: corev1.ResourceRequirements{Requests: list(r, 0.4), Limits: list(r, 0.4)}}
}

func randomPod(r *rand.Rand) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	for i := range 1 + r.IntN(3) {
		pod.Spec.Containers = append(pod.Spec.Containers, container(r, fmt.Sprintf("c%d", i)))
	}
	for i := range r.IntN(3) {
		c := container(r, fmt.Sprintf("i%d", i))
		if r.Float64() < 0.4 {
			always := corev1.ContainerRestartPolicyAlways
			c.RestartPolicy = &always
		}
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, c)
	}
	if r.Float64() < 0.2 {
		pod.Spec.Overhead = corev1.ResourceList{"cpu": qty(r, "cpu"), "memory": qty(r, "memory")}
	}
	if r.Float64() < 0.15 {
		pod.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": qty(r, "cpu")}, Limits: corev1.ResourceList{"memory": qty(r, "memory")}}
	}
	switch r.IntN(10) {
	case 0:
		pod.Status.Phase = corev1.PodSucceeded
	case 1:
		pod.Status.Phase = corev1.PodFailed
	}
	if r.Float64() < 0.2 {
		ads := int64(r.IntN(100))
		pod.Spec.ActiveDeadlineSeconds = &ads
	}
	return pod
}

func TestPodUsage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	clk := testingclock.NewFakeClock(time.Now())
	for i := range 20000 {
		pod := randomPod(r)
		want, err := core.PodUsageFunc(pod.DeepCopy(), clk)
		if err != nil {
			t.Fatal(err)
		}
		got := quota.PodUsage(pod.DeepCopy(), clk.Now())
		if !quotav1.Equals(want, got) {
			t.Fatalf("case %d: usage differs\npod: %+v\nupstream: %v\nkauth:    %v", i, pod.Spec, want, got)
		}
	}
}

var required = []corev1.ResourceName{"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods", "requests.ephemeral-storage"}

func TestConstraintsAndScopes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	clk := testingclock.NewFakeClock(time.Now())
	up := core.NewPodEvaluator(nil, clk)
	mine := &quota.PodEvaluator{Now: clk.Now}
	nMust := 0
	defer func() { t.Logf("constraints: %d must-specify of 20000", nMust) }()
	scopes := []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating}
	for i := range 20000 {
		pod := randomPod(r)
		var req []corev1.ResourceName
		for _, n := range required {
			if r.Float64() < 0.3 {
				req = append(req, n)
			}
		}
		e1, e2 := up.Constraints(req, pod), mine.Constraints(req, pod)
		if e1 != nil {
			nMust++
		}
		if fmt.Sprint(e1) != fmt.Sprint(e2) {
			t.Fatalf("case %d: constraints differ for %v\nupstream: %v\nkauth:    %v", i, req, e1, e2)
		}
		q := &corev1.ResourceQuota{Status: corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{"pods": resource.MustParse("1")}}}
		q.Spec.Scopes = []corev1.ResourceQuotaScope{scopes[r.IntN(len(scopes))]}
		m1, err1 := up.Matches(q, pod)
		m2, err2 := mine.Matches(q, pod)
		if m1 != m2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("case %d: matches %v differ: upstream %v %v, kauth %v %v", i, q.Spec.Scopes, m1, err1, m2, err2)
		}
	}
}

func randomLimitRange(r *rand.Rand) corev1.LimitRange {
	lr := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: "ns"}}
	for range 1 + r.IntN(2) {
		item := corev1.LimitRangeItem{Type: corev1.LimitTypeContainer}
		if r.Float64() < 0.3 {
			item.Type = corev1.LimitTypePod
		}
		pick := func() corev1.ResourceList {
			if r.Float64() < 0.5 {
				return nil
			}
			n := names[r.IntN(2)]
			return corev1.ResourceList{n: qty(r, n)}
		}
		item.Min, item.Max = pick(), pick()
		if item.Type == corev1.LimitTypeContainer {
			item.Default, item.DefaultRequest = pick(), pick()
		}
		if r.Float64() < 0.3 {
			item.MaxLimitRequestRatio = corev1.ResourceList{names[r.IntN(2)]: resource.MustParse(fmt.Sprint(1 + r.IntN(4)))}
		}
		lr.Spec.Limits = append(lr.Spec.Limits, item)
	}
	return lr
}

// sortAgg makes an aggregate's message independent of upstream's map
// iteration order.
func sortAgg(err error) string {
	if err == nil {
		return ""
	}
	s := strings.TrimSuffix(strings.TrimPrefix(err.Error(), "["), "]")
	parts := strings.Split(s, ", ")
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func TestLimitRanger(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	nErr, nMut := 0, 0
	defer func() { t.Logf("limitranger: %d rejected, %d mutated of 20000", nErr, nMut) }()
	for i := range 20000 {
		pod := randomPod(r)
		pod.Status = corev1.PodStatus{}
		k8sv1.SetObjectDefaults_Pod(pod)
		raw := randomLimitRange(r)
		lr := *raw.DeepCopy()
		k8sv1.SetObjectDefaults_LimitRange(&lr)
		mine := raw.DeepCopy()

		var internal api.Pod
		if err := k8sv1.Convert_v1_Pod_To_core_Pod(pod.DeepCopy(), &internal, nil); err != nil {
			t.Fatal(err)
		}
		if err := limitranger.PodMutateLimitFunc(&lr, &internal); err != nil {
			t.Fatal(err)
		}
		upErr := limitranger.PodValidateLimitFunc(&lr, &internal)
		var upPod corev1.Pod
		if err := k8sv1.Convert_core_Pod_To_v1_Pod(&internal, &upPod, nil); err != nil {
			t.Fatal(err)
		}

		got := pod.DeepCopy()
		quota.DefaultLimitRange(mine)
		quota.MutatePod(got, []corev1.LimitRange{*mine})
		gotErr := quota.ValidatePod(got, mine)

		if diff := cmp.Diff(upPod.Spec.Containers, got.Spec.Containers, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Fatalf("case %d: mutated containers differ (-upstream +kauth):\n%s", i, diff)
		}
		if upPod.Annotations[quota.LimitRangerAnnotation] != got.Annotations[quota.LimitRangerAnnotation] {
			t.Fatalf("case %d: annotation differs:\nupstream: %q\nkauth:    %q", i, upPod.Annotations[quota.LimitRangerAnnotation], got.Annotations[quota.LimitRangerAnnotation])
		}
		if upErr != nil {
			nErr++
		}
		if got.Annotations[quota.LimitRangerAnnotation] != "" {
			nMut++
		}
		if sortAgg(upErr) != sortAgg(gotErr) {
			t.Fatalf("case %d: validation differs\nlimits: %+v\nupstream: %v\nkauth:    %v", i, lr.Spec.Limits, upErr, gotErr)
		}
	}
}

func TestDefaultLimitRange(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		raw := randomLimitRange(r)
		up := raw.DeepCopy()
		k8sv1.SetObjectDefaults_LimitRange(up)
		mine := raw.DeepCopy()
		quota.DefaultLimitRange(mine)
		if diff := cmp.Diff(up, mine, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Fatalf("case %d: defaulting differs (-upstream +kauth):\n%s", i, diff)
		}
	}
}

func TestServiceAndPVCUsage(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	upSvc := core.NewServiceEvaluator(nil)
	upPVC := core.NewPersistentVolumeClaimEvaluator(nil)
	types := []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	for i := range 10000 {
		svc := &corev1.Service{Spec: corev1.ServiceSpec{Type: types[r.IntN(len(types))]}}
		for range r.IntN(4) {
			p := corev1.ServicePort{Port: int32(1 + r.IntN(1000))}
			if r.Float64() < 0.5 {
				p.NodePort = int32(30000 + r.IntN(2000))
			}
			svc.Spec.Ports = append(svc.Spec.Ports, p)
		}
		if r.Float64() < 0.3 {
			b := r.Float64() < 0.5
			svc.Spec.AllocateLoadBalancerNodePorts = &b
		}
		want, _ := upSvc.Usage(svc)
		got, _ := quota.ServiceEvaluator{}.Usage(svc)
		if !quotav1.Equals(want, got) {
			t.Fatalf("case %d: service usage differs\nupstream: %v\nkauth:    %v", i, want, got)
		}
		pvc := &corev1.PersistentVolumeClaim{}
		if r.Float64() < 0.8 {
			pvc.Spec.Resources.Requests = corev1.ResourceList{"storage": resource.MustParse(fmt.Sprintf("%dm", r.IntN(5000000)))}
		}
		if r.Float64() < 0.5 {
			sc := []string{"gold", "silver"}[r.IntN(2)]
			pvc.Spec.StorageClassName = &sc
		}
		if r.Float64() < 0.2 {
			pvc.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "bronze"}
		}
		if r.Float64() < 0.2 {
			pvc.Status.AllocatedResources = corev1.ResourceList{"storage": resource.MustParse(fmt.Sprintf("%d", r.IntN(5000)))}
		}
		want, _ = upPVC.Usage(pvc)
		got, _ = quota.PVCEvaluator{}.Usage(pvc)
		if !quotav1.Equals(want, got) {
			t.Fatalf("case %d: claim usage differs\nupstream: %v\nkauth:    %v", i, want, got)
		}
		hard := []corev1.ResourceName{"persistentvolumeclaims", "requests.storage", "gold.storageclass.storage.k8s.io/requests.storage", "count/persistentvolumeclaims", "pods", "services", "services.nodeports", "count/services"}
		if a, b := upPVC.MatchingResources(hard), (quota.PVCEvaluator{}).MatchingResources(hard); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("pvc matching differs: %v vs %v", a, b)
		}
		if a, b := upSvc.MatchingResources(hard), (quota.ServiceEvaluator{}).MatchingResources(hard); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("service matching differs: %v vs %v", a, b)
		}
	}
}
