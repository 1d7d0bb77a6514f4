package quota

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func limitRange(items ...corev1.LimitRangeItem) corev1.LimitRange {
	lr := corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: items}}
	DefaultLimitRange(&lr)
	return lr
}

func TestDefaultLimitRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item corev1.LimitRangeItem
		want corev1.LimitRangeItem
	}{
		{
			name: "max becomes the default limit and the default request",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "2")},
			want: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("cpu", "2"), Default: rl("cpu", "2"), DefaultRequest: rl("cpu", "2")},
		},
		{
			name: "min becomes the default request when nothing else sets it",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("memory", "64Mi")},
			want: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("memory", "64Mi"), Default: rl(), DefaultRequest: rl("memory", "64Mi")},
		},
		{
			name: "Pod items are not defaulted",
			item: corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "2")},
			want: corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "2")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lr := limitRange(tc.item)
			if diff := cmp.Diff(tc.want, lr.Spec.Limits[0], quantityCmp); diff != "" {
				t.Errorf("DefaultLimitRange() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMutatePod(t *testing.T) {
	t.Parallel()
	lr := limitRange(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m", "memory", "512Mi"), DefaultRequest: rl("cpu", "100m")})
	pod := testPod("ns", "p", ctr("app", nil, nil), ctr("side", rl("cpu", "50m"), rl("memory", "1Gi")))
	MutatePod(pod, []corev1.LimitRange{lr})
	want := []corev1.ResourceRequirements{
		{Requests: rl("cpu", "100m", "memory", "512Mi"), Limits: rl("cpu", "500m", "memory", "512Mi")},
		{Requests: rl("cpu", "50m", "memory", "512Mi"), Limits: rl("cpu", "500m", "memory", "1Gi")},
	}
	got := []corev1.ResourceRequirements{pod.Spec.Containers[0].Resources, pod.Spec.Containers[1].Resources}
	if diff := cmp.Diff(want, got, quantityCmp); diff != "" {
		t.Errorf("MutatePod() mismatch (-want +got):\n%s", diff)
	}
	wantNote := "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app; memory request for container side; cpu limit for container side"
	if got := pod.Annotations[LimitRangerAnnotation]; got != wantNote {
		t.Errorf("annotation = %q, want %q", got, wantNote)
	}
}

func TestValidatePod(t *testing.T) {
	t.Parallel()
	container := func(items ...corev1.LimitRangeItem) corev1.LimitRange {
		return corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: items}}
	}
	tests := []struct {
		name string
		lr   corev1.LimitRange
		pod  *corev1.Pod
		want string
	}{
		{"min request", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m")}),
			testPod("ns", "p", ctr("a", rl("cpu", "50m"), nil)), "minimum cpu usage per Container is 100m, but request is 50m"},
		{"min without request", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m")}),
			testPod("ns", "p", ctr("a", nil, nil)), "minimum cpu usage per Container is 100m.  No request is specified"},
		{"max limit", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("memory", "1Gi")}),
			testPod("ns", "p", ctr("a", rl("memory", "1Gi"), rl("memory", "2Gi"))), "maximum memory usage per Container is 1Gi, but limit is 2Gi"},
		{"max without limit", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Max: rl("memory", "1Gi")}),
			testPod("ns", "p", ctr("a", nil, nil)), "maximum memory usage per Container is 1Gi.  No limit is specified"},
		{"ratio", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl("cpu", "2")}),
			testPod("ns", "p", ctr("a", rl("cpu", "100m"), rl("cpu", "500m"))), "cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000"},
		{"ratio without request", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, MaxLimitRequestRatio: rl("cpu", "2")}),
			testPod("ns", "p", ctr("a", nil, rl("cpu", "500m"))), "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0"},
		{"pod max over the sum of containers", container(corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: rl("cpu", "1")}),
			testPod("ns", "p", ctr("a", rl("cpu", "600m"), rl("cpu", "600m")), ctr("b", rl("cpu", "600m"), rl("cpu", "600m"))), "maximum cpu usage per Pod is 1, but limit is 1200m"},
		{"several violations aggregate", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m", "memory", "10Mi")}),
			testPod("ns", "p", ctr("a", nil, nil)), "[minimum cpu usage per Container is 100m.  No request is specified, minimum memory usage per Container is 10Mi.  No request is specified]"},
		{"within bounds", container(corev1.LimitRangeItem{Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m"), Max: rl("cpu", "1")}),
			testPod("ns", "p", ctr("a", rl("cpu", "200m"), rl("cpu", "1"))), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ""
			if err := ValidatePod(tc.pod, &tc.lr); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ValidatePod() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
