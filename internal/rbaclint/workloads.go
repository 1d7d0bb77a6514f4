package rbaclint

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// account is a ServiceAccount object of the inputs.
type account struct {
	key rbac.ObjectKey
	src loader.Source
	sa  *corev1.ServiceAccount
}

// workload is a Pod or a pod-owning object of the inputs, with the pod
// template lint reads.
type workload struct {
	key    rbac.ObjectKey
	src    loader.Source
	spec   *corev1.PodSpec
	labels map[string]string // the object's labels and its pod template's
}

// serviceAccount is the ServiceAccount the workload's pods run as: the
// spec's serviceAccountName (or its deprecated serviceAccount), else
// "default", as the ServiceAccount admission plugin sets it.
func (w workload) serviceAccount() Subject {
	name := w.spec.ServiceAccountName
	if name == "" {
		name = w.spec.DeprecatedServiceAccount
	}
	if name == "" {
		name = "default"
	}
	return Subject{Kind: "ServiceAccount", Name: name, Namespace: w.key.Namespace}
}

// tokenMount says whether the workload's pods get a token the API server
// accepts, and why: the pod's automountServiceAccountToken wins over the
// ServiceAccount's, and both default to true; a projected
// serviceAccountToken volume without audience (the API server's) mounts
// one too.
type tokenMount struct {
	mounted bool
	// explicit is set when the pod spec itself says
	// automountServiceAccountToken: true.
	explicit bool
	// projected is set when a projected volume requests the token.
	projected bool
}

func (w workload) token(sa *account) tokenMount {
	var t tokenMount
	switch {
	case w.spec.AutomountServiceAccountToken != nil:
		t.mounted, t.explicit = *w.spec.AutomountServiceAccountToken, *w.spec.AutomountServiceAccountToken
	case sa != nil && sa.sa.AutomountServiceAccountToken != nil:
		t.mounted = *sa.sa.AutomountServiceAccountToken
	default:
		t.mounted = true
	}
	for _, v := range w.spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil && s.ServiceAccountToken.Audience == "" {
				t.projected = true
			}
		}
	}
	return t
}

// readWorkloads picks the ServiceAccounts and workloads out of the
// inputs. Objects without a namespace are in "default", as kubectl
// apply would create them.
func readWorkloads(objs []loader.Object) ([]account, []workload) {
	var accounts []account
	var workloads []workload
	for _, o := range objs {
		key, ok := workloadKey(o.Object)
		if !ok {
			continue
		}
		if sa, isSA := o.Object.(*corev1.ServiceAccount); isSA {
			accounts = append(accounts, account{key: key, src: o.Source, sa: sa})
			continue
		}
		spec, template := podTemplate(o.Object)
		if spec == nil {
			continue
		}
		m, _ := meta.Accessor(o.Object)
		labels := map[string]string{}
		for _, set := range []map[string]string{m.GetLabels(), template} {
			for k, v := range set {
				labels[k] = v
			}
		}
		workloads = append(workloads, workload{key: key, src: o.Source, spec: spec, labels: labels})
	}
	return accounts, workloads
}

// workloadKinds are the kinds readWorkloads reads.
var workloadKinds = []string{"ServiceAccount", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

// workloadKey names a ServiceAccount or workload; ok is false for other
// kinds.
func workloadKey(obj runtime.Object) (rbac.ObjectKey, bool) {
	gvk := loader.GVK(obj)
	if !slices.Contains(workloadKinds, gvk.Kind) {
		return rbac.ObjectKey{}, false
	}
	switch obj.(type) {
	case *corev1.ServiceAccount, *corev1.Pod, *corev1.ReplicationController, *appsv1.Deployment, *appsv1.StatefulSet,
		*appsv1.DaemonSet, *appsv1.ReplicaSet, *batchv1.Job, *batchv1.CronJob:
	default:
		return rbac.ObjectKey{}, false // an older API version the checks do not read
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return rbac.ObjectKey{}, false
	}
	ns := m.GetNamespace()
	if ns == "" {
		ns = rbac.DefaultNamespace
	}
	return rbac.ObjectKey{Kind: gvk.Kind, Namespace: ns, Name: m.GetName()}, true
}

// podTemplate returns the pod spec a workload runs and its template's
// labels.
func podTemplate(obj runtime.Object) (*corev1.PodSpec, map[string]string) {
	switch v := obj.(type) {
	case *corev1.Pod:
		return &v.Spec, nil
	case *corev1.ReplicationController:
		if v.Spec.Template == nil {
			return nil, nil
		}
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *appsv1.Deployment:
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *appsv1.StatefulSet:
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *appsv1.DaemonSet:
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *appsv1.ReplicaSet:
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *batchv1.Job:
		return &v.Spec.Template.Spec, v.Spec.Template.Labels
	case *batchv1.CronJob:
		return &v.Spec.JobTemplate.Spec.Template.Spec, v.Spec.JobTemplate.Spec.Template.Labels
	}
	return nil, nil
}
