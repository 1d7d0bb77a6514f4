package quota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// quantityCmp compares quantities by value, as upstream's quota.Equals.
var quantityCmp = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

// The cases follow k8s.io/kubernetes pkg/quota/v1/evaluator/core
// pods_test.go's TestPodEvaluatorUsage.
func TestPodUsage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name string
		pod  *corev1.Pod
		want corev1.ResourceList
	}{
		{
			name: "requests and limits",
			pod:  testPod("ns", "p", ctr("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "2Gi"))),
			want: rl("count/pods", "1", "pods", "1", "cpu", "1", "requests.cpu", "1", "limits.cpu", "2",
				"memory", "1Gi", "requests.memory", "1Gi", "limits.memory", "2Gi"),
		},
		{
			name: "init containers: max of any init container and the sum of the containers",
			pod: &corev1.Pod{Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{ctr("i", rl("cpu", "3"), nil)},
				Containers:     []corev1.Container{ctr("a", rl("cpu", "1"), nil), ctr("b", rl("cpu", "1"), nil)},
			}},
			want: rl("count/pods", "1", "pods", "1", "cpu", "3", "requests.cpu", "3"),
		},
		{
			name: "sidecar init containers add to the containers",
			pod: &corev1.Pod{Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "s", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: rl("memory", "100Mi")}}},
				Containers:     []corev1.Container{ctr("a", rl("memory", "200Mi"), nil)},
			}},
			want: rl("count/pods", "1", "pods", "1", "memory", "300Mi", "requests.memory", "300Mi"),
		},
		{
			name: "overhead is charged",
			pod: &corev1.Pod{Spec: corev1.PodSpec{
				Overhead:   rl("cpu", "250m", "memory", "120Mi"),
				Containers: []corev1.Container{ctr("a", rl("cpu", "1", "memory", "1Gi"), rl("cpu", "2", "memory", "2Gi"))},
			}},
			want: rl("count/pods", "1", "pods", "1", "cpu", "1250m", "requests.cpu", "1250m", "limits.cpu", "2250m",
				"memory", "1144Mi", "requests.memory", "1144Mi", "limits.memory", "2168Mi"),
		},
		{
			name: "ephemeral storage, hugepages and extended resources",
			pod: testPod("ns", "p", ctr("a",
				rl("ephemeral-storage", "1Gi", "hugepages-2Mi", "100Mi", "example.com/gpu", "2"),
				rl("ephemeral-storage", "2Gi", "hugepages-2Mi", "100Mi", "example.com/gpu", "2"))),
			want: rl("count/pods", "1", "pods", "1", "ephemeral-storage", "1Gi", "requests.ephemeral-storage", "1Gi",
				"limits.ephemeral-storage", "2Gi", "hugepages-2Mi", "100Mi", "requests.hugepages-2Mi", "100Mi",
				"requests.example.com/gpu", "2"),
		},
		{
			name: "terminal pods only count as count/pods",
			pod: &corev1.Pod{
				Spec:   corev1.PodSpec{Containers: []corev1.Container{ctr("a", rl("cpu", "1"), nil)}},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded},
			},
			want: rl("count/pods", "1"),
		},
		{
			name: "pods past their deletion grace period are not charged",
			pod: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{Time: now.Add(-time.Minute)}, DeletionGracePeriodSeconds: ptr.To[int64](30)},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{ctr("a", rl("cpu", "1"), nil)}},
			},
			want: rl("count/pods", "1"),
		},
		{
			name: "pod-level resources override the containers",
			pod: &corev1.Pod{Spec: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: rl("cpu", "2"), Limits: rl("cpu", "4")},
				Containers: []corev1.Container{ctr("a", rl("cpu", "1"), nil)},
			}},
			want: rl("count/pods", "1", "pods", "1", "cpu", "2", "requests.cpu", "2", "limits.cpu", "4"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := PodUsage(tc.pod, now)
			if diff := cmp.Diff(tc.want, got, quantityCmp); diff != "" {
				t.Errorf("PodUsage() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodScopes(t *testing.T) {
	t.Parallel()
	best := testPod("ns", "p", ctr("a", nil, nil))
	burst := testPod("ns", "p", ctr("a", rl("cpu", "1"), nil))
	term := testPod("ns", "p", ctr("a", nil, nil))
	term.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	prio := testPod("ns", "p", ctr("a", nil, nil))
	prio.Spec.PriorityClassName = "high"
	scope := func(name corev1.ResourceQuotaScope, op corev1.ScopeSelectorOperator, values ...string) corev1.ScopedResourceSelectorRequirement {
		return corev1.ScopedResourceSelectorRequirement{ScopeName: name, Operator: op, Values: values}
	}
	tests := []struct {
		name  string
		pod   *corev1.Pod
		scope corev1.ScopedResourceSelectorRequirement
		want  bool
	}{
		{"BestEffort matches a pod without cpu or memory", best, scope(corev1.ResourceQuotaScopeBestEffort, corev1.ScopeSelectorOpExists), true},
		{"BestEffort does not match a burstable pod", burst, scope(corev1.ResourceQuotaScopeBestEffort, corev1.ScopeSelectorOpExists), false},
		{"NotBestEffort matches a burstable pod", burst, scope(corev1.ResourceQuotaScopeNotBestEffort, corev1.ScopeSelectorOpExists), true},
		{"Terminating needs activeDeadlineSeconds", term, scope(corev1.ResourceQuotaScopeTerminating, corev1.ScopeSelectorOpExists), true},
		{"NotTerminating", best, scope(corev1.ResourceQuotaScopeNotTerminating, corev1.ScopeSelectorOpExists), true},
		{"PriorityClass In", prio, scope(corev1.ResourceQuotaScopePriorityClass, corev1.ScopeSelectorOpIn, "high"), true},
		{"PriorityClass NotIn", prio, scope(corev1.ResourceQuotaScopePriorityClass, corev1.ScopeSelectorOpNotIn, "high"), false},
		{"PriorityClass Exists without a class", best, scope(corev1.ResourceQuotaScopePriorityClass, corev1.ScopeSelectorOpExists), false},
		{"PriorityClass DoesNotExist without a class", best, scope(corev1.ResourceQuotaScopePriorityClass, corev1.ScopeSelectorOpDoesNotExist), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := podMatchesScope(tc.scope, tc.pod)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("podMatchesScope() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServiceAndPVCUsage(t *testing.T) {
	t.Parallel()
	sc := "gold"
	tests := []struct {
		name string
		eval interface {
			Usage(obj runtime.Object) (corev1.ResourceList, error)
		}
		obj  runtime.Object
		want corev1.ResourceList
	}{
		{
			name: "NodePort service counts its ports",
			eval: ServiceEvaluator{},
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 443}}}},
			want: rl("count/services", "1", "services", "1", "services.nodeports", "2", "services.loadbalancers", "0"),
		},
		{
			name: "LoadBalancer service",
			eval: ServiceEvaluator{},
			obj:  &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}},
			want: rl("count/services", "1", "services", "1", "services.nodeports", "1", "services.loadbalancers", "1"),
		},
		{
			name: "claim with a storage class, rounded up to whole bytes",
			eval: PVCEvaluator{},
			obj: &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
				StorageClassName: &sc,
				Resources:        corev1.VolumeResourceRequirements{Requests: rl("storage", "1500m")},
			}},
			want: rl("persistentvolumeclaims", "1", "count/persistentvolumeclaims", "1", "requests.storage", "2",
				"gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1", "gold.storageclass.storage.k8s.io/requests.storage", "2"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.eval.Usage(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, quantityCmp); diff != "" {
				t.Errorf("Usage() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
