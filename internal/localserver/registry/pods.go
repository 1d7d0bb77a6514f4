package registry

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podUpdateForbidden is kube-apiserver's message for a change to an
// immutable part of a pod's spec.
const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// podKind stores pods; nothing runs them. Defaults are the ones of the
// core/v1 defaulting that kubectl shows back (restart and DNS policy,
// scheduler, grace period, pull policy, termination messages), plus the
// service account admission's "default".
func podKind() *Kind {
	st := simpleStrategy(true, apivalidation.NameIsDNSSubdomain, validatePod, nil)
	st.PrepareForCreate = func(_ context.Context, obj runtime.Object) {
		p := obj.(*corev1.Pod)
		p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qosClass(p)}
		// Since v1.33 kube-apiserver tracks pod generations.
		p.Generation = 1
		defaultPod(p)
	}
	st.PrepareForUpdate = func(_ context.Context, obj, old runtime.Object) {
		p := obj.(*corev1.Pod)
		p.Status = old.(*corev1.Pod).Status
		defaultPod(p)
	}
	base := st.ValidateUpdate
	st.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList {
		errs := base(obj, old)
		if !mutablePodSpecEqual(obj.(*corev1.Pod).Spec, old.(*corev1.Pod).Spec) {
			errs = append(errs, field.Forbidden(field.NewPath("spec"), podUpdateForbidden))
		}
		return errs
	}
	return &Kind{
		GVK: corev1.SchemeGroupVersion.WithKind("Pod"), Resource: "pods", Singular: "pod", ShortNames: []string{"po"},
		Categories: []string{"all"}, Namespaced: true,
		New: func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} },
		Strategy: st,
		Subresources: map[string]Subresource{"status": {
			PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				p, o := obj.(*corev1.Pod), old.(*corev1.Pod)
				p.ObjectMeta, p.Spec = o.ObjectMeta, o.Spec
			},
			ValidateUpdate: validateMetaUpdate,
		}},
		Columns: []metav1.TableColumnDefinition{nameColumn(),
			column("Ready", "The aggregate readiness state of this pod for accepting traffic.", 0),
			column("Status", "The aggregate status of the containers in this pod.", 0),
			column("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
			ageColumn(),
			column("IP", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
			column("Node", "Name of the Node this pod is assigned to.", 1),
			column("Nominated Node", "NominatedNodeName is the name of the node that the pod is nominated to preempt and be scheduled on.", 1),
			column("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", 1)},
		Row: podRow,
		FieldSet: func(obj runtime.Object) fields.Set {
			p := obj.(*corev1.Pod)
			return fields.Set{
				"spec.nodeName": p.Spec.NodeName, "spec.restartPolicy": string(p.Spec.RestartPolicy),
				"spec.schedulerName": p.Spec.SchedulerName, "spec.serviceAccountName": p.Spec.ServiceAccountName,
				"spec.hostNetwork": boolString(p.Spec.HostNetwork), "status.phase": string(p.Status.Phase),
				"status.podIP": p.Status.PodIP, "status.nominatedNodeName": p.Status.NominatedNodeName,
			}
		},
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func defaultPod(p *corev1.Pod) {
	s := &p.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.TerminationGracePeriodSeconds == nil {
		v := int64(corev1.DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &v
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = "default"
	}
	if s.EnableServiceLinks == nil {
		v := true
		s.EnableServiceLinks = &v
	}
	if s.Priority == nil {
		v := int32(0)
		s.Priority = &v
	}
	if s.PreemptionPolicy == nil {
		v := corev1.PreemptLowerPriority
		s.PreemptionPolicy = &v
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
}

func defaultContainer(c *corev1.Container) {
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
		if tag := imageTag(c.Image); tag == "" || tag == "latest" {
			c.ImagePullPolicy = corev1.PullAlways
		}
	}
}

// imageTag is the tag of an image reference, "" when it has none (a
// digest counts as a tag here, as in kube-apiserver's defaulting).
func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[i+1:]
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return ""
}

func qosClass(p *corev1.Pod) corev1.PodQOSClass {
	for _, c := range p.Spec.Containers {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			return corev1.PodQOSBurstable
		}
	}
	return corev1.PodQOSBestEffort
}

func validatePod(obj runtime.Object) field.ErrorList {
	p := obj.(*corev1.Pod)
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if len(p.Spec.Containers) == 0 {
		errs = append(errs, field.Required(spec.Child("containers"), ""))
	}
	names := sets.New[string]()
	check := func(cs []corev1.Container, path *field.Path) {
		for i, c := range cs {
			cp := path.Index(i)
			switch {
			case c.Name == "":
				errs = append(errs, field.Required(cp.Child("name"), ""))
			case names.Has(c.Name):
				errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
			default:
				for _, msg := range apivalidation.NameIsDNSLabel(c.Name, false) {
					errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
				}
			}
			names.Insert(c.Name)
			if strings.TrimSpace(c.Image) == "" {
				errs = append(errs, field.Required(cp.Child("image"), ""))
			}
		}
	}
	check(p.Spec.InitContainers, spec.Child("initContainers"))
	check(p.Spec.Containers, spec.Child("containers"))
	switch p.Spec.RestartPolicy {
	case corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever:
	default:
		errs = append(errs, field.NotSupported(spec.Child("restartPolicy"), p.Spec.RestartPolicy,
			[]string{string(corev1.RestartPolicyAlways), string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	}
	return errs
}

// mutablePodSpecEqual compares two pod specs ignoring what a pod update
// may change.
func mutablePodSpecEqual(a, b corev1.PodSpec) bool {
	a, b = *a.DeepCopy(), *b.DeepCopy()
	for _, s := range []*corev1.PodSpec{&a, &b} {
		for i := range s.Containers {
			s.Containers[i].Image = ""
		}
		for i := range s.InitContainers {
			s.InitContainers[i].Image = ""
		}
		s.ActiveDeadlineSeconds = nil
		s.Tolerations = nil
		s.TerminationGracePeriodSeconds = nil
	}
	return equality.Semantic.DeepEqual(a, b)
}
