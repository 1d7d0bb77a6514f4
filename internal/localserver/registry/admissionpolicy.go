package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/utils/ptr"
)

// admissionPolicyKinds are the CEL admission policies and their bindings
// that the ValidatingAdmissionPolicy and MutatingAdmissionPolicy plugins
// read, as admissionregistration.k8s.io/v1 serves them in kube-apiserver
// v1.37. Policies carry a generation (bumped on every spec change) and a
// status that only the status subresource writes.
func admissionPolicyKinds() []*Kind {
	gv := admissionregistrationv1.SchemeGroupVersion
	policyCols := func(what string) []metav1.TableColumnDefinition {
		return []metav1.TableColumnDefinition{nameColumn(),
			{Name: what, Type: "integer", Description: map[string]string{
				"Validations": "Validations indicates the number of validation rules defined in this configuration",
				"Mutations":   "Mutation indicates the number of mutations rules defined in this configuration"}[what]},
			column("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy", 0), ageColumn()}
	}
	bindingCols := []metav1.TableColumnDefinition{nameColumn(),
		column("PolicyName", "PolicyName indicates the policy definition which the policy binding binded to", 0),
		column("ParamRef", "ParamRef indicates the param resource which sets the configuration param", 0), ageColumn()}
	vap := generationStrategy(simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateValidatingPolicy, defaultValidatingPolicy),
		func(obj runtime.Object) any { return obj.(*admissionregistrationv1.ValidatingAdmissionPolicy).Spec },
		func(obj, old runtime.Object) {
			var status admissionregistrationv1.ValidatingAdmissionPolicyStatus
			if old != nil {
				status = old.(*admissionregistrationv1.ValidatingAdmissionPolicy).Status
			}
			obj.(*admissionregistrationv1.ValidatingAdmissionPolicy).Status = status
		})
	mapol := generationStrategy(simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateMutatingPolicy, defaultMutatingPolicy),
		func(obj runtime.Object) any { return obj.(*admissionregistrationv1.MutatingAdmissionPolicy).Spec }, nil)
	return []*Kind{
		{
			GVK: gv.WithKind("ValidatingAdmissionPolicy"), Resource: "validatingadmissionpolicies", Singular: "validatingadmissionpolicy", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicy{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyList{} },
			Strategy: vap,
			Subresources: map[string]Subresource{"status": {
				PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
					p, o := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy), old.(*admissionregistrationv1.ValidatingAdmissionPolicy)
					p.ObjectMeta, p.Spec = o.ObjectMeta, o.Spec
				},
				ValidateUpdate: validateValidatingPolicyStatus,
			}},
			Columns: policyCols("Validations"),
			Row: func(obj runtime.Object, now time.Time) []any {
				p := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
				return []any{p.Name, int64(len(p.Spec.Validations)), paramKindCell(p.Spec.ParamKind), age(p.CreationTimestamp, now)}
			},
		},
		{
			GVK: gv.WithKind("ValidatingAdmissionPolicyBinding"), Resource: "validatingadmissionpolicybindings", Singular: "validatingadmissionpolicybinding", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{} },
			Strategy: simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateValidatingBinding, defaultValidatingBinding),
			Columns:  bindingCols,
			Row: func(obj runtime.Object, now time.Time) []any {
				b := obj.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
				return []any{b.Name, b.Spec.PolicyName, paramRefCell(b.Spec.ParamRef), age(b.CreationTimestamp, now)}
			},
		},
		{
			GVK: gv.WithKind("MutatingAdmissionPolicy"), Resource: "mutatingadmissionpolicies", Singular: "mutatingadmissionpolicy", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicy{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicyList{} },
			Strategy: mapol,
			Columns:  policyCols("Mutations"),
			Row: func(obj runtime.Object, now time.Time) []any {
				p := obj.(*admissionregistrationv1.MutatingAdmissionPolicy)
				return []any{p.Name, int64(len(p.Spec.Mutations)), paramKindCell(p.Spec.ParamKind), age(p.CreationTimestamp, now)}
			},
		},
		{
			GVK: gv.WithKind("MutatingAdmissionPolicyBinding"), Resource: "mutatingadmissionpolicybindings", Singular: "mutatingadmissionpolicybinding", Categories: []string{"api-extensions"},
			New:      func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicyBinding{} },
			NewList:  func() runtime.Object { return &admissionregistrationv1.MutatingAdmissionPolicyBindingList{} },
			Strategy: simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateMutatingBinding, defaultMutatingBinding),
			Columns:  bindingCols,
			Row: func(obj runtime.Object, now time.Time) []any {
				b := obj.(*admissionregistrationv1.MutatingAdmissionPolicyBinding)
				return []any{b.Name, b.Spec.PolicyName, paramRefCell(b.Spec.ParamRef), age(b.CreationTimestamp, now)}
			},
		},
	}
}

// generationStrategy sets metadata.generation to 1 on create and bumps
// it when spec changes, as the policies' strategies do; keepStatus (when
// not nil) clears status on create (old is nil) and keeps the stored one
// on update of the main resource.
func generationStrategy(st Strategy, spec func(runtime.Object) any, keepStatus func(obj, old runtime.Object)) Strategy {
	create, update := st.PrepareForCreate, st.PrepareForUpdate
	st.PrepareForCreate = func(ctx context.Context, obj runtime.Object) {
		if keepStatus != nil {
			keepStatus(obj, nil)
		}
		create(ctx, obj)
		if m, err := metaOf(obj); err == nil {
			m.Generation = 1
		}
	}
	st.PrepareForUpdate = func(ctx context.Context, obj, old runtime.Object) {
		if keepStatus != nil {
			keepStatus(obj, old)
		}
		update(ctx, obj, old)
		m, err := metaOf(obj)
		o, err2 := metaOf(old)
		if err == nil && err2 == nil && !apiequality.Semantic.DeepEqual(spec(obj), spec(old)) {
			m.Generation = o.Generation + 1
		}
	}
	return st
}

func paramKindCell(pk *admissionregistrationv1.ParamKind) string {
	if pk == nil {
		return "<unset>"
	}
	return pk.APIVersion + "/" + pk.Kind
}

func paramRefCell(pr *admissionregistrationv1.ParamRef) string {
	switch {
	case pr == nil:
		return "<unset>"
	case pr.Name != "" && pr.Namespace != "":
		return pr.Namespace + "/" + pr.Name
	case pr.Name != "":
		return "*/" + pr.Name
	case pr.Selector != nil:
		return metav1.FormatLabelSelector(pr.Selector)
	}
	return "<unset>"
}

// Defaults (admissionregistration/v1's SetDefaults_*): fail closed,
// equivalent matching, every namespace and object, rules of any scope.

func defaultMatchResources(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		m.MatchPolicy = ptr.To(admissionregistrationv1.Equivalent)
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rules := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rules {
			if rules[i].Scope == nil {
				rules[i].Scope = ptr.To(admissionregistrationv1.AllScopes)
			}
		}
	}
}

func defaultValidatingPolicy(obj runtime.Object) {
	p := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
	if p.Spec.FailurePolicy == nil {
		p.Spec.FailurePolicy = ptr.To(admissionregistrationv1.Fail)
	}
	defaultMatchResources(p.Spec.MatchConstraints)
}

func defaultMutatingPolicy(obj runtime.Object) {
	p := obj.(*admissionregistrationv1.MutatingAdmissionPolicy)
	if p.Spec.FailurePolicy == nil {
		p.Spec.FailurePolicy = ptr.To(admissionregistrationv1.Fail)
	}
	defaultMatchResources(p.Spec.MatchConstraints)
}

func defaultValidatingBinding(obj runtime.Object) {
	defaultMatchResources(obj.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding).Spec.MatchResources)
}

func defaultMutatingBinding(obj runtime.Object) {
	defaultMatchResources(obj.(*admissionregistrationv1.MutatingAdmissionPolicyBinding).Spec.MatchResources)
}

// Validation follows kube-apiserver's (pkg/apis/admissionregistration/
// validation): the structure the plugins rely on, and every CEL
// expression compiled in the environment the plugin compiles it in, so
// a syntax error or an unknown variable is refused at create with the
// compiler's message. Type errors against the matched kinds' schemas are
// the status controller's (status.typeChecking).

var (
	failurePolicies    = []string{string(admissionregistrationv1.Fail), string(admissionregistrationv1.Ignore)}
	matchPolicies      = []string{string(admissionregistrationv1.Equivalent), string(admissionregistrationv1.Exact)}
	operations         = []string{"*", "CONNECT", "CREATE", "DELETE", "UPDATE"}
	mutatingOperations = []string{"CREATE", "UPDATE"}
	scopes             = []string{"*", "Cluster", "Namespaced"}
	policyReasons      = []string{string(metav1.StatusReasonForbidden), string(metav1.StatusReasonInvalid), string(metav1.StatusReasonRequestEntityTooLarge), string(metav1.StatusReasonUnauthorized)}
	validationActions  = []string{string(admissionregistrationv1.Audit), string(admissionregistrationv1.Deny), string(admissionregistrationv1.Warn)}
	patchTypes         = []string{string(admissionregistrationv1.PatchTypeApplyConfiguration), string(admissionregistrationv1.PatchTypeJSONPatch)}
	reinvocation       = []string{string(admissionregistrationv1.IfNeededReinvocationPolicy), string(admissionregistrationv1.NeverReinvocationPolicy)}
	celIdent           = regexp.MustCompile(`^[_a-zA-Z][_a-zA-Z0-9]*$`)
	celReserved        = []string{"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
)

// newPolicyCompiler is the composited compiler the plugins use (variables
// are compiled into it, then the expressions that use them).
func newPolicyCompiler() *plugincel.CompositedCompiler {
	c, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		panic(fmt.Sprintf("CEL base environment: %v", err)) // the base environment is static
	}
	return c
}

// compileErr turns a compilation error into kube-apiserver's field error.
func compileErr(path *field.Path, expr string, err *apiservercel.Error) *field.Error {
	switch err.Type {
	case apiservercel.ErrorTypeRequired:
		return field.Required(path, err.Detail)
	case apiservercel.ErrorTypeInvalid:
		return field.Invalid(path, expr, err.Detail)
	}
	return field.InternalError(path, err)
}

func compileCheck(c plugincel.Compiler, path *field.Path, acc plugincel.ExpressionAccessor, vars plugincel.OptionalVariableDeclarations) field.ErrorList {
	if r := c.CompileCELExpression(acc, vars, environment.NewExpressions); r.Error != nil {
		return field.ErrorList{compileErr(path, acc.GetExpression(), r.Error)}
	}
	return nil
}

// policyCommon is what the two policy kinds share.
type policyCommon struct {
	failurePolicy    *admissionregistrationv1.FailurePolicyType
	paramKind        *admissionregistrationv1.ParamKind
	matchConstraints *admissionregistrationv1.MatchResources
	matchConditions  []admissionregistrationv1.MatchCondition
	variables        []admissionregistrationv1.Variable
	mutating         bool
}

func (pc policyCommon) validate(c *plugincel.CompositedCompiler, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pc.failurePolicy == nil {
		errs = append(errs, field.Required(path.Child("failurePolicy"), ""))
	} else if !slices.Contains(failurePolicies, string(*pc.failurePolicy)) {
		errs = append(errs, field.NotSupported(path.Child("failurePolicy"), *pc.failurePolicy, failurePolicies))
	}
	if pc.paramKind != nil {
		errs = append(errs, validateParamKind(*pc.paramKind, path.Child("paramKind"))...)
	}
	if pc.matchConstraints == nil {
		errs = append(errs, field.Required(path.Child("matchConstraints"), ""))
	} else {
		errs = append(errs, validateMatchResources(pc.matchConstraints, pc.mutating, path.Child("matchConstraints"))...)
		if len(pc.matchConstraints.ResourceRules) == 0 {
			errs = append(errs, field.Required(path.Child("matchConstraints", "resourceRules"), ""))
		}
	}
	errs = append(errs, validateMatchConditions(pc.matchConditions, pc.paramKind != nil, path.Child("matchConditions"))...)
	for i, v := range pc.variables {
		p := path.Child("variables").Index(i)
		if strings.TrimSpace(v.Name) == "" {
			errs = append(errs, field.Required(p.Child("name"), "name is not specified"))
		} else if !celIdent.MatchString(v.Name) || slices.Contains(celReserved, v.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), v.Name, "must be a valid CEL identifier"))
		}
		if strings.TrimSpace(v.Expression) == "" {
			errs = append(errs, field.Required(p.Child("expression"), "expression is not specified"))
			continue
		}
		acc := &validatingpolicy.Variable{Name: v.Name, Expression: v.Expression}
		if r := c.CompileAndStoreVariable(acc, plugincel.OptionalVariableDeclarations{HasParams: pc.paramKind != nil, HasAuthorizer: true, HasPatchTypes: pc.mutating}, environment.NewExpressions); r.Error != nil {
			errs = append(errs, compileErr(p.Child("expression"), v.Expression, r.Error))
		}
	}
	return errs
}

func validateValidatingPolicy(obj runtime.Object) field.ErrorList {
	p := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy)
	spec, path := p.Spec, field.NewPath("spec")
	c := newPolicyCompiler()
	errs := policyCommon{spec.FailurePolicy, spec.ParamKind, spec.MatchConstraints, spec.MatchConditions, spec.Variables, false}.validate(c, path)
	vars := plugincel.OptionalVariableDeclarations{HasParams: spec.ParamKind != nil, HasAuthorizer: true}
	if len(spec.Validations) == 0 && len(spec.AuditAnnotations) == 0 {
		const msg = "validations or auditAnnotations must contain at least one item"
		return append(errs, field.Required(path.Child("validations"), msg), field.Required(path.Child("auditAnnotations"), msg))
	}
	for i, v := range spec.Validations {
		vp := path.Child("validations").Index(i)
		if strings.TrimSpace(v.Expression) == "" {
			errs = append(errs, field.Required(vp.Child("expression"), "expression is not specified"))
		} else {
			errs = append(errs, compileCheck(c, vp.Child("expression"), &validatingpolicy.ValidationCondition{Expression: v.Expression}, vars)...)
		}
		if v.MessageExpression != "" && strings.TrimSpace(v.MessageExpression) == "" {
			errs = append(errs, field.Invalid(vp.Child("messageExpression"), v.MessageExpression, "must be non-empty if specified"))
		} else if v.MessageExpression != "" {
			msgVars := plugincel.OptionalVariableDeclarations{HasParams: spec.ParamKind != nil}
			errs = append(errs, compileCheck(c, vp.Child("messageExpression"), &validatingpolicy.MessageExpressionCondition{MessageExpression: v.MessageExpression}, msgVars)...)
		}
		if v.Message != "" && strings.TrimSpace(v.Message) == "" {
			errs = append(errs, field.Invalid(vp.Child("message"), v.Message, "must be non-empty if specified"))
		} else if strings.ContainsAny(strings.TrimSpace(v.Message), "\r\n") {
			errs = append(errs, field.Invalid(vp.Child("message"), v.Message, "must not contain line breaks"))
		}
		if v.Reason != nil && !slices.Contains(policyReasons, string(*v.Reason)) {
			errs = append(errs, field.NotSupported(vp.Child("reason"), *v.Reason, policyReasons))
		}
	}
	keys := map[string]bool{}
	for i, a := range spec.AuditAnnotations {
		ap := path.Child("auditAnnotations").Index(i)
		if p.Name == "" {
			errs = append(errs, field.Invalid(ap.Child("key"), a.Key, "requires metadata.name be non-empty"))
		} else {
			errs = append(errs, qualifiedName(p.Name+"/"+a.Key, ap.Child("key"))...)
		}
		if keys[a.Key] {
			errs = append(errs, field.Duplicate(ap.Child("key"), a.Key))
		}
		keys[a.Key] = true
		if strings.TrimSpace(a.ValueExpression) == "" {
			errs = append(errs, field.Required(ap.Child("valueExpression"), "valueExpression is not specified"))
			continue
		}
		errs = append(errs, compileCheck(c, ap.Child("valueExpression"), &validatingpolicy.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}, vars)...)
	}
	return errs
}

func validateValidatingPolicyStatus(obj, _ runtime.Object) field.ErrorList {
	var errs field.ErrorList
	st := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy).Status
	path := field.NewPath("status")
	if st.TypeChecking != nil {
		for i, w := range st.TypeChecking.ExpressionWarnings {
			wp := path.Child("typeChecking", "expressionWarnings").Index(i)
			if w.Warning == "" {
				errs = append(errs, field.Required(wp.Child("warning"), ""))
			}
			if strings.TrimSpace(w.FieldRef) == "" {
				errs = append(errs, field.Required(wp.Child("fieldRef"), ""))
			}
		}
	}
	return append(errs, metav1validation.ValidateConditions(st.Conditions, path.Child("conditions"))...)
}

func validateMutatingPolicy(obj runtime.Object) field.ErrorList {
	p := obj.(*admissionregistrationv1.MutatingAdmissionPolicy)
	spec, path := p.Spec, field.NewPath("spec")
	c := newPolicyCompiler()
	errs := policyCommon{spec.FailurePolicy, spec.ParamKind, spec.MatchConstraints, spec.MatchConditions, spec.Variables, true}.validate(c, path)
	vars := plugincel.OptionalVariableDeclarations{HasParams: spec.ParamKind != nil, HasAuthorizer: true, HasPatchTypes: true}
	if len(spec.Mutations) == 0 {
		errs = append(errs, field.Required(path.Child("mutations"), "mutations must contain at least one item"))
	}
	for i, m := range spec.Mutations {
		mp := path.Child("mutations").Index(i)
		switch m.PatchType {
		case "":
			errs = append(errs, field.Required(mp.Child("patchType"), ""))
		case admissionregistrationv1.PatchTypeJSONPatch:
			if m.JSONPatch == nil {
				errs = append(errs, field.Required(mp.Child("jsonPatch"), "must be specified when patchType is JSONPatch"))
			} else if strings.TrimSpace(m.JSONPatch.Expression) == "" {
				errs = append(errs, field.Required(mp.Child("jsonPatch", "expression"), ""))
			} else {
				errs = append(errs, compileCheck(c, mp.Child("jsonPatch", "expression"), &patch.JSONPatchCondition{Expression: strings.TrimSpace(m.JSONPatch.Expression)}, vars)...)
			}
			if m.ApplyConfiguration != nil {
				errs = append(errs, field.Invalid(mp.Child("applyConfiguration"), "{applyConfiguration}", "must not be specified when patchType is JSONPatch"))
			}
		case admissionregistrationv1.PatchTypeApplyConfiguration:
			if m.ApplyConfiguration == nil {
				errs = append(errs, field.Required(mp.Child("applyConfiguration"), "must be specified when patchType is ApplyConfiguration"))
			} else if strings.TrimSpace(m.ApplyConfiguration.Expression) == "" {
				errs = append(errs, field.Required(mp.Child("applyConfiguration", "expression"), ""))
			} else {
				errs = append(errs, compileCheck(c, mp.Child("applyConfiguration", "expression"), &patch.ApplyConfigurationCondition{Expression: strings.TrimSpace(m.ApplyConfiguration.Expression)}, vars)...)
			}
			if m.JSONPatch != nil {
				errs = append(errs, field.Invalid(mp.Child("jsonPatch"), "{jsonPatch}", "must not be specified when patchType is ApplyConfiguration"))
			}
		default:
			errs = append(errs, field.NotSupported(mp.Child("patchType"), m.PatchType, patchTypes))
		}
	}
	if spec.ReinvocationPolicy == "" {
		errs = append(errs, field.Required(path.Child("reinvocationPolicy"), ""))
	} else if !slices.Contains(reinvocation, string(spec.ReinvocationPolicy)) {
		errs = append(errs, field.NotSupported(path.Child("reinvocationPolicy"), spec.ReinvocationPolicy, reinvocation))
	}
	return errs
}

func validateValidatingBinding(obj runtime.Object) field.ErrorList {
	spec, path := obj.(*admissionregistrationv1.ValidatingAdmissionPolicyBinding).Spec, field.NewPath("spec")
	errs := validatePolicyName(spec.PolicyName, path.Child("policyName"))
	errs = append(errs, validateParamRef(spec.ParamRef, path.Child("paramRef"))...)
	errs = append(errs, validateMatchResources(spec.MatchResources, false, path.Child("matchResources"))...)
	ap := path.Child("validationActions")
	seen := map[admissionregistrationv1.ValidationAction]bool{}
	for i, a := range spec.ValidationActions {
		if !slices.Contains(validationActions, string(a)) {
			errs = append(errs, field.NotSupported(ap.Index(i), a, validationActions))
		}
		if seen[a] {
			errs = append(errs, field.Duplicate(ap.Index(i), a))
		}
		seen[a] = true
	}
	if seen[admissionregistrationv1.Deny] && seen[admissionregistrationv1.Warn] {
		errs = append(errs, field.Invalid(ap, spec.ValidationActions, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	if len(seen) == 0 {
		errs = append(errs, field.Required(ap, "at least one validation action is required"))
	}
	return errs
}

func validateMutatingBinding(obj runtime.Object) field.ErrorList {
	spec, path := obj.(*admissionregistrationv1.MutatingAdmissionPolicyBinding).Spec, field.NewPath("spec")
	errs := validatePolicyName(spec.PolicyName, path.Child("policyName"))
	errs = append(errs, validateParamRef(spec.ParamRef, path.Child("paramRef"))...)
	return append(errs, validateMatchResources(spec.MatchResources, true, path.Child("matchResources"))...)
}

// qualifiedName checks what Kubernetes calls a qualified name (a label key).
func qualifiedName(value string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range content.IsLabelKey(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

func validatePolicyName(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

func validateParamKind(pk admissionregistrationv1.ParamKind, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pk.APIVersion == "" {
		errs = append(errs, field.Required(path.Child("apiVersion"), ""))
	} else if gv, err := schema.ParseGroupVersion(pk.APIVersion); err != nil {
		errs = append(errs, field.Invalid(path.Child("apiVersion"), pk.APIVersion, err.Error()))
	} else {
		if gv.Group != "" {
			if msgs := utilvalidation.IsDNS1123Subdomain(gv.Group); len(msgs) > 0 {
				errs = append(errs, field.Invalid(path.Child("apiVersion"), gv.Group, strings.Join(msgs, ",")))
			}
		}
		if gv.Version == "" {
			errs = append(errs, field.Invalid(path.Child("apiVersion"), pk.APIVersion, "version must be specified"))
		} else if msgs := utilvalidation.IsDNS1035Label(gv.Version); len(msgs) > 0 {
			errs = append(errs, field.Invalid(path.Child("apiVersion"), gv.Version, strings.Join(msgs, ",")))
		}
	}
	if pk.Kind == "" {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	} else if msgs := utilvalidation.IsDNS1035Label(strings.ToLower(pk.Kind)); len(msgs) > 0 {
		errs = append(errs, field.Invalid(path.Child("kind"), pk.Kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
	}
	return errs
}

func validateParamRef(pr *admissionregistrationv1.ParamRef, path *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	var errs field.ErrorList
	if pr.Name != "" && pr.Selector != nil {
		errs = append(errs, field.Forbidden(path.Child("name"), "name and selector are mutually exclusive"),
			field.Forbidden(path.Child("selector"), "name and selector are mutually exclusive"))
	}
	if pr.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(pr.Selector, metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	}
	if pr.Name == "" && pr.Selector == nil {
		errs = append(errs, field.Required(path, "one of name or selector must be specified"))
	}
	actions := []string{string(admissionregistrationv1.DenyAction), string(admissionregistrationv1.AllowAction)}
	if pr.ParameterNotFoundAction == nil || *pr.ParameterNotFoundAction == "" {
		errs = append(errs, field.Required(path.Child("parameterNotFoundAction"), ""))
	} else if !slices.Contains(actions, string(*pr.ParameterNotFoundAction)) {
		errs = append(errs, field.NotSupported(path.Child("parameterNotFoundAction"), pr.ParameterNotFoundAction, actions))
	}
	return errs
}

func validateMatchResources(m *admissionregistrationv1.MatchResources, mutating bool, path *field.Path) field.ErrorList {
	if m == nil {
		return nil
	}
	var errs field.ErrorList
	if m.MatchPolicy == nil {
		errs = append(errs, field.Required(path.Child("matchPolicy"), ""))
	} else if !slices.Contains(matchPolicies, string(*m.MatchPolicy)) {
		errs = append(errs, field.NotSupported(path.Child("matchPolicy"), *m.MatchPolicy, matchPolicies))
	}
	for _, f := range []struct {
		name string
		sel  *metav1.LabelSelector
	}{{"namespaceSelector", m.NamespaceSelector}, {"objectSelector", m.ObjectSelector}} {
		name, sel := f.name, f.sel
		if sel == nil {
			errs = append(errs, field.Required(path.Child(name), ""))
		} else {
			errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, path.Child(name))...)
		}
	}
	for i, r := range m.ResourceRules {
		errs = append(errs, validateNamedRule(r, mutating, path.Child("resourceRules").Index(i))...)
	}
	for i, r := range m.ExcludeResourceRules {
		errs = append(errs, validateNamedRule(r, false, path.Child("excludeResourceRules").Index(i))...)
	}
	return errs
}

func validateNamedRule(r admissionregistrationv1.NamedRuleWithOperations, mutating bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, n := range r.ResourceNames {
		if seen[n] {
			errs = append(errs, field.Duplicate(path.Child("resourceNames").Index(i), n))
		}
		seen[n] = true
	}
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(path.Child("operations"), ""))
	}
	if len(r.Operations) > 1 && slices.Contains(r.Operations, admissionregistrationv1.OperationAll) {
		errs = append(errs, field.Invalid(path.Child("operations"), r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, op := range r.Operations {
		if !slices.Contains(operations, string(op)) {
			errs = append(errs, field.NotSupported(path.Child("operations").Index(i), op, operations))
		} else if mutating && !slices.Contains(mutatingOperations, string(op)) {
			errs = append(errs, field.NotSupported(path.Child("operations").Index(i), op, mutatingOperations))
		}
	}
	for _, f := range []struct {
		name, what string
		list       []string
	}{{"apiGroups", "API groups", r.APIGroups}, {"apiVersions", "API versions", r.APIVersions}, {"resources", "resources", r.Resources}} {
		if len(f.list) == 0 {
			errs = append(errs, field.Required(path.Child(f.name), ""))
		}
		if len(f.list) > 1 && slices.Contains(f.list, "*") {
			errs = append(errs, field.Invalid(path.Child(f.name), f.list, "if '*' is present, must not specify other "+f.what))
		}
	}
	if r.Scope != nil && !slices.Contains(scopes, string(*r.Scope)) {
		errs = append(errs, field.NotSupported(path.Child("scope"), *r.Scope, scopes))
	}
	return errs
}

func validateMatchConditions(conds []admissionregistrationv1.MatchCondition, hasParams bool, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(conds) > 64 {
		errs = append(errs, field.TooMany(path, len(conds), 64))
	}
	c := plugincel.NewCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	seen := map[string]bool{}
	for i, m := range conds {
		p := path.Index(i)
		if strings.TrimSpace(m.Expression) == "" {
			errs = append(errs, field.Required(p.Child("expression"), ""))
		} else {
			errs = append(errs, compileCheck(c, p.Child("expression"), &matchconditions.MatchCondition{Expression: strings.TrimSpace(m.Expression)},
				plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: true})...)
		}
		if m.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			errs = append(errs, qualifiedName(m.Name, p.Child("name"))...)
			if seen[m.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), m.Name))
			}
			seen[m.Name] = true
		}
	}
	return errs
}
