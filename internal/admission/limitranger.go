package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/kauth/kauth/internal/quota"
)

// limitRanger is kube-apiserver's LimitRanger: pods get the default
// requests and limits of their namespace's LimitRanges (mutating), and
// pods and PersistentVolumeClaims are checked against their min, max and
// ratios (validating). The measuring is internal/quota's.
type limitRanger struct {
	*admission.Handler
	client kubernetes.Interface
	lister corelisters.LimitRangeLister
}

func newLimitRanger() *limitRanger {
	return &limitRanger{Handler: admission.NewHandler(admission.Create, admission.Update)}
}

func (l *limitRanger) SetExternalKubeClientSet(c kubernetes.Interface) { l.client = c }

func (l *limitRanger) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	i := f.Core().V1().LimitRanges()
	l.lister = i.Lister()
	l.SetReadyFunc(i.Informer().HasSynced)
}

func (l *limitRanger) ValidateInitialization() error {
	if l.lister == nil || l.client == nil {
		return fmt.Errorf("missing limitRange lister or client")
	}
	return nil
}

func (l *limitRanger) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if !limitRangerApplies(a) {
		return nil
	}
	pod, ok := a.GetObject().(*corev1.Pod)
	if !ok {
		return nil
	}
	items, err := l.limitRanges(ctx, a)
	if err != nil {
		return err
	}
	quota.MutatePod(pod, items)
	return nil
}

func (l *limitRanger) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if !limitRangerApplies(a) {
		return nil
	}
	items, err := l.limitRanges(ctx, a)
	if err != nil {
		return err
	}
	for i := range items {
		switch obj := a.GetObject().(type) {
		case *corev1.Pod:
			err = quota.ValidatePod(obj, &items[i])
		case *corev1.PersistentVolumeClaim:
			err = quota.ValidatePVC(obj, &items[i])
		}
		if err != nil {
			return admission.NewForbidden(a, err)
		}
	}
	return nil
}

// limitRangerApplies is upstream's SupportsAttributes: pods on create
// (containers are immutable after), claims on create and update, no
// subresource, nothing being deleted.
func limitRangerApplies(a admission.Attributes) bool {
	if a.GetSubresource() != "" {
		return false
	}
	gk := a.GetKind().GroupKind()
	isPod := gk == corev1.SchemeGroupVersion.WithKind("Pod").GroupKind()
	isPVC := gk == corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim").GroupKind()
	if isPod && a.GetOperation() == admission.Update {
		return false
	}
	if old := a.GetOldObject(); old != nil {
		if m, err := meta.Accessor(old); err == nil && m.GetDeletionTimestamp() != nil {
			return false
		}
	}
	return isPod || isPVC
}

// limitRanges lists the namespace's LimitRanges from the informer, or
// from the server when the cache has none yet (a LimitRange created just
// before), as upstream's live lookup does. They are returned defaulted
// and sorted by name.
func (l *limitRanger) limitRanges(ctx context.Context, a admission.Attributes) ([]corev1.LimitRange, error) {
	cached, err := l.lister.LimitRanges(a.GetNamespace()).List(labels.Everything())
	if err != nil {
		return nil, admission.NewForbidden(a, fmt.Errorf("unable to %s %v at this time because there was an error enforcing limit ranges", a.GetOperation(), a.GetResource()))
	}
	var items []corev1.LimitRange
	for _, lr := range cached {
		items = append(items, *lr.DeepCopy())
	}
	if len(items) == 0 {
		live, err := l.client.CoreV1().LimitRanges(a.GetNamespace()).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, admission.NewForbidden(a, fmt.Errorf("unable to %s %v at this time because there was an error enforcing limit ranges", a.GetOperation(), a.GetResource()))
		}
		items = live.Items
	}
	sortByName(items)
	for i := range items {
		quota.DefaultLimitRange(&items[i])
	}
	return items, nil
}

func sortByName(items []corev1.LimitRange) {
	slices.SortFunc(items, func(a, b corev1.LimitRange) int { return strings.Compare(a.Name, b.Name) })
}
