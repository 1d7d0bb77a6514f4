package registry

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func configMapRules() *admissionregistrationv1.MatchResources {
	return &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
		RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
		}}}}
}

func vap(name string, validations ...admissionregistrationv1.Validation) *admissionregistrationv1.ValidatingAdmissionPolicy {
	return &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{MatchConstraints: configMapRules(), Validations: validations}}
}

func TestAdmissionPolicyValidation(t *testing.T) {
	t.Parallel()
	r := New()
	withParams := vap("p", admissionregistrationv1.Validation{Expression: "size(object.data) <= int(params.data.max)"})
	withParams.Spec.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
	noRules := vap("p", admissionregistrationv1.Validation{Expression: "true"})
	noRules.Spec.MatchConstraints.ResourceRules[0].Operations = nil
	tests := []struct {
		name, resource string
		obj            runtime.Object
		want           []string
	}{
		{"valid", "validatingadmissionpolicies", vap("p", admissionregistrationv1.Validation{Expression: "!has(object.data) || size(object.data) <= 2", Message: "too many keys"}), nil},
		{"params declared by paramKind", "validatingadmissionpolicies", withParams, nil},
		{"params without paramKind", "validatingadmissionpolicies", vap("p", admissionregistrationv1.Validation{Expression: "size(object.data) <= int(params.data.max)"}),
			[]string{"spec.validations[0].expression: Invalid value: \"size(object.data) <= int(params.data.max)\": compilation failed: ERROR: <input>:1:26: undeclared reference to 'params' (in container '')\n | size(object.data) <= int(params.data.max)\n | .........................^"}},
		{"syntax error", "validatingadmissionpolicies", vap("p", admissionregistrationv1.Validation{Expression: "size(object.data) <="}),
			[]string{"spec.validations[0].expression: Invalid value: \"size(object.data) <=\": compilation failed: ERROR: <input>:1:21: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | size(object.data) <=\n | ....................^"}},
		{"nothing to check", "validatingadmissionpolicies", vap("p"),
			[]string{"spec.validations: Required value: validations or auditAnnotations must contain at least one item", "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item"}},
		{"rule without operations", "validatingadmissionpolicies", noRules,
			[]string{"spec.matchConstraints.resourceRules[0].operations: Required value"}},
		{"binding with Deny and Warn", "validatingadmissionpolicybindings", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "p", ValidationActions: []admissionregistrationv1.ValidationAction{"Deny", "Warn"}}},
			[]string{`spec.validationActions: Invalid value: ["Deny","Warn"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)`}},
		{"binding without actions or param action", "validatingadmissionpolicybindings", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "p", ParamRef: &admissionregistrationv1.ParamRef{Name: "limits"}}},
			[]string{"spec.paramRef.parameterNotFoundAction: Required value", "spec.validationActions: Required value: at least one validation action is required"}},
		{"mutating policy without reinvocationPolicy", "mutatingadmissionpolicies", &admissionregistrationv1.MutatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "m"},
			Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{MatchConstraints: configMapRules(), Mutations: []admissionregistrationv1.Mutation{{
				PatchType: admissionregistrationv1.PatchTypeJSONPatch, JSONPatch: &admissionregistrationv1.JSONPatch{Expression: `[JSONPatch{op: "add", path: "/data/x", value: "y"}]`}}}}},
			[]string{"spec.reinvocationPolicy: Required value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := kind(t, r, tc.resource)
			obj := tc.obj.DeepCopyObject()
			k.Strategy.PrepareForCreate(context.Background(), obj)
			var got []string
			for _, e := range k.Strategy.Validate(obj) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdmissionPolicyGenerationAndStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := kind(t, New(), "validatingadmissionpolicies")
	p := vap("p", admissionregistrationv1.Validation{Expression: "true"})
	p.Status.ObservedGeneration = 7
	k.Strategy.PrepareForCreate(ctx, p)
	if p.Generation != 1 || p.Status.ObservedGeneration != 0 {
		t.Errorf("after create: generation %d, status %+v; want 1 and an empty status", p.Generation, p.Status)
	}
	if *p.Spec.FailurePolicy != admissionregistrationv1.Fail || *p.Spec.MatchConstraints.MatchPolicy != admissionregistrationv1.Equivalent ||
		*p.Spec.MatchConstraints.ResourceRules[0].Scope != admissionregistrationv1.AllScopes || p.Spec.MatchConstraints.NamespaceSelector == nil {
		t.Errorf("defaults not applied: %+v", p.Spec)
	}
	p.Status.ObservedGeneration = 1

	same := p.DeepCopy()
	same.Labels = map[string]string{"l": "v"}
	same.Status = admissionregistrationv1.ValidatingAdmissionPolicyStatus{}
	k.Strategy.PrepareForUpdate(ctx, same, p)
	if same.Generation != 1 || same.Status.ObservedGeneration != 1 {
		t.Errorf("metadata-only update: generation %d, observed %d; want 1 and the stored status", same.Generation, same.Status.ObservedGeneration)
	}
	changed := p.DeepCopy()
	changed.Spec.Validations[0].Expression = "false"
	k.Strategy.PrepareForUpdate(ctx, changed, p)
	if changed.Generation != 2 {
		t.Errorf("spec update: generation %d, want 2", changed.Generation)
	}

	st := p.DeepCopy()
	st.Spec.FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
	st.Status.TypeChecking = &admissionregistrationv1.TypeChecking{ExpressionWarnings: []admissionregistrationv1.ExpressionWarning{{FieldRef: "spec.validations[0].expression", Warning: "w"}}}
	k.Subresources["status"].PrepareForUpdate(ctx, st, p)
	if *st.Spec.FailurePolicy != admissionregistrationv1.Fail || st.Status.TypeChecking == nil {
		t.Errorf("status update changed spec or lost status: %+v", st)
	}
	if errs := k.ValidateUpdateFor("status")(st, p); len(errs) != 0 {
		t.Errorf("status update: %v", errs)
	}
}

func TestAdmissionPolicyTables(t *testing.T) {
	t.Parallel()
	r := New()
	p := vap("p", admissionregistrationv1.Validation{Expression: "true"})
	p.Spec.ParamKind = &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"}
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "p", ParamRef: &admissionregistrationv1.ParamRef{Name: "limits", Namespace: "team"}}}
	got := [][]any{kind(t, r, "validatingadmissionpolicies").Row(p, p.CreationTimestamp.Time), kind(t, r, "validatingadmissionpolicybindings").Row(b, b.CreationTimestamp.Time)}
	want := [][]any{{"p", int64(1), "v1/ConfigMap", "<unknown>"}, {"b", "p", "team/limits", "<unknown>"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
