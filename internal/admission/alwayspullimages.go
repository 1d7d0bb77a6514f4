package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
)

// alwaysPullImages is kube-apiserver's AlwaysPullImages: every container
// of a new or updated pod gets imagePullPolicy Always, so a node's cached
// image cannot be used without the credentials to pull it.
type alwaysPullImages struct{ *admission.Handler }

func newAlwaysPullImages() *alwaysPullImages {
	return &alwaysPullImages{admission.NewHandler(admission.Create, admission.Update)}
}

func (p *alwaysPullImages) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok {
		return nil
	}
	forEachContainer(pod, func(c *corev1.Container, _ *field.Path) { c.ImagePullPolicy = corev1.PullAlways })
	return nil
}

func (p *alwaysPullImages) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok {
		return nil
	}
	var errs field.ErrorList
	forEachContainer(pod, func(c *corev1.Container, path *field.Path) {
		if c.ImagePullPolicy != corev1.PullAlways {
			errs = append(errs, field.NotSupported(path.Child("imagePullPolicy"), c.ImagePullPolicy, []string{string(corev1.PullAlways)}))
		}
	})
	if len(errs) > 0 {
		return apierrors.NewInvalid(a.GetKind().GroupKind(), a.GetName(), errs)
	}
	return nil
}

// podOf returns the pod of a request on the pods resource itself (or its
// ephemeralcontainers subresource).
func podOf(a admission.Attributes) (*corev1.Pod, bool) {
	if a.GetResource().GroupResource() != corev1.Resource("pods") {
		return nil, false
	}
	if a.GetSubresource() != "" && a.GetSubresource() != "ephemeralcontainers" {
		return nil, false
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	return pod, ok
}

// forEachContainer visits init, regular and ephemeral containers with
// their field paths.
func forEachContainer(pod *corev1.Pod, fn func(*corev1.Container, *field.Path)) {
	spec := field.NewPath("spec")
	for i := range pod.Spec.InitContainers {
		fn(&pod.Spec.InitContainers[i], spec.Child("initContainers").Index(i))
	}
	for i := range pod.Spec.Containers {
		fn(&pod.Spec.Containers[i], spec.Child("containers").Index(i))
	}
	for i := range pod.Spec.EphemeralContainers {
		c := (*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		fn(c, spec.Child("ephemeralContainers").Index(i))
	}
}
