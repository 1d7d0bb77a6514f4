package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/admission"
)

// CreatedByAnnotation is set by the NamespaceCreator plugin on every new
// Namespace to the name of the user who created it.
const CreatedByAnnotation = "kauth.io/created-by"

// namespaceCreator is the NamespaceCreator plugin: on create it records
// the requesting user in [CreatedByAnnotation] (whatever the request
// said), and on update it keeps the recorded value, so nobody can hand a
// namespace to someone else through it.
type namespaceCreator struct{ *admission.Handler }

func newNamespaceCreator() *namespaceCreator {
	return &namespaceCreator{admission.NewHandler(admission.Create, admission.Update)}
}

func (n *namespaceCreator) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != corev1.Resource("namespaces") || a.GetSubresource() != "" {
		return nil
	}
	ns, ok := a.GetObject().(*corev1.Namespace)
	if !ok {
		return nil
	}
	creator := ""
	switch a.GetOperation() {
	case admission.Create:
		if u := a.GetUserInfo(); u != nil {
			creator = u.GetName()
		}
	case admission.Update:
		if old, ok := a.GetOldObject().(*corev1.Namespace); ok {
			creator = old.Annotations[CreatedByAnnotation]
		}
	}
	if creator == "" {
		delete(ns.Annotations, CreatedByAnnotation)
		return nil
	}
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[CreatedByAnnotation] = creator
	return nil
}
