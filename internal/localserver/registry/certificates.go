package registry

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// KubeAPIServerClientSigner is the signer kauth serve signs for.
const KubeAPIServerClientSigner = certificatesv1.KubeAPIServerClientSignerName

// minExpirationSeconds is kube-apiserver's lower bound for
// spec.expirationSeconds (10 minutes).
const minExpirationSeconds = 600

func certificateKinds() []*Kind {
	st := simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateCSR, nil)
	st.PrepareForCreate = func(ctx context.Context, obj runtime.Object) {
		csr := obj.(*certificatesv1.CertificateSigningRequest)
		csr.Status = certificatesv1.CertificateSigningRequestStatus{}
		// The requester is whoever created it, never what the body says.
		csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = "", "", nil, nil
		if u, ok := request.UserFrom(ctx); ok {
			csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups = u.GetName(), u.GetUID(), u.GetGroups()
			for k, v := range u.GetExtra() {
				if csr.Spec.Extra == nil {
					csr.Spec.Extra = map[string]certificatesv1.ExtraValue{}
				}
				csr.Spec.Extra[k] = v
			}
		}
	}
	st.PrepareForUpdate = func(_ context.Context, obj, old runtime.Object) {
		csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
		csr.Spec, csr.Status = o.Spec, o.Status
	}
	return []*Kind{{
		GVK: certificatesv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"), Resource: "certificatesigningrequests",
		Singular: "certificatesigningrequest", ShortNames: []string{"csr"},
		New:      func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
		NewList:  func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
		Strategy: st,
		Subresources: map[string]Subresource{
			"approval": {PrepareForUpdate: keepCSRConditions(func(t certificatesv1.RequestConditionType) bool {
				return t == certificatesv1.CertificateApproved || t == certificatesv1.CertificateDenied
			}), ValidateUpdate: validateCSRStatusUpdate},
			"status": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
				csr.ObjectMeta, csr.Spec = o.ObjectMeta, o.Spec
				stampConditions(csr, o)
			}, ValidateUpdate: validateCSRStatusUpdate},
		},
		Columns: []metav1.TableColumnDefinition{nameColumn(), ageColumn(),
			column("SignerName", "Name of the signer", 0), column("Requestor", "Name of the requestor", 0),
			column("RequestedDuration", "Requested duration of the certificate", 0), column("Condition", "Current condition", 0)},
		Row: csrRow,
		FieldSet: func(obj runtime.Object) fields.Set {
			return fields.Set{"spec.signerName": obj.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
		},
	}}
}

// keepCSRConditions is the approval subresource: only the approval
// conditions change, everything else stays as stored.
func keepCSRConditions(allowed func(certificatesv1.RequestConditionType) bool) func(context.Context, runtime.Object, runtime.Object) {
	return func(_ context.Context, obj, old runtime.Object) {
		csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
		var conds []certificatesv1.CertificateSigningRequestCondition
		for _, c := range o.Status.Conditions {
			if !allowed(c.Type) {
				conds = append(conds, c)
			}
		}
		for _, c := range csr.Status.Conditions {
			if allowed(c.Type) {
				conds = append(conds, c)
			}
		}
		status := *o.Status.DeepCopy()
		status.Conditions = conds
		csr.ObjectMeta, csr.Spec, csr.Status = o.ObjectMeta, o.Spec, status
		stampConditions(csr, o)
	}
}

// stampConditions fills condition times as kube-apiserver does.
func stampConditions(csr, old *certificatesv1.CertificateSigningRequest) {
	now := metav1.Now()
	for i := range csr.Status.Conditions {
		c := &csr.Status.Conditions[i]
		if c.Status == "" {
			c.Status = corev1.ConditionTrue
		}
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = now
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = now
			for _, oc := range old.Status.Conditions {
				if oc.Type == c.Type && oc.Status == c.Status {
					c.LastTransitionTime = oc.LastTransitionTime
				}
			}
		}
	}
}

func validateCSR(obj runtime.Object) field.ErrorList {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	spec := field.NewPath("spec")
	var errs field.ErrorList
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, "PEM block type must be CERTIFICATE REQUEST"))
	} else if _, err := x509.ParseCertificateRequest(block.Bytes); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	errs = append(errs, validateSignerName(csr.Spec.SignerName, spec.Child("signerName"))...)
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(spec.Child("usages"), ""))
	}
	// As kube-apiserver: any known usage whatever the signer (the signer
	// refuses what it does not sign, with a Failed condition), each once.
	seen := map[certificatesv1.KeyUsage]bool{}
	for i, u := range csr.Spec.Usages {
		if !slices.Contains(knownUsages, string(u)) {
			errs = append(errs, field.NotSupported(spec.Child("usages").Index(i), u, knownUsages))
		}
		if seen[u] {
			errs = append(errs, field.Duplicate(spec.Child("usages").Index(i), u))
		}
		seen[u] = true
	}
	if e := csr.Spec.ExpirationSeconds; e != nil && *e < minExpirationSeconds {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	return errs
}

// knownUsages are the key usages the certificates API accepts, sorted.
var knownUsages = func() []string {
	out := []string{}
	for _, u := range []certificatesv1.KeyUsage{
		certificatesv1.UsageSigning, certificatesv1.UsageDigitalSignature, certificatesv1.UsageContentCommitment,
		certificatesv1.UsageKeyEncipherment, certificatesv1.UsageKeyAgreement, certificatesv1.UsageDataEncipherment,
		certificatesv1.UsageCertSign, certificatesv1.UsageCRLSign, certificatesv1.UsageEncipherOnly,
		certificatesv1.UsageDecipherOnly, certificatesv1.UsageAny, certificatesv1.UsageServerAuth,
		certificatesv1.UsageClientAuth, certificatesv1.UsageCodeSigning, certificatesv1.UsageEmailProtection,
		certificatesv1.UsageSMIME, certificatesv1.UsageIPsecEndSystem, certificatesv1.UsageIPsecTunnel,
		certificatesv1.UsageIPsecUser, certificatesv1.UsageTimestamping, certificatesv1.UsageOCSPSigning,
		certificatesv1.UsageMicrosoftSGC, certificatesv1.UsageNetscapeSGC,
	} {
		out = append(out, string(u))
	}
	slices.Sort(out)
	return out
}()

// validateSignerName is kube-apiserver's rule: a domain-prefixed path.
func validateSignerName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	domain, path, ok := strings.Cut(name, "/")
	if !ok || path == "" {
		return field.ErrorList{field.Invalid(p, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(domain) {
		errs = append(errs, field.Invalid(p, name, "validating domain component: "+msg))
	}
	return errs
}

func validateCSRStatusUpdate(obj, old runtime.Object) field.ErrorList {
	csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	errs := validateMetaUpdate(obj, old)
	p := field.NewPath("status", "conditions")
	var approved, denied bool
	for i, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
		default:
			if c.Type == "" {
				errs = append(errs, field.Required(p.Index(i).Child("type"), ""))
			}
		}
		if (c.Type == certificatesv1.CertificateApproved || c.Type == certificatesv1.CertificateDenied) && c.Status != corev1.ConditionTrue {
			errs = append(errs, field.NotSupported(p.Index(i).Child("status"), c.Status, []string{string(corev1.ConditionTrue)}))
		}
	}
	if approved && denied {
		errs = append(errs, field.Invalid(p, csr.Status.Conditions, "Approved and Denied conditions are mutually exclusive"))
	}
	for _, c := range o.Status.Conditions {
		if (c.Type == certificatesv1.CertificateApproved && !approved) || (c.Type == certificatesv1.CertificateDenied && !denied) {
			errs = append(errs, field.Forbidden(p, "updates may not remove a condition of type "+string(c.Type)))
		}
	}
	if len(o.Status.Certificate) > 0 && string(o.Status.Certificate) != string(csr.Status.Certificate) {
		errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not modify existing certificate content"))
	}
	if len(csr.Status.Certificate) > 0 && !approved {
		errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "", "certificate may only be set if the Approved condition is set"))
	}
	return errs
}

// CSRCondition is the CONDITION column: Approved/Denied/Pending plus
// Failed and Issued.
func CSRCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	if denied {
		status = "Denied"
	} else if approved {
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}

func csrRow(obj runtime.Object, now time.Time) []any {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	signer := "<none>"
	if csr.Spec.SignerName != "" {
		signer = csr.Spec.SignerName
	}
	requested := "<none>"
	if csr.Spec.ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(*csr.Spec.ExpirationSeconds) * time.Second)
	}
	return []any{csr.Name, age(csr.CreationTimestamp, now), signer, csr.Spec.Username, requested, CSRCondition(csr)}
}
