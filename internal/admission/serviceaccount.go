package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/ptr"
)

const (
	// defaultServiceAccount is the account a pod without one gets.
	defaultServiceAccount = "default"
	// tokenVolumePrefix starts the name of the projected token volume.
	tokenVolumePrefix = "kube-api-access-"
	// tokenMountPath is where every container finds its token.
	tokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// mirrorPodAnnotation marks a kubelet's static pod.
	mirrorPodAnnotation = "kubernetes.io/config.mirror"
	// tokenExpirationSeconds is the projected token's requested lifetime
	// (kube-apiserver's WarnOnlyBoundTokenExpirationSeconds).
	tokenExpirationSeconds = 3607
)

// serviceAccount is kube-apiserver's ServiceAccount plugin: a new pod gets
// serviceAccountName "default" when it names none, must name an existing
// ServiceAccount, gets the service account's imagePullSecrets when it has
// none, and gets the kube-api-access-xxxxx projected volume (token,
// kube-root-ca.crt, namespace) mounted read-only in every container,
// unless automounting is turned off by the pod or the account.
type serviceAccount struct {
	*admission.Handler
	client       kubernetes.Interface
	lister       corelisters.ServiceAccountLister
	generateName func(string) string
}

func newServiceAccount() *serviceAccount {
	return &serviceAccount{
		Handler:      admission.NewHandler(admission.Create),
		generateName: func(base string) string { return base + utilrand.String(5) },
	}
}

func (s *serviceAccount) SetExternalKubeClientSet(c kubernetes.Interface) { s.client = c }

func (s *serviceAccount) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	i := f.Core().V1().ServiceAccounts()
	s.lister = i.Lister()
	s.SetReadyFunc(i.Informer().HasSynced)
}

func (s *serviceAccount) ValidateInitialization() error {
	if s.client == nil || s.lister == nil {
		return fmt.Errorf("missing client or serviceAccount lister")
	}
	return nil
}

func (s *serviceAccount) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || a.GetSubresource() != "" || a.GetOperation() != admission.Create {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; mirror {
		return s.Validate(ctx, a, o)
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = defaultServiceAccount
		pod.Spec.DeprecatedServiceAccount = defaultServiceAccount //nolint:staticcheck // kept in sync as the API does
	}
	sa, err := s.get(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName)
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %w", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	if automount(sa, pod) {
		s.mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 {
		for _, ref := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: ref.Name})
		}
	}
	return s.Validate(ctx, a, o)
}

func (s *serviceAccount) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	pod, ok := podOf(a)
	if !ok || a.GetSubresource() != "" || a.GetOperation() != admission.Create {
		return nil
	}
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; mirror {
		return validateMirrorPod(a, pod)
	}
	if pod.Spec.ServiceAccountName == "" {
		return admission.NewForbidden(a, fmt.Errorf("no service account specified for pod %s/%s", a.GetNamespace(), pod.Name))
	}
	if _, err := s.get(ctx, a.GetNamespace(), pod.Spec.ServiceAccountName); err != nil {
		return admission.NewForbidden(a, fmt.Errorf("error looking up service account %s/%s: %v", a.GetNamespace(), pod.Spec.ServiceAccountName, err))
	}
	return nil
}

// get reads the account from the cache, then from the server (an account
// created a moment ago), as upstream does.
func (s *serviceAccount) get(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	sa, err := s.lister.ServiceAccounts(ns).Get(name)
	if err == nil {
		return sa, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	return s.client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
}

// validateMirrorPod refuses static pods that reference accounts, secrets
// or token projections.
func validateMirrorPod(a admission.Attributes, pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName != "" {
		return admission.NewForbidden(a, errors.New("a mirror pod may not reference service accounts"))
	}
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil {
			return admission.NewForbidden(a, errors.New("a mirror pod may not reference secrets"))
		}
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				return admission.NewForbidden(a, errors.New("a mirror pod may not reference secrets"))
			}
			if src.ServiceAccountToken != nil {
				return admission.NewForbidden(a, errors.New("a mirror pod may not use ServiceAccountToken volume projections"))
			}
		}
	}
	return nil
}

// automount: the pod's choice wins, then the account's, then true.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountToken adds the token volume (reusing an existing kube-api-access
// volume) and mounts it in every init and regular container that has
// nothing at the token path yet.
func (s *serviceAccount) mountToken(pod *corev1.Pod) {
	name, has := "", false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, tokenVolumePrefix) {
			name, has = v.Name, true
			break
		}
	}
	if name == "" {
		name = s.generateName(tokenVolumePrefix)
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: tokenMountPath}
	needed := false
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if !mountsTokenPath(cs[i]) {
				cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	if needed && !has {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()}})
	}
}

func mountsTokenPath(c corev1.Container) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == tokenMountPath {
			return true
		}
	}
	return false
}

// tokenVolumeSource is upstream's projected volume: a bound token, the
// cluster CA and the namespace.
func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	return &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](corev1.ProjectedVolumeSourceDefaultMode),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](tokenExpirationSeconds)}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}
}
