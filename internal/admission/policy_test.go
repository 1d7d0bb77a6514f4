package admission

import (
	"context"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

// newPolicyHarness is a chain of ValidatingAdmissionPolicy over a fake
// clientset holding objs, with a dynamic client for the ConfigMap
// params.
func newPolicyHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	var params []runtime.Object
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok {
			params = append(params, cm)
		}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme.Scheme,
		map[schema.GroupVersionResource]string{corev1.SchemeGroupVersion.WithResource("configmaps"): "ConfigMapList"}, params...)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("ConfigMap"), meta.RESTScopeNamespace)
	f := informers.NewSharedInformerFactory(client, 0)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := Config{Client: client, Informers: f, Stop: ctx.Done(), Dynamic: dyn, RESTMapper: mapper,
		Authorizer: authorizerfactory.NewAlwaysAllowAuthorizer()}
	chain, err := New(cfg, []string{ValidatingAdmissionPolicy})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	return &harness{chain: chain, client: client, cfg: cfg}
}

func keyLimitPolicy() *admissionregistrationv1.ValidatingAdmissionPolicy {
	return &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "key-limit"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			ParamKind:     &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{}, ObjectSelector: &metav1.LabelSelector{}, MatchPolicy: ptr.To(admissionregistrationv1.Equivalent),
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}, Scope: ptr.To(admissionregistrationv1.AllScopes)},
				}}},
			},
			Validations: []admissionregistrationv1.Validation{{
				Expression:        "!has(object.data) || size(object.data) <= int(params.data.maxKeys)",
				MessageExpression: "'at most ' + params.data.maxKeys + ' keys'",
			}},
		},
	}
}

func keyLimitBinding(paramName string, actions ...admissionregistrationv1.ValidationAction) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
	return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "key-limit-binding"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        "key-limit",
			ParamRef:          &admissionregistrationv1.ParamRef{Name: paramName, Namespace: "team", ParameterNotFoundAction: ptr.To(admissionregistrationv1.DenyAction)},
			ValidationActions: actions,
		},
	}
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func TestValidatingAdmissionPolicy(t *testing.T) {
	t.Parallel()
	limits := configMap("team", "limits", map[string]string{"maxKeys": "1"})
	tests := []struct {
		name    string
		binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
		obj     *corev1.ConfigMap
		want    string
	}{
		{"under the param's limit", keyLimitBinding("limits", admissionregistrationv1.Deny), configMap("team", "one", map[string]string{"a": "1"}), ""},
		{"over the param's limit", keyLimitBinding("limits", admissionregistrationv1.Deny), configMap("team", "two", map[string]string{"a": "1", "b": "2"}),
			`configmaps "two" is forbidden: ValidatingAdmissionPolicy 'key-limit' with binding 'key-limit-binding' denied request: at most 1 keys`},
		{"warn only", keyLimitBinding("limits", admissionregistrationv1.Warn), configMap("team", "two", map[string]string{"a": "1", "b": "2"}), ""},
		{"missing param denied", keyLimitBinding("nowhere", admissionregistrationv1.Deny), configMap("team", "one", map[string]string{"a": "1"}),
			`configmaps "one" is forbidden: ValidatingAdmissionPolicy 'key-limit' with binding 'key-limit-binding' denied request: failed to configure binding: no params found for policy binding with ` + "`Deny`" + ` parameterNotFoundAction`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newPolicyHarness(t, namespace("team", nil), limits, keyLimitPolicy(), tc.binding)
			err := h.run(t, "CREATE", tc.obj, nil, tc.obj.Namespace, tc.obj.Name, "configmaps")
			if got := errString(err); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPolicyPluginsNeedTheirClients(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	cfg := Config{Client: client, Informers: informers.NewSharedInformerFactory(client, 0), Stop: make(chan struct{})}
	for _, name := range []string{ValidatingAdmissionPolicy, MutatingAdmissionPolicy} {
		_, err := New(cfg, []string{name})
		want := "building the admission chain: couldn't init admission plugin \"" + name + "\": admission plugin " + name + " needs a dynamic client, a REST mapper and an authorizer"
		if got := errString(err); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func TestPolicyParamAuthorization(t *testing.T) {
	t.Parallel()
	secretPolicy := keyLimitPolicy()
	secretPolicy.Name = "secret-limit"
	secretPolicy.Spec.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "Secret"}
	client := fake.NewClientset(keyLimitPolicy(), secretPolicy)
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("ConfigMap"), meta.RESTScopeNamespace)
	mapper.Add(corev1.SchemeGroupVersion.WithKind("Secret"), meta.RESTScopeNamespace)
	// alice may read ConfigMaps and nothing else.
	authz := authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.GetResource() == "configmaps" && (a.GetVerb() == "get" || a.GetVerb() == "list") {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	})
	p := &policyParamAuthz{cfg: Config{Client: client, RESTMapper: mapper, Authorizer: authz}}
	admin := &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}
	binding := func(policy string) *admissionregistrationv1.ValidatingAdmissionPolicyBinding {
		b := keyLimitBinding("limits", admissionregistrationv1.Deny)
		b.Spec.PolicyName = policy
		return b
	}
	const aliceIs = "user &{alice  [tenants system:authenticated] map[]}"
	tests := []struct {
		name string
		obj  runtime.Object
		who  user.Info
		want string
	}{
		{"paramKind she may read", keyLimitPolicy(), alice, ""},
		{"paramKind she may not read", secretPolicy, alice,
			`ValidatingAdmissionPolicy.admissionregistration.k8s.io "secret-limit" is invalid: spec.paramKind: Forbidden: ` + aliceIs + ` must have "get" permission on all objects of the referenced paramKind (kind=Secret, apiVersion=v1)`},
		{"system:masters", secretPolicy, admin, ""},
		{"paramRef she may read", binding("key-limit"), alice, ""},
		{"paramRef she may not read", binding("secret-limit"), alice,
			`ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io "key-limit-binding" is invalid: spec.paramRef: Forbidden: ` + aliceIs + ` does not have "get" permission on the object referenced by paramRef`},
		{"paramRef of a missing policy", binding("nowhere"), alice,
			`ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io "key-limit-binding" is invalid: spec.paramRef: Forbidden: unable to get policy nowhere to determine minimum required permissions and ` + aliceIs + ` does not have "get" permission for all groups, versions and resources`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := meta.Accessor(tc.obj)
			gvks, _, _ := scheme.Scheme.ObjectKinds(tc.obj)
			attrs := admission.NewAttributesRecord(tc.obj, nil, gvks[0], "", m.GetName(), gvks[0].GroupVersion().WithResource("x"), "", admission.Create, &metav1.CreateOptions{}, false, tc.who)
			if got := errString(p.check(context.Background(), attrs)); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
