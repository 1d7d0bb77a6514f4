package quota

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Placeholders for the parts of a generated name kauth cannot know.
const (
	hashPlaceholder = "{pod-template-hash}"
	timePlaceholder = "{scheduled-time}"
)

// creation is one create request the apiserver would see: the object the
// user applies, or one its controllers create (ReplicaSets, Jobs, pods,
// claims), in the order they would be created.
type creation struct {
	obj runtime.Object
	gvk schema.GroupVersionKind
	gvr schema.GroupVersionResource
	pod bool
}

// expansion is what one applied object leads to.
type expansion struct {
	creations []creation
	pods      int
	note      string
}

// expand lists the creations obj leads to, replicas multiplied out.
// daemonNodes is how many nodes a DaemonSet is assumed to run on.
func expand(obj runtime.Object, gvk schema.GroupVersionKind, namespace string, daemonNodes int) expansion {
	self := creationOf(obj, gvk)
	switch o := obj.(type) {
	case *corev1.Pod:
		return expansion{creations: []creation{self}, pods: 1}
	case *appsv1.Deployment:
		rsName := o.Name + "-" + hashPlaceholder
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: rsName, Namespace: namespace}}
		e := replicated(self, &o.Spec.Template, namespace, rsName+"-", replicas(o.Spec.Replicas))
		e.creations = append([]creation{self, creationOf(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}, e.creations[1:]...)
		return e
	case *appsv1.ReplicaSet:
		return replicated(self, &o.Spec.Template, namespace, o.Name+"-", replicas(o.Spec.Replicas))
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			return expansion{creations: []creation{self}}
		}
		return replicated(self, o.Spec.Template, namespace, o.Name+"-", replicas(o.Spec.Replicas))
	case *appsv1.StatefulSet:
		return statefulSet(self, o, namespace)
	case *appsv1.DaemonSet:
		e := replicated(self, &o.Spec.Template, namespace, o.Name+"-", daemonNodes)
		e.note = fmt.Sprintf("a DaemonSet runs one pod per matching node; the number of nodes is unknown, counted as %d (--nodes)", daemonNodes)
		return e
	case *batchv1.Job:
		return job(self, o.Name, &o.Spec, namespace)
	case *batchv1.CronJob:
		jobName := o.Name + "-" + timePlaceholder
		jobObj := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: jobName, Namespace: namespace}}
		e := job(creationOf(jobObj, batchv1.SchemeGroupVersion.WithKind("Job")), jobName, &o.Spec.JobTemplate.Spec, namespace)
		e.creations = append([]creation{self}, e.creations...)
		e.note = "a CronJob creates a Job at each scheduled time; counted as one Job running at a time"
		return e
	}
	return expansion{creations: []creation{self}}
}

func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

func creationOf(obj runtime.Object, gvk schema.GroupVersionKind) creation {
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	_, isPod := obj.(*corev1.Pod)
	return creation{obj: obj, gvk: gvk, gvr: gvr, pod: isPod}
}

// replicated is self followed by n pods from tmpl, named by generateName.
func replicated(self creation, tmpl *corev1.PodTemplateSpec, namespace, generateName string, n int) expansion {
	e := expansion{creations: []creation{self}, pods: n}
	for range n {
		pod := podFromTemplate(tmpl, namespace)
		pod.GenerateName = generateName
		e.creations = append(e.creations, creationOf(pod, corev1.SchemeGroupVersion.WithKind("Pod")))
	}
	return e
}

func podFromTemplate(tmpl *corev1.PodTemplateSpec, namespace string) *corev1.Pod {
	t := tmpl.DeepCopy()
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Labels: t.Labels, Annotations: t.Annotations,
		},
		Spec: t.Spec,
	}
}

func statefulSet(self creation, s *appsv1.StatefulSet, namespace string) expansion {
	n := replicas(s.Spec.Replicas)
	e := expansion{creations: []creation{self}, pods: n}
	start := 0
	if s.Spec.Ordinals != nil {
		start = int(s.Spec.Ordinals.Start)
	}
	for i := start; i < start+n; i++ {
		for _, t := range s.Spec.VolumeClaimTemplates {
			pvc := t.DeepCopy()
			pvc.Name = fmt.Sprintf("%s-%s-%d", t.Name, s.Name, i)
			pvc.Namespace = namespace
			e.creations = append(e.creations, creationOf(pvc, corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim")))
		}
		pod := podFromTemplate(&s.Spec.Template, namespace)
		pod.Name = fmt.Sprintf("%s-%d", s.Name, i)
		e.creations = append(e.creations, creationOf(pod, corev1.SchemeGroupVersion.WithKind("Pod")))
	}
	return e
}

// job runs the pods a Job keeps active at once: parallelism (default 1),
// at most completions.
func job(self creation, name string, spec *batchv1.JobSpec, namespace string) expansion {
	n := 1
	if spec.Parallelism != nil {
		n = int(*spec.Parallelism)
	}
	if spec.Completions != nil && int(*spec.Completions) < n {
		n = int(*spec.Completions)
	}
	e := expansion{creations: []creation{self}, pods: n}
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	for i := range n {
		pod := podFromTemplate(&spec.Template, namespace)
		pod.GenerateName = name + "-"
		if indexed {
			pod.GenerateName = fmt.Sprintf("%s-%d-", name, i)
		}
		e.creations = append(e.creations, creationOf(pod, corev1.SchemeGroupVersion.WithKind("Pod")))
	}
	return e
}

// clusterScoped lists the built-in kinds that live outside namespaces and
// are never charged to a quota.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true,
	"ClusterRoleBinding": true, "StorageClass": true, "PriorityClass": true,
	"CustomResourceDefinition": true, "RuntimeClass": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"APIService": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true,
	"CertificateSigningRequest": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
	"DeviceClass": true, "VolumeAttributesClass": true, "ClusterTrustBundle": true,
}

// isClusterScoped tells whether gvk names a cluster-scoped built-in kind.
func isClusterScoped(gvk schema.GroupVersionKind) bool {
	return clusterScoped[gvk.Kind] && !strings.HasSuffix(gvk.Group, ".x-k8s.io")
}
