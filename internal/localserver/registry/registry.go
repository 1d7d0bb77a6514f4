package registry

import (
	"context"
	"fmt"
	"sort"
	"time"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kind is the registration of one served resource.
type Kind struct {
	GVK        schema.GroupVersionKind
	Resource   string // plural, as in the URL
	Singular   string
	ShortNames []string
	Categories []string
	Namespaced bool
	// Ephemeral kinds (the review APIs) are created and answered but never
	// stored; they support only create.
	Ephemeral bool
	// ReturnDeletedObject answers a delete with the object instead of a
	// Success Status, as kube-apiserver does for namespaces,
	// serviceaccounts and resourcequotas.
	ReturnDeletedObject bool
	// AllowCreateOnUpdate lets PUT create a missing object (RBAC kinds and
	// limitranges in kube-apiserver).
	AllowCreateOnUpdate bool
	// NoDeleteCollection refuses deletecollection (namespaces in
	// kube-apiserver).
	NoDeleteCollection bool
	New                func() runtime.Object
	NewList            func() runtime.Object
	Strategy           Strategy
	// Subresources maps a subresource name ("status", "approval") to how an
	// update through it changes the stored object.
	Subresources map[string]Subresource
	// Columns and Row make the server-side table (as=Table). The columns
	// and cells match kube-apiserver's printers for the kind.
	Columns []metav1.TableColumnDefinition
	Row     func(obj runtime.Object, now time.Time) []any
	// FieldSet returns the fields a field selector may use for this kind,
	// beyond metadata.name and metadata.namespace.
	FieldSet func(obj runtime.Object) fields.Set
}

// Strategy is what a kind does on create and update, as kube-apiserver's
// RESTCreateStrategy and RESTUpdateStrategy.
type Strategy struct {
	// PrepareForCreate clears what a create may not set (usually status)
	// and applies the kind's defaults. ctx carries the request's user.
	PrepareForCreate func(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate copies from old what an update of the main resource
	// may not change (usually status) and applies defaults.
	PrepareForUpdate func(ctx context.Context, obj, old runtime.Object)
	// Validate checks a new object, ValidateUpdate a changed one.
	Validate       func(obj runtime.Object) field.ErrorList
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
}

// Subresource is an update path that changes only part of an object.
type Subresource struct {
	// PrepareForUpdate keeps from old everything the subresource may not
	// change.
	PrepareForUpdate func(ctx context.Context, obj, old runtime.Object)
	// ValidateUpdate checks the result; nil uses the kind's ValidateUpdate.
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
}

// Registry holds the served kinds.
type Registry struct {
	kinds []*Kind
	byGVR map[schema.GroupVersionResource]*Kind
	byGVK map[schema.GroupVersionKind]*Kind
}

// New returns the registry of every kind kauth serve serves.
func New() *Registry {
	r := &Registry{byGVR: map[schema.GroupVersionResource]*Kind{}, byGVK: map[schema.GroupVersionKind]*Kind{}}
	for _, group := range [][]*Kind{coreKinds(), rbacKinds(), flowcontrolKinds(), certificateKinds(), reviewKinds(), admissionRegistrationKinds()} {
		for _, k := range group {
			r.add(k)
		}
	}
	return r
}

func (r *Registry) add(k *Kind) {
	r.kinds = append(r.kinds, k)
	r.byGVR[k.GVR()] = k
	r.byGVK[k.GVK] = k
}

// GVR is the kind's group, version and resource.
func (k *Kind) GVR() schema.GroupVersionResource {
	return k.GVK.GroupVersion().WithResource(k.Resource)
}

// GroupResource is the kind's group and resource, as errors name it.
func (k *Kind) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: k.GVK.Group, Resource: k.Resource}
}

// Kinds returns the kinds sorted by group, version and resource.
func (r *Registry) Kinds() []*Kind {
	out := append([]*Kind(nil), r.kinds...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].GVR(), out[j].GVR()
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Resource < b.Resource
	})
	return out
}

// ByResource finds a kind by group, version and resource.
func (r *Registry) ByResource(gvr schema.GroupVersionResource) (*Kind, bool) {
	k, ok := r.byGVR[gvr]
	return k, ok
}

// ByKind finds a kind by group, version and kind.
func (r *Registry) ByKind(gvk schema.GroupVersionKind) (*Kind, bool) {
	k, ok := r.byGVK[gvk]
	return k, ok
}

// Fields returns the field set of obj for field selectors:
// metadata.name, metadata.namespace and the kind's own fields.
func (k *Kind) Fields(obj runtime.Object) (fields.Set, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	set := fields.Set{"metadata.name": m.GetName()}
	if k.Namespaced {
		set["metadata.namespace"] = m.GetNamespace()
	}
	if k.FieldSet != nil {
		for f, v := range k.FieldSet(obj) {
			set[f] = v
		}
	}
	return set, nil
}

// Table converts objects into kube-apiserver's metav1.Table rows; each row
// carries the object's metadata as a PartialObjectMetadata, as the server
// does for includeObject=Metadata (kubectl's default).
func (k *Kind) Table(objs []runtime.Object, now time.Time) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: k.Columns, Rows: make([]metav1.TableRow, 0, len(objs))}
	if k.Row == nil {
		t.ColumnDefinitions = defaultColumns
	}
	for _, obj := range objs {
		m, err := metaOf(obj)
		if err != nil {
			return nil, err
		}
		var cells []any
		if k.Row != nil {
			cells = k.Row(obj, now)
		} else {
			cells = []any{m.GetName(), m.GetCreationTimestamp().UTC().Format(time.RFC3339)}
		}
		partial := &metav1.PartialObjectMetadata{ObjectMeta: *m.DeepCopy()}
		partial.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: partial}})
	}
	return t, nil
}

// defaultColumns are kube-apiserver's default table columns for kinds
// without a printer (roles, clusterroles, limitranges).
var defaultColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
}

// ValidateUpdateFor returns the validation of an update through sub ("" is
// the main resource).
func (k *Kind) ValidateUpdateFor(sub string) func(obj, old runtime.Object) field.ErrorList {
	if s, ok := k.Subresources[sub]; ok && s.ValidateUpdate != nil {
		return s.ValidateUpdate
	}
	return k.Strategy.ValidateUpdate
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	type metaHolder interface{ GetObjectMeta() metav1.Object }
	if h, ok := obj.(metaHolder); ok {
		if m, ok := h.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%T has no object metadata", obj)
}

// validateMeta checks object metadata as kube-apiserver's
// ValidateObjectMeta does, with the kind's name rule.
func validateMeta(obj runtime.Object, namespaced bool, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	m, err := metaOf(obj)
	if err != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), err)}
	}
	return apivalidation.ValidateObjectMeta(m, namespaced, nameFn, field.NewPath("metadata"))
}

func validateMetaUpdate(obj, old runtime.Object) field.ErrorList {
	m, err := metaOf(obj)
	o, err2 := metaOf(old)
	if err != nil || err2 != nil {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), fmt.Errorf("no object metadata"))}
	}
	return apivalidation.ValidateObjectMetaUpdate(m, o, field.NewPath("metadata"))
}

// simpleStrategy validates metadata with nameFn plus extra, and carries
// nothing over on update; for kinds without status.
func simpleStrategy(namespaced bool, nameFn apivalidation.ValidateNameFunc, extra func(obj runtime.Object) field.ErrorList, defaults func(obj runtime.Object)) Strategy {
	validate := func(obj runtime.Object) field.ErrorList {
		errs := validateMeta(obj, namespaced, nameFn)
		if extra != nil {
			errs = append(errs, extra(obj)...)
		}
		return errs
	}
	if defaults == nil {
		defaults = func(runtime.Object) {}
	}
	return Strategy{
		PrepareForCreate: func(_ context.Context, obj runtime.Object) { defaults(obj) },
		PrepareForUpdate: func(_ context.Context, obj, _ runtime.Object) { defaults(obj) },
		Validate:         validate,
		ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
			return append(validate(obj), validateMetaUpdate(obj, old)...)
		},
	}
}

// age is kube-apiserver's translateTimestampSince.
func age(ts metav1.Time, now time.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(ts.Time))
}

func nameColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
}

func ageColumn() metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
}

func column(name, desc string, priority int32) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: "string", Description: desc, Priority: priority}
}
