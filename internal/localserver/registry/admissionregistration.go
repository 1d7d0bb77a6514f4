package registry

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// admissionRegistrationKinds are the admission webhook configurations
// the MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins
// read, and the admission policies and bindings (admissionpolicy.go).
func admissionRegistrationKinds() []*Kind {
	gv := admissionregistrationv1.SchemeGroupVersion
	cols := []metav1.TableColumnDefinition{nameColumn(), column("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration", 0), ageColumn()}
	return append([]*Kind{
		{
			GVK: gv.WithKind("MutatingWebhookConfiguration"), Resource: "mutatingwebhookconfigurations", Singular: "mutatingwebhookconfiguration", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfiguration{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.MutatingWebhookConfigurationList{} },
			Strategy: simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateMutatingWebhooks, defaultMutatingWebhooks),
			Columns:  cols,
			Row: func(obj runtime.Object, now time.Time) []any {
				c := obj.(*admissionregistrationv1.MutatingWebhookConfiguration)
				return []any{c.Name, int64(len(c.Webhooks)), age(c.CreationTimestamp, now)}
			},
		},
		{
			GVK: gv.WithKind("ValidatingWebhookConfiguration"), Resource: "validatingwebhookconfigurations", Singular: "validatingwebhookconfiguration", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfiguration{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.ValidatingWebhookConfigurationList{} },
			Strategy: simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateValidatingWebhooks, defaultValidatingWebhooks),
			Columns:  cols,
			Row: func(obj runtime.Object, now time.Time) []any {
				c := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration)
				return []any{c.Name, int64(len(c.Webhooks)), age(c.CreationTimestamp, now)}
			},
		},
	}, admissionPolicyKinds()...)
}

// webhookDefaults are admissionregistration/v1's SetDefaults_*: fail
// closed, equivalent matching, every namespace and object, 10 s, rules
// of any scope.
func webhookDefaults(fp **admissionregistrationv1.FailurePolicyType, mp **admissionregistrationv1.MatchPolicyType, ns, obj **metav1.LabelSelector, timeout **int32, rules []admissionregistrationv1.RuleWithOperations) {
	if *fp == nil {
		*fp = ptr.To(admissionregistrationv1.Fail)
	}
	if *mp == nil {
		*mp = ptr.To(admissionregistrationv1.Equivalent)
	}
	if *ns == nil {
		*ns = &metav1.LabelSelector{}
	}
	if *obj == nil {
		*obj = &metav1.LabelSelector{}
	}
	if *timeout == nil {
		*timeout = ptr.To[int32](10)
	}
	for i := range rules {
		if rules[i].Scope == nil {
			rules[i].Scope = ptr.To(admissionregistrationv1.AllScopes)
		}
	}
}

func defaultMutatingWebhooks(obj runtime.Object) {
	c := obj.(*admissionregistrationv1.MutatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		webhookDefaults(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, w.Rules)
		if w.ReinvocationPolicy == nil {
			w.ReinvocationPolicy = ptr.To(admissionregistrationv1.NeverReinvocationPolicy)
		}
	}
}

func defaultValidatingWebhooks(obj runtime.Object) {
	c := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration)
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		webhookDefaults(&w.FailurePolicy, &w.MatchPolicy, &w.NamespaceSelector, &w.ObjectSelector, &w.TimeoutSeconds, w.Rules)
	}
}

// validateHook checks what the plugins rely on: a name, sideEffects,
// admissionReviewVersions, and exactly one of url and service.
func validateHook(path *field.Path, name string, cc admissionregistrationv1.WebhookClientConfig, se *admissionregistrationv1.SideEffectClass, versions []string) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	if se == nil {
		errs = append(errs, field.Required(path.Child("sideEffects"), "must specify one of None, NoneOnDryRun"))
	}
	if len(versions) == 0 {
		errs = append(errs, field.Required(path.Child("admissionReviewVersions"), "must specify one of v1, v1beta1"))
	}
	if (cc.URL == nil) == (cc.Service == nil) {
		errs = append(errs, field.Required(path.Child("clientConfig"), "exactly one of url or service is required"))
	}
	return errs
}

func validateMutatingWebhooks(obj runtime.Object) field.ErrorList {
	ws := obj.(*admissionregistrationv1.MutatingWebhookConfiguration).Webhooks
	return validateHooks(len(ws), func(i int) (string, admissionregistrationv1.WebhookClientConfig, *admissionregistrationv1.SideEffectClass, []string) {
		return ws[i].Name, ws[i].ClientConfig, ws[i].SideEffects, ws[i].AdmissionReviewVersions
	})
}

func validateValidatingWebhooks(obj runtime.Object) field.ErrorList {
	ws := obj.(*admissionregistrationv1.ValidatingWebhookConfiguration).Webhooks
	return validateHooks(len(ws), func(i int) (string, admissionregistrationv1.WebhookClientConfig, *admissionregistrationv1.SideEffectClass, []string) {
		return ws[i].Name, ws[i].ClientConfig, ws[i].SideEffects, ws[i].AdmissionReviewVersions
	})
}

// validateHooks validates the n webhooks of a configuration, each given by
// hook, and refuses repeated names.
func validateHooks(n int, hook func(int) (string, admissionregistrationv1.WebhookClientConfig, *admissionregistrationv1.SideEffectClass, []string)) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i := range n {
		name, cc, se, versions := hook(i)
		p := field.NewPath("webhooks").Index(i)
		errs = append(errs, validateHook(p, name, cc, se, versions)...)
		if seen[name] {
			errs = append(errs, field.Duplicate(p.Child("name"), name))
		}
		seen[name] = true
	}
	return errs
}
