package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/internal/loader"
)

// ReviewAttributes turns a SubjectAccessReview into request attributes as
// kube-apiserver's SubjectAccessReview REST handler does: the user,
// groups, extra and UID as given (no groups are added); either the
// resource attributes (an empty version means "*"; field and label
// selectors parsed, their problems kept for the evaluation error) or the
// non-resource attributes. It refuses what the handler's validation
// refuses, with the handler's messages.
func ReviewAttributes(sar *authorizationv1.SubjectAccessReview) (authorizer.AttributesRecord, error) {
	if errs := validateReview(sar); len(errs) > 0 {
		return authorizer.AttributesRecord{}, errs.ToAggregate()
	}
	spec := sar.Spec
	var extra map[string][]string
	if spec.Extra != nil {
		extra = make(map[string][]string, len(spec.Extra))
		for k, v := range spec.Extra {
			extra[k] = v
		}
	}
	u := &user.DefaultInfo{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extra}
	if ra := spec.ResourceAttributes; ra != nil {
		a := authorizer.AttributesRecord{
			User: u, Verb: ra.Verb, Namespace: ra.Namespace, APIGroup: ra.Group, APIVersion: ra.Version,
			Resource: ra.Resource, Subresource: ra.Subresource, Name: ra.Name, ResourceRequest: true,
		}
		if a.APIVersion == "" {
			a.APIVersion = "*"
		}
		a.LabelSelectorRequirements, a.LabelSelectorParsingErr = labelSelector(ra.LabelSelector)
		a.FieldSelectorRequirements, a.FieldSelectorParsingErr = fieldSelector(ra.FieldSelector)
		return a, nil
	}
	return authorizer.AttributesRecord{User: u, Verb: spec.NonResourceAttributes.Verb, Path: spec.NonResourceAttributes.Path}, nil
}

// validateReview is ValidateSubjectAccessReview of
// pkg/apis/authorization/validation.
func validateReview(sar *authorizationv1.SubjectAccessReview) field.ErrorList {
	var errs field.ErrorList
	spec, fp := sar.Spec, field.NewPath("spec")
	const one = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
	if (spec.ResourceAttributes == nil) == (spec.NonResourceAttributes == nil) {
		errs = append(errs, field.Invalid(fp, spec.NonResourceAttributes, one))
	}
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(fp.Child("user"), spec.User, "at least one of user or group must be specified"))
	}
	if ra := spec.ResourceAttributes; ra != nil {
		rp := field.NewPath("spec.resourceAttributes")
		if fs := ra.FieldSelector; fs != nil {
			errs = append(errs, validateSelector(fs.RawSelector, len(fs.Requirements), rp.Child("fieldSelector"))...)
			for i, r := range fs.Requirements {
				errs = append(errs, metav1validation.ValidateFieldSelectorRequirement(r, metav1validation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, rp.Child("fieldSelector", "requirements").Index(i))...)
			}
		}
		if ls := ra.LabelSelector; ls != nil {
			errs = append(errs, validateSelector(ls.RawSelector, len(ls.Requirements), rp.Child("labelSelector"))...)
			for i, r := range ls.Requirements {
				errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r, metav1validation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, rp.Child("labelSelector", "requirements").Index(i))...)
			}
		}
	}
	meta := sar.ObjectMeta
	meta.ManagedFields = nil
	if !equality.Semantic.DeepEqual(metav1.ObjectMeta{}, meta) {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), sar.ObjectMeta, "must be empty"))
	}
	return errs
}

func validateSelector(raw string, requirements int, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if raw != "" && requirements > 0 {
		errs = append(errs, field.Invalid(fp.Child("rawSelector"), raw, "may not specified at the same time as requirements"))
	}
	if raw == "" && requirements == 0 {
		errs = append(errs, field.Required(fp.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fp)))
	}
	return errs
}

// labelSelector parses a review's label selector as the API does: a raw
// selector, or requirements of which the valid ones are kept (requirements
// are ANDed, so dropping one only widens the question) with an error for
// the others.
func labelSelector(ls *authorizationv1.LabelSelectorAttributes) (labels.Requirements, error) {
	if ls == nil {
		return nil, nil
	}
	var (
		reqs labels.Requirements
		err  error
	)
	if ls.RawSelector != "" {
		sel, perr := labels.Parse(ls.RawSelector)
		if perr != nil {
			reqs, err = nil, perr
		} else {
			reqs, _ = sel.Requirements()
		}
	}
	if len(ls.Requirements) > 0 {
		reqs, err = labelRequirements(ls.Requirements)
	}
	return reqs, err
}

var labelOps = map[metav1.LabelSelectorOperator]selection.Operator{
	metav1.LabelSelectorOpIn: selection.In, metav1.LabelSelectorOpNotIn: selection.NotIn,
	metav1.LabelSelectorOpExists: selection.Exists, metav1.LabelSelectorOpDoesNotExist: selection.DoesNotExist,
}

func labelRequirements(in []metav1.LabelSelectorRequirement) (labels.Requirements, error) {
	var (
		reqs labels.Requirements
		errs []error
	)
	for _, e := range in {
		op, ok := labelOps[e.Operator]
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not a valid label selector operator", e.Operator))
			continue
		}
		values := e.Values
		if len(values) == 0 {
			values = nil
		}
		r, err := labels.NewRequirement(e.Key, op, values)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reqs = append(reqs, *r)
	}
	return reqs, utilerrors.NewAggregate(errs)
}

// fieldSelector is labelSelector for fields, which support only one value
// and the operators In and NotIn (as = and !=).
func fieldSelector(fs *authorizationv1.FieldSelectorAttributes) (fields.Requirements, error) {
	if fs == nil {
		return nil, nil
	}
	var (
		reqs fields.Requirements
		err  error
	)
	if fs.RawSelector != "" {
		sel, perr := fields.ParseSelector(fs.RawSelector)
		if perr != nil {
			reqs, err = nil, perr
		} else {
			reqs = sel.Requirements()
		}
	}
	if len(fs.Requirements) > 0 {
		reqs, err = fieldRequirements(fs.Requirements)
	}
	return reqs, err
}

func fieldRequirements(in []metav1.FieldSelectorRequirement) (fields.Requirements, error) {
	var (
		reqs fields.Requirements
		errs []error
	)
	for _, e := range in {
		if len(e.Values) > 1 {
			errs = append(errs, errors.New("fieldSelectors do not yet support multiple values"))
			continue
		}
		switch e.Operator {
		case metav1.FieldSelectorOpIn, metav1.FieldSelectorOpNotIn:
			if len(e.Values) != 1 {
				word := "in"
				if e.Operator == metav1.FieldSelectorOpNotIn {
					word = "not in"
				}
				errs = append(errs, fmt.Errorf("fieldSelectors %s must have one value", word))
				continue
			}
			op := selection.Equals
			if e.Operator == metav1.FieldSelectorOpNotIn {
				op = selection.NotEquals
			}
			reqs = append(reqs, fields.Requirement{Field: e.Key, Operator: op, Value: e.Values[0]})
		case metav1.FieldSelectorOpExists, metav1.FieldSelectorOpDoesNotExist:
			errs = append(errs, fmt.Errorf("fieldSelectors do not yet support %v", e.Operator))
		default:
			errs = append(errs, fmt.Errorf("%q is not a valid field selector operator", e.Operator))
		}
	}
	return reqs, utilerrors.NewAggregate(errs)
}

// evaluationError is BuildEvaluationError of pkg/registry/authorization/util:
// the authorizer's error, then what became of unparsable selectors.
func evaluationError(err error, a authorizer.AttributesRecord) string {
	var out []string
	if err != nil {
		out = append(out, err.Error())
	}
	if reqs, ferr := a.GetFieldSelector(); ferr != nil {
		out = append(out, "spec.resourceAttributes.fieldSelector "+ignored(len(reqs))+" due to parse error")
	}
	if reqs, lerr := a.GetLabelSelector(); lerr != nil {
		out = append(out, "spec.resourceAttributes.labelSelector "+ignored(len(reqs))+" due to parse error")
	}
	return strings.Join(out, "; ")
}

func ignored(kept int) string {
	if kept > 0 {
		return "partially ignored"
	}
	return "ignored"
}

// Review fills the status of a SubjectAccessReview by asking az, as the
// SubjectAccessReview API does: allowed for Allow, denied for Deny, the
// reason, and as evaluationError the authorizer's error and the selectors
// that could not be parsed. It returns a copy; an invalid review is an
// error.
func Review(ctx context.Context, az authorizer.Authorizer, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
	attrs, err := ReviewAttributes(sar)
	if err != nil {
		return nil, err
	}
	out := sar.DeepCopy()
	d, reason, err := az.Authorize(ctx, attrs)
	out.Status = authorizationv1.SubjectAccessReviewStatus{
		Allowed:         d == authorizer.DecisionAllow,
		Denied:          d == authorizer.DecisionDeny,
		Reason:          reason,
		EvaluationError: evaluationError(err, attrs),
	}
	return out, nil
}

// ReviewFunc answers one SubjectAccessReview.
type ReviewFunc func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error)

// Offline answers reviews with az, in process.
func Offline(az authorizer.Authorizer) ReviewFunc {
	return func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
		return Review(ctx, az, sar)
	}
}

// ServerSide sends reviews to a cluster's SubjectAccessReview API, so the
// same batch can be compared with what a real kube-apiserver answers.
func ServerSide(client kubernetes.Interface) ReviewFunc {
	return func(ctx context.Context, sar *authorizationv1.SubjectAccessReview) (*authorizationv1.SubjectAccessReview, error) {
		in := sar.DeepCopy()
		in.Status = authorizationv1.SubjectAccessReviewStatus{}
		out, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, in, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("sending the review to the cluster: %w", err)
		}
		// Keep what the user sent; take the cluster's answer.
		res := sar.DeepCopy()
		res.Status = out.Status
		return res, nil
	}
}

// ReviewObjects answers every SubjectAccessReview of objs, in order, and
// fills apiVersion and kind. Any other kind, and any invalid spec, is an
// error naming the file and line.
func ReviewObjects(ctx context.Context, objs []loader.Object, review ReviewFunc) ([]*authorizationv1.SubjectAccessReview, error) {
	out := make([]*authorizationv1.SubjectAccessReview, 0, len(objs))
	for _, o := range objs {
		sar, ok := o.Object.(*authorizationv1.SubjectAccessReview)
		if !ok {
			gvk := loader.GVK(o.Object)
			return nil, &SourceError{fmt.Errorf("%s: kind %s: expected authorization.k8s.io/v1 SubjectAccessReview", o.Source, gvk.Kind)}
		}
		if _, err := ReviewAttributes(sar); err != nil {
			return nil, &SourceError{fmt.Errorf("%s: %w", o.Source, err)}
		}
		res, err := review(ctx, sar)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Source, err)
		}
		res.APIVersion, res.Kind = authorizationv1.SchemeGroupVersion.String(), "SubjectAccessReview"
		out = append(out, res)
	}
	return out, nil
}
