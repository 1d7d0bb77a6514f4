package admission

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
)

func TestNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	terminating := namespace("leaving", nil)
	terminating.Status.Phase = corev1.NamespaceTerminating
	h := newHarness(t, []string{NamespaceLifecycle}, namespace("default", nil), namespace("kube-system", nil), namespace("team", nil), terminating)
	tests := []struct {
		name     string
		op       admission.Operation
		obj, old runtime.Object
		ns, n    string
		resource string
		want     string
	}{
		{name: "active namespace", op: admission.Create, obj: pod("team", "p", nil), ns: "team", n: "p", resource: "pods"},
		{name: "missing namespace", op: admission.Create, obj: pod("nowhere", "p", nil), ns: "nowhere", n: "p", resource: "pods",
			want: `namespaces "nowhere" not found`},
		{name: "terminating namespace", op: admission.Create, obj: pod("leaving", "p", nil), ns: "leaving", n: "p", resource: "pods",
			want: `pods "p" is forbidden: unable to create new content in namespace leaving because it is being terminated`},
		{name: "default is immortal", op: admission.Delete, old: namespace("default", nil), n: "default", resource: "namespaces",
			want: `namespaces "default" is forbidden: this namespace may not be deleted`},
		{name: "kube-system is immortal", op: admission.Delete, old: namespace("kube-system", nil), n: "kube-system", resource: "namespaces",
			want: `namespaces "kube-system" is forbidden: this namespace may not be deleted`},
		{name: "other namespaces may go", op: admission.Delete, old: namespace("team", nil), n: "team", resource: "namespaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errString(h.run(t, tt.op, tt.obj, tt.old, tt.ns, tt.n, tt.resource)); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLimitRanger(t *testing.T) {
	t.Parallel()
	lr := &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "limits"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Max:            corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		}}},
	}
	h := newHarness(t, []string{LimitRanger}, namespace("team", nil), lr)

	p := pod("team", "defaulted", nil)
	if err := h.run(t, admission.Create, p, nil, "team", p.Name, "pods"); err != nil {
		t.Fatal(err)
	}
	want := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	if diff := cmp.Diff(want.Requests.Cpu().String(), p.Spec.Containers[0].Resources.Requests.Cpu().String()); diff != "" {
		t.Errorf("cpu request (-want +got):\n%s", diff)
	}
	if got := p.Spec.Containers[0].Resources.Limits.Memory().String(); got != "256Mi" {
		t.Errorf("memory limit = %s, want 256Mi", got)
	}
	if p.Annotations[`kubernetes.io/limit-ranger`] == "" {
		t.Errorf("pod has no kubernetes.io/limit-ranger annotation: %v", p.Annotations)
	}

	big := pod("team", "big", map[corev1.ResourceName]string{corev1.ResourceCPU: "2"})
	big.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	wantErr := `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`
	if got := errString(h.run(t, admission.Create, big, nil, "team", big.Name, "pods")); got != wantErr {
		t.Errorf("error = %q, want %q", got, wantErr)
	}
}

func TestResourceQuotaRejects(t *testing.T) {
	t.Parallel()
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "compute"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1"), corev1.ResourceRequestsCPU: resource.MustParse("1")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1"), corev1.ResourceRequestsCPU: resource.MustParse("1")},
			Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0"), corev1.ResourceRequestsCPU: resource.MustParse("0")},
		},
	}
	cmq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "cms", Name: "objects"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/configmaps": resource.MustParse("0")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"count/configmaps": resource.MustParse("0")},
			Used: corev1.ResourceList{"count/configmaps": resource.MustParse("0")},
		},
	}
	h := newHarness(t, []string{ResourceQuota}, namespace("team", nil), namespace("cms", nil), rq, cmq)
	tests := []struct {
		name string
		obj  runtime.Object
		ns   string
		res  string
		want string
	}{
		{name: "over cpu", obj: pod("team", "hungry", map[corev1.ResourceName]string{corev1.ResourceCPU: "2"}), ns: "team", res: "pods",
			want: `pods "hungry" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1`},
		{name: "cpu not set", obj: pod("team", "vague", nil), ns: "team", res: "pods",
			want: `pods "vague" is forbidden: failed quota: compute: must specify requests.cpu for: app`},
		{name: "count", obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "cms", Name: "c"}}, ns: "cms", res: "configmaps",
			want: `configmaps "c" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=0, limited: count/configmaps=0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := tt.obj.(metav1.Object).GetName()
			if got := errString(h.run(t, admission.Create, tt.obj, nil, tt.ns, name, tt.res)); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResourceQuotaCharges(t *testing.T) {
	t.Parallel()
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "pods"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")},
			Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
		},
	}
	h := newHarness(t, []string{ResourceQuota}, namespace("team", nil), rq)
	if err := h.run(t, admission.Create, pod("team", "a", nil), nil, "team", "a", "pods"); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.CoreV1().ResourceQuotas("team").Get(t.Context(), "pods", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if used := got.Status.Used[corev1.ResourcePods]; used.String() != "1" {
		t.Errorf("status.used.pods = %s after admitting a pod, want 1", used.String())
	}
}

func TestServiceAccount(t *testing.T) {
	t.Parallel()
	off := false
	h := newHarness(t, []string{ServiceAccount}, namespace("team", nil), defaultSA("team"),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "quiet"}, AutomountServiceAccountToken: &off,
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "registry"}}})

	p := pod("team", "p", nil)
	if err := h.run(t, admission.Create, p, nil, "team", "p", "pods"); err != nil {
		t.Fatal(err)
	}
	if p.Spec.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName = %q, want default", p.Spec.ServiceAccountName)
	}
	if len(p.Spec.Volumes) != 1 || len(p.Spec.Volumes[0].Name) != len("kube-api-access-")+5 {
		t.Fatalf("volumes = %+v, want one kube-api-access-xxxxx volume", p.Spec.Volumes)
	}
	wantMount := []corev1.VolumeMount{{Name: p.Spec.Volumes[0].Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}
	if diff := cmp.Diff(wantMount, p.Spec.Containers[0].VolumeMounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tokenVolumeSource(), p.Spec.Volumes[0].Projected); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}

	q := pod("team", "q", nil)
	q.Spec.ServiceAccountName = "quiet"
	if err := h.run(t, admission.Create, q, nil, "team", "q", "pods"); err != nil {
		t.Fatal(err)
	}
	if len(q.Spec.Volumes) != 0 || q.Spec.ImagePullSecrets[0].Name != "registry" {
		t.Errorf("pod of an account without automount: volumes %v, pull secrets %v", q.Spec.Volumes, q.Spec.ImagePullSecrets)
	}

	m := pod("team", "m", nil)
	m.Spec.ServiceAccountName = "ghost"
	want := `pods "m" is forbidden: error looking up service account team/ghost: serviceaccounts "ghost" not found`
	if got := errString(h.run(t, admission.Create, m, nil, "team", "m", "pods")); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestAlwaysPullImages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []string{AlwaysPullImages})
	p := pod("team", "p", nil)
	p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ImagePullPolicy: corev1.PullNever}}
	if err := h.run(t, admission.Create, p, nil, "team", "p", "pods"); err != nil {
		t.Fatal(err)
	}
	got := []corev1.PullPolicy{p.Spec.InitContainers[0].ImagePullPolicy, p.Spec.Containers[0].ImagePullPolicy}
	if diff := cmp.Diff([]corev1.PullPolicy{corev1.PullAlways, corev1.PullAlways}, got); diff != "" {
		t.Errorf("pull policies (-want +got):\n%s", diff)
	}
}

func TestPodSecurity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []string{PodSecurity},
		namespace("locked", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}),
		namespace("open", nil))
	priv := func(ns string) *corev1.Pod {
		p := pod(ns, "root", nil)
		yes := true
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
		return p
	}
	if err := h.run(t, admission.Create, priv("open"), nil, "open", "root", "pods"); err != nil {
		t.Errorf("privileged namespace refused a privileged pod: %v", err)
	}
	err := h.run(t, admission.Create, priv("locked"), nil, "locked", "root", "pods")
	want := `pods "root" is forbidden: violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`
	if got := errString(err); got != want {
		t.Errorf("error = %q\nwant    %q", got, want)
	}
}
