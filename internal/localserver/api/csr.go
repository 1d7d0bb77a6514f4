package api

import (
	"context"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kauth/kauth/internal/localserver/registry"
)

// afterWrite runs what follows a successful write in-process, where
// kube-controller-manager would: signing a CSR once it is approved.
func (a *API) afterWrite(ctx context.Context, t target, obj runtime.Object) runtime.Object {
	csr, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok || t.sub != "approval" || !signable(csr) || a.hooks.SignCSR == nil {
		return obj
	}
	cert, signErr := a.hooks.SignCSR(ctx, csr.DeepCopy())
	out, err := a.store.GuaranteedUpdate(ctx, t.gvr(), "", csr.Name, func(cur runtime.Object) (runtime.Object, error) {
		c := cur.(*certificatesv1.CertificateSigningRequest)
		if !signable(c) {
			return c, nil
		}
		if signErr != nil {
			now := metav1.NewTime(a.now().UTC())
			c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
				Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: "SignerValidationFailure",
				Message: signErr.Error(), LastUpdateTime: now, LastTransitionTime: now})
			return c, nil
		}
		c.Status.Certificate = cert
		return c, nil
	})
	if err != nil {
		return obj
	}
	return out
}

// signable is an approved, unsigned, not failed request for the signer
// kauth serve runs.
func signable(csr *certificatesv1.CertificateSigningRequest) bool {
	if csr.Spec.SignerName != registry.KubeAPIServerClientSigner || len(csr.Status.Certificate) > 0 {
		return false
	}
	approved := false
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
			return false
		case certificatesv1.CertificateApproved:
			approved = c.Status == corev1.ConditionTrue
		}
	}
	return approved
}
