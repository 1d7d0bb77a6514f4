package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/kauth/kauth/internal/localserver/registry"
)

// writeOptions are the query parameters of create, update and patch.
type writeOptions struct {
	dryRun          bool
	fieldManager    string
	fieldValidation string // Ignore, Warn or Strict
	force           bool
	// applied means server-side apply already computed managed fields.
	applied bool
}

// parseWriteOptions reads dryRun, fieldManager, fieldValidation and force
// and rejects values kube-apiserver rejects, as 422 on the options kind.
func parseWriteOptions(req *http.Request, optionsKind string) (writeOptions, error) {
	q := req.URL.Query()
	o := writeOptions{fieldManager: q.Get("fieldManager"), fieldValidation: q.Get("fieldValidation")}
	var errs field.ErrorList
	for _, v := range q["dryRun"] {
		if v != metav1.DryRunAll {
			errs = append(errs, field.NotSupported(field.NewPath("dryRun"), v, []string{metav1.DryRunAll}))
		}
		o.dryRun = true
	}
	switch o.fieldValidation {
	case "":
		o.fieldValidation = metav1.FieldValidationWarn
	case metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("fieldValidation"), o.fieldValidation,
			[]string{metav1.FieldValidationIgnore, metav1.FieldValidationWarn, metav1.FieldValidationStrict}))
	}
	if len(o.fieldManager) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("fieldManager"), "", 128))
	}
	switch f := q.Get("force"); f {
	case "", "false":
	case "true":
		o.force = true
	default:
		errs = append(errs, field.Invalid(field.NewPath("force"), f, "must be true or false"))
	}
	if len(errs) > 0 {
		return o, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: optionsKind}, "", errs)
	}
	return o, nil
}

// readBody reads at most maxBodyBytes, as kube-apiserver does.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	case err != nil:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("read request body: %v", err))
	}
	return body, nil
}

// decodeBody decodes a request body into a new object of kind k, strictly
// when fieldValidation asks for it: Strict fails with kube-apiserver's
// message, Warn adds a Warning header per unknown or duplicate field.
func (a *API) decodeBody(w http.ResponseWriter, req *http.Request, k *registry.Kind, body []byte, validation string) (runtime.Object, error) {
	info, err := negotiation.NegotiateInputSerializer(req, false, a.codecs)
	if err != nil {
		return nil, err
	}
	obj, err := a.decodeWith(w, info, k, body, validation)
	if err == nil {
		// As kube-apiserver's create and update handlers: the audit event
		// gets the decoded object (at level Request and above) and, in
		// objectRef, the name, namespace, uid and resourceVersion the URL
		// did not give.
		audit.LogRequestObject(req.Context(), obj, k.GVK.GroupVersion(), k.GVR(), "", a.codecs)
	}
	return obj, err
}

func (a *API) decodeWith(w http.ResponseWriter, info runtime.SerializerInfo, k *registry.Kind, body []byte, validation string) (runtime.Object, error) {
	if len(body) == 0 {
		return nil, apierrors.NewBadRequest("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
	}
	s := info.Serializer
	if validation != metav1.FieldValidationIgnore && info.StrictSerializer != nil {
		s = info.StrictSerializer
	}
	into := k.New()
	defaultGVK := k.GVK
	obj, gvk, err := a.codecs.DecoderToVersion(s, k.GVK.GroupVersion()).Decode(body, &defaultGVK, into)
	if err != nil {
		strict, isStrict := runtime.AsStrictDecodingError(err)
		switch {
		case isStrict && obj != nil && validation == metav1.FieldValidationWarn:
			for _, e := range strict.Errors() {
				addWarning(w, e.Error())
			}
		case isStrict && obj != nil && validation == metav1.FieldValidationIgnore:
		default:
			return nil, decodeError(k, gvk, err, body)
		}
	}
	if gvk != nil && *gvk != k.GVK {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), k.GVK.GroupVersion()))
	}
	if _, ok := obj.(runtime.Unstructured); ok || obj == nil {
		return nil, decodeError(k, gvk, fmt.Errorf("not a %s", k.GVK.Kind), body)
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return obj, nil
}

// decodeError is kube-apiserver's transformDecodeError.
func decodeError(k *registry.Kind, gvk *schema.GroupVersionKind, err error, body []byte) error {
	if gvk != nil && gvk.Kind != "" {
		return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, k.GVK.Kind, err))
	}
	summary := string(body)
	if len(summary) > 30 {
		summary = summary[:30] + " ..."
	}
	return apierrors.NewBadRequest(fmt.Sprintf("the object provided is unrecognized (must be of type %s): %v (%s)", k.GVK.Kind, err, summary))
}

// addWarning adds an RFC 7234 Warning header as kube-apiserver's warning
// recorder writes it.
func addWarning(w http.ResponseWriter, text string) {
	if h, err := utilnet.NewWarningHeader(299, "-", text); err == nil {
		w.Header().Add("Warning", h)
	}
}

// managerFromUserAgent is kube-apiserver's default field manager: the user
// agent up to its first '/', printable runes only, at most 128 bytes.
func managerFromUserAgent(ua string) string {
	prefix, _, _ := strings.Cut(ua, "/")
	var b strings.Builder
	for _, r := range prefix {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
