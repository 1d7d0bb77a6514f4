package registry

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NamespaceFinalizer is the finalizer kube-apiserver puts on every
// namespace; it is removed when the namespace's content is gone.
const NamespaceFinalizer corev1.FinalizerName = "kubernetes"

// namespaceNameLabel is set on every namespace by defaulting.
const namespaceNameLabel = "kubernetes.io/metadata.name"

func coreKinds() []*Kind {
	gv := corev1.SchemeGroupVersion
	return []*Kind{
		namespaceKind(),
		{
			GVK: gv.WithKind("ServiceAccount"), Resource: "serviceaccounts", Singular: "serviceaccount", ShortNames: []string{"sa"}, Namespaced: true, ReturnDeletedObject: true,
			New: func() runtime.Object { return &corev1.ServiceAccount{} }, NewList: func() runtime.Object { return &corev1.ServiceAccountList{} },
			Strategy: simpleStrategy(true, apivalidation.NameIsDNSSubdomain, nil, nil),
			Columns:  []metav1.TableColumnDefinition{nameColumn(), ageColumn()},
			Row: func(obj runtime.Object, now time.Time) []any {
				sa := obj.(*corev1.ServiceAccount)
				return []any{sa.Name, age(sa.CreationTimestamp, now)}
			},
		},
		secretKind(),
		{
			GVK: gv.WithKind("ConfigMap"), Resource: "configmaps", Singular: "configmap", ShortNames: []string{"cm"}, Namespaced: true,
			New: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} },
			Strategy: immutableData(simpleStrategy(true, apivalidation.NameIsDNSSubdomain, func(obj runtime.Object) field.ErrorList {
				return validateConfigMap(obj.(*corev1.ConfigMap))
			}, nil), func(obj runtime.Object) (*bool, any) {
				cm := obj.(*corev1.ConfigMap)
				return cm.Immutable, []any{cm.Data, cm.BinaryData}
			}),
			Columns: []metav1.TableColumnDefinition{nameColumn(), column("Data", "Number of data in the configmap", 0), ageColumn()},
			Row: func(obj runtime.Object, now time.Time) []any {
				cm := obj.(*corev1.ConfigMap)
				return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}
			},
		},
		resourceQuotaKind(),
		{
			GVK: gv.WithKind("LimitRange"), Resource: "limitranges", Singular: "limitrange", ShortNames: []string{"limits"}, Namespaced: true, AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &corev1.LimitRange{} }, NewList: func() runtime.Object { return &corev1.LimitRangeList{} },
			Strategy: simpleStrategy(true, apivalidation.NameIsDNSSubdomain, func(obj runtime.Object) field.ErrorList {
				var errs field.ErrorList
				for i, l := range obj.(*corev1.LimitRange).Spec.Limits {
					if l.Type == "" {
						errs = append(errs, field.Required(field.NewPath("spec", "limits").Index(i).Child("type"), ""))
					}
				}
				return errs
			}, defaultLimitRange),
		},
		podKind(),
		eventKind(),
	}
}

func namespaceKind() *Kind {
	defaults := func(ns *corev1.Namespace) {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[namespaceNameLabel] = ns.Name
	}
	st := simpleStrategy(false, apivalidation.NameIsDNSLabel, nil, nil)
	st.PrepareForCreate = func(_ context.Context, obj runtime.Object) {
		ns := obj.(*corev1.Namespace)
		ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
		if !hasFinalizer(ns.Spec.Finalizers) {
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, NamespaceFinalizer)
		}
		defaults(ns)
	}
	st.PrepareForUpdate = func(_ context.Context, obj, old runtime.Object) {
		ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
		ns.Spec.Finalizers = o.Spec.Finalizers
		ns.Status = o.Status
		defaults(ns)
	}
	return &Kind{
		GVK: corev1.SchemeGroupVersion.WithKind("Namespace"), Resource: "namespaces", Singular: "namespace", ShortNames: []string{"ns"}, ReturnDeletedObject: true, NoDeleteCollection: true,
		New: func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} },
		Strategy: st,
		Subresources: map[string]Subresource{
			"status": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
				ns.ObjectMeta, ns.Spec = o.ObjectMeta, o.Spec
			}},
			"finalize": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				ns, o := obj.(*corev1.Namespace), old.(*corev1.Namespace)
				finalizers := ns.Spec.Finalizers
				*ns = *o.DeepCopy()
				ns.Spec.Finalizers = finalizers
			}},
		},
		Columns: []metav1.TableColumnDefinition{nameColumn(), column("Status", "The status of the namespace", 0), ageColumn()},
		Row: func(obj runtime.Object, now time.Time) []any {
			ns := obj.(*corev1.Namespace)
			return []any{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}
		},
		FieldSet: func(obj runtime.Object) fields.Set {
			return fields.Set{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
		},
	}
}

func hasFinalizer(fs []corev1.FinalizerName) bool {
	for _, f := range fs {
		if f == NamespaceFinalizer {
			return true
		}
	}
	return false
}

func secretKind() *Kind {
	defaults := func(obj runtime.Object) {
		s := obj.(*corev1.Secret)
		if s.Type == "" {
			s.Type = corev1.SecretTypeOpaque
		}
		// stringData is write-only: kube-apiserver merges it into data.
		for k, v := range s.StringData {
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	st := simpleStrategy(true, apivalidation.NameIsDNSSubdomain, validateSecret, defaults)
	st = immutableData(st, func(obj runtime.Object) (*bool, any) {
		s := obj.(*corev1.Secret)
		return s.Immutable, s.Data
	})
	base := st.ValidateUpdate
	st.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList {
		errs := base(obj, old)
		return append(errs, apivalidation.ValidateImmutableField(obj.(*corev1.Secret).Type, old.(*corev1.Secret).Type, field.NewPath("type"))...)
	}
	return &Kind{
		GVK: corev1.SchemeGroupVersion.WithKind("Secret"), Resource: "secrets", Singular: "secret", Namespaced: true,
		New: func() runtime.Object { return &corev1.Secret{} }, NewList: func() runtime.Object { return &corev1.SecretList{} },
		Strategy: st,
		Columns: []metav1.TableColumnDefinition{nameColumn(), column("Type", "The type of the secret", 0),
			column("Data", "The number of data entries in the secret", 0), ageColumn()},
		Row: func(obj runtime.Object, now time.Time) []any {
			s := obj.(*corev1.Secret)
			return []any{s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp, now)}
		},
		FieldSet: func(obj runtime.Object) fields.Set { return fields.Set{"type": string(obj.(*corev1.Secret).Type)} },
	}
}

func validateSecret(obj runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	errs := validateDataKeys(keysOf(s.Data), field.NewPath("data"))
	size := 0
	for _, v := range s.Data {
		size += len(v)
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataSize))
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockerConfigJson:
		if _, ok := s.Data[corev1.DockerConfigJsonKey]; !ok {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.DockerConfigJsonKey), ""))
		}
	case corev1.SecretTypeBasicAuth:
		_, u := s.Data[corev1.BasicAuthUsernameKey]
		_, p := s.Data[corev1.BasicAuthPasswordKey]
		if !u && !p {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), ""))
		}
	case corev1.SecretTypeTLS:
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if _, ok := s.Data[k]; !ok {
				errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
			}
		}
	}
	return errs
}

// maxDataSize is kube-apiserver's MaxSecretSize: the most bytes the values
// of a Secret, or of a ConfigMap's data and binaryData together, may hold.
const maxDataSize = 1024 * 1024

// validateConfigMap is kube-apiserver's ValidateConfigMap after the
// metadata: valid keys, none in both data and binaryData, at most
// maxDataSize bytes of values.
func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := validateDataKeys(keysOf(cm.Data), field.NewPath("data"))
	size := 0
	for _, k := range keysOf(cm.Data) {
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	errs = append(errs, validateDataKeys(keysOf(cm.BinaryData), field.NewPath("binaryData"))...)
	for _, v := range cm.BinaryData {
		size += len(v)
	}
	if size > maxDataSize {
		// As upstream, the empty path: the error is about the whole object.
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxDataSize))
	}
	return errs
}

// immutableData refuses changes to the data of an object marked immutable,
// and un-marking it, as kube-apiserver does for Secrets and ConfigMaps.
func immutableData(st Strategy, parts func(runtime.Object) (*bool, any)) Strategy {
	base := st.ValidateUpdate
	st.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList {
		errs := base(obj, old)
		oldImm, oldData := parts(old)
		newImm, newData := parts(obj)
		if oldImm != nil && *oldImm {
			if newImm == nil || !*newImm {
				errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
			}
			if !equality.Semantic.DeepEqual(oldData, newData) {
				errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
			}
		}
		return errs
	}
	return st
}

func keysOf[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

func validateDataKeys(keys []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range keys {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, msg))
		}
	}
	return errs
}

func resourceQuotaKind() *Kind {
	st := simpleStrategy(true, apivalidation.NameIsDNSSubdomain, func(obj runtime.Object) field.ErrorList {
		var errs field.ErrorList
		rq := obj.(*corev1.ResourceQuota)
		for _, name := range keysOf(rq.Spec.Hard) {
			if q := rq.Spec.Hard[corev1.ResourceName(name)]; q.Sign() < 0 {
				errs = append(errs, field.Invalid(field.NewPath("spec", "hard").Key(name), q.String(), "must be greater than or equal to 0"))
			}
		}
		return errs
	}, nil)
	st.PrepareForCreate = func(_ context.Context, obj runtime.Object) {
		obj.(*corev1.ResourceQuota).Status = corev1.ResourceQuotaStatus{}
	}
	st.PrepareForUpdate = func(_ context.Context, obj, old runtime.Object) {
		obj.(*corev1.ResourceQuota).Status = old.(*corev1.ResourceQuota).Status
	}
	return &Kind{
		GVK: corev1.SchemeGroupVersion.WithKind("ResourceQuota"), Resource: "resourcequotas", Singular: "resourcequota", ShortNames: []string{"quota"}, Namespaced: true, ReturnDeletedObject: true,
		New: func() runtime.Object { return &corev1.ResourceQuota{} }, NewList: func() runtime.Object { return &corev1.ResourceQuotaList{} },
		Strategy: st,
		Subresources: map[string]Subresource{"status": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
			rq, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
			rq.ObjectMeta, rq.Spec = o.ObjectMeta, o.Spec
		}}},
		Columns: []metav1.TableColumnDefinition{nameColumn(), column("Request", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
			column("Limit", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", 0), ageColumn()},
		Row: quotaRow,
	}
}

func quotaRow(obj runtime.Object, now time.Time) []any {
	rq := obj.(*corev1.ResourceQuota)
	var req, lim []string
	for _, name := range keysOf(rq.Status.Hard) {
		used, hard := rq.Status.Used[corev1.ResourceName(name)], rq.Status.Hard[corev1.ResourceName(name)]
		cell := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if pieces := strings.Split(name, "."); len(pieces) > 1 && pieces[0] == "limits" {
			lim = append(lim, cell)
		} else {
			req = append(req, cell)
		}
	}
	return []any{rq.Name, strings.Join(req, ", "), strings.Join(lim, ", "), age(rq.CreationTimestamp, now)}
}

// statusOf reports a pod's STATUS column the way kubectl's printer does for
// pods that never ran: the phase, or the deletion marker.
func statusOf(p *corev1.Pod) string {
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	if p.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

func podRow(obj runtime.Object, now time.Time) []any {
	p := obj.(*corev1.Pod)
	ready := 0
	restarts := 0
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready {
			ready++
		}
		restarts += int(cs.RestartCount)
	}
	orNone := func(s string) string {
		if s == "" {
			return "<none>"
		}
		return s
	}
	return []any{p.Name, strconv.Itoa(ready) + "/" + strconv.Itoa(len(p.Spec.Containers)), statusOf(p), strconv.Itoa(restarts),
		age(p.CreationTimestamp, now), orNone(p.Status.PodIP), orNone(p.Spec.NodeName), orNone(p.Status.NominatedNodeName), "<none>"}
}

// defaultLimitRange is kube-apiserver's SetDefaults_LimitRangeItem: for
// containers, a missing default limit comes from max, and a missing
// default request from the default limit, then from min.
func defaultLimitRange(obj runtime.Object) {
	for i := range obj.(*corev1.LimitRange).Spec.Limits {
		item := &obj.(*corev1.LimitRange).Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		fill := func(dst, src corev1.ResourceList) {
			for k, v := range src {
				if _, ok := dst[k]; !ok {
					dst[k] = v.DeepCopy()
				}
			}
		}
		fill(item.Default, item.Max)
		fill(item.DefaultRequest, item.Default)
		fill(item.DefaultRequest, item.Min)
	}
}
