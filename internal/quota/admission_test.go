package quota

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func testQuota(ns, name string, hard corev1.ResourceList) corev1.ResourceQuota {
	return corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

func testPod(ns, name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{Containers: containers}}
}

func ctr(name string, requests, limits corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Image: "nginx", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits}}
}

func TestAdmitPods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy Policy
		pods   []*corev1.Pod
		want   []string // "" for admitted
	}{
		{
			name:   "exceeded requests.cpu on the second pod",
			policy: Policy{Quotas: []corev1.ResourceQuota{testQuota("team", "compute", rl("requests.cpu", "1", "pods", "10"))}},
			pods: []*corev1.Pod{
				testPod("team", "a", ctr("app", rl("cpu", "600m"), nil)),
				testPod("team", "b", ctr("app", rl("cpu", "600m"), nil)),
			},
			want: []string{"", `pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1`},
		},
		{
			name:   "must specify when a quota tracks cpu and no limit range defaults it",
			policy: Policy{Quotas: []corev1.ResourceQuota{testQuota("team", "compute", rl("limits.cpu", "2", "requests.memory", "1Gi"))}},
			pods:   []*corev1.Pod{testPod("team", "a", ctr("app", nil, nil), ctr("side", rl("memory", "1Mi"), nil))},
			want:   []string{`pods "a" is forbidden: failed quota: compute: must specify limits.cpu for: app,side; requests.memory for: app`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := NewAdmission(tc.policy, nil)
			var got []string
			for _, p := range tc.pods {
				msg := ""
				if err := a.Admit(p, corev1.SchemeGroupVersion.WithKind("Pod"), corev1.SchemeGroupVersion.WithResource("pods")); err != nil {
					msg = err.Error()
				}
				got = append(got, msg)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Admit() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
