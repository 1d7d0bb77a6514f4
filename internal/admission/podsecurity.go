package admission

import (
	"context"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	psadmission "k8s.io/pod-security-admission/admission"
	psconfig "k8s.io/pod-security-admission/admission/api/load"
	psapi "k8s.io/pod-security-admission/api"
	psmetrics "k8s.io/pod-security-admission/metrics"
	"k8s.io/pod-security-admission/policy"
)

// podSecurity is kube-apiserver's PodSecurity plugin: k8s.io/pod-security-
// admission evaluates pods, workload pod templates and namespace label
// changes against the Pod Security Standards named by the namespace's
// pod-security.kubernetes.io/* labels (enforce refuses, warn and audit
// only report). The defaults are privileged at the latest version, as
// kube-apiserver without an admission configuration file.
type podSecurity struct {
	*admission.Handler
	delegate   *psadmission.Admission
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	pods       corelisters.PodLister
}

func newPodSecurity(Config) (*podSecurity, error) {
	conf, err := psconfig.LoadFromReader(nil)
	if err != nil {
		return nil, err
	}
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("pod security checks: %w", err)
	}
	return &podSecurity{
		Handler: admission.NewHandler(admission.Create, admission.Update),
		delegate: &psadmission.Admission{
			Configuration:    conf,
			Evaluator:        eval,
			Metrics:          psmetrics.NewPrometheusRecorder(psapi.GetAPIVersion()),
			PodSpecExtractor: psadmission.DefaultPodSpecExtractor{},
		},
	}, nil
}

func (p *podSecurity) SetExternalKubeClientSet(c kubernetes.Interface) { p.client = c }

func (p *podSecurity) SetExternalKubeInformerFactory(f informers.SharedInformerFactory) {
	ns := f.Core().V1().Namespaces()
	p.namespaces = ns.Lister()
	p.pods = f.Core().V1().Pods().Lister()
	p.SetReadyFunc(ns.Informer().HasSynced)
}

func (p *podSecurity) ValidateInitialization() error {
	if p.client == nil || p.namespaces == nil {
		return fmt.Errorf("%s: missing client or namespace lister", PodSecurity)
	}
	p.delegate.PodLister = psadmission.PodListerFromInformer(p.pods)
	p.delegate.NamespaceGetter = psadmission.NamespaceGetterFromListerAndClient(p.namespaces, p.client)
	if err := p.delegate.CompleteConfiguration(); err != nil {
		return fmt.Errorf("%s configuration error: %w", PodSecurity, err)
	}
	return p.delegate.ValidateConfiguration()
}

func (p *podSecurity) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	gr := a.GetResource().GroupResource()
	if gr != corev1.Resource("pods") && gr != corev1.Resource("namespaces") && !p.delegate.PodSpecExtractor.HasPodSpec(gr) {
		return nil
	}
	res := p.delegate.Validate(ctx, psAttributes{a})
	for _, w := range res.Warnings {
		warning.AddWarning(ctx, "", w)
	}
	for k, v := range res.AuditAnnotations {
		audit.AddAuditAnnotation(ctx, psapi.AuditAnnotationPrefix+k, v)
	}
	if res.Allowed {
		return nil
	}
	out := admission.NewForbidden(a, errors.New("Not allowed by PodSecurity"))
	var se *apierrors.StatusError
	if errors.As(out, &se) && res.Result != nil {
		if res.Result.Message != "" {
			se.ErrStatus.Message = res.Result.Message
		}
		if res.Result.Reason != "" {
			se.ErrStatus.Reason = res.Result.Reason
		}
		if res.Result.Details != nil {
			se.ErrStatus.Details = res.Result.Details
		}
		if res.Result.Code != 0 {
			se.ErrStatus.Code = res.Result.Code
		}
	}
	return out
}

// psAttributes adapts the request: the server's objects are already the
// v1 types the library expects.
type psAttributes struct{ admission.Attributes }

func (a psAttributes) GetObject() (runtime.Object, error)    { return a.Attributes.GetObject(), nil }
func (a psAttributes) GetOldObject() (runtime.Object, error) { return a.Attributes.GetOldObject(), nil }
func (a psAttributes) GetOperation() admissionv1.Operation {
	return admissionv1.Operation(a.Attributes.GetOperation())
}
func (a psAttributes) GetUserName() string {
	if u := a.GetUserInfo(); u != nil {
		return u.GetName()
	}
	return ""
}
