package registry

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// kube-apiserver's length limits for the fields of an Event.
const (
	eventReportingInstanceMax = 128
	eventActionMax            = 128
	eventReasonMax            = 128
	eventNoteMax              = 1024
)

// eventKind stores core/v1 Events as kube-apiserver's event registry does:
// no defaulting, PUT may create, names only need to be valid path segments,
// and the core/v1 (legacy) validation. kube-apiserver also expires events
// after an hour (--event-ttl); kauth keeps them until deleted.
func eventKind() *Kind {
	validate := func(obj runtime.Object) field.ErrorList {
		return append(validateEvent(obj.(*corev1.Event)), validateMeta(obj, true, path.ValidatePathSegmentName)...)
	}
	return &Kind{
		GVK: corev1.SchemeGroupVersion.WithKind("Event"), Resource: "events", Singular: "event", ShortNames: []string{"ev"},
		Namespaced: true, AllowCreateOnUpdate: true,
		New: func() runtime.Object { return &corev1.Event{} }, NewList: func() runtime.Object { return &corev1.EventList{} },
		Strategy: Strategy{
			PrepareForCreate: func(context.Context, runtime.Object) {},
			PrepareForUpdate: func(context.Context, runtime.Object, runtime.Object) {},
			Validate:         validate,
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return append(validate(obj), validateMetaUpdate(obj, old)...)
			},
		},
		Columns: []metav1.TableColumnDefinition{
			column("Last Seen", corev1.Event{}.SwaggerDoc()["lastTimestamp"], 0),
			column("Type", corev1.Event{}.SwaggerDoc()["type"], 0),
			column("Reason", corev1.Event{}.SwaggerDoc()["reason"], 0),
			column("Object", corev1.Event{}.SwaggerDoc()["involvedObject"], 0),
			column("Subobject", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"], 1),
			column("Source", corev1.Event{}.SwaggerDoc()["source"], 1),
			column("Message", corev1.Event{}.SwaggerDoc()["message"], 0),
			column("First Seen", corev1.Event{}.SwaggerDoc()["firstTimestamp"], 1),
			column("Count", corev1.Event{}.SwaggerDoc()["count"], 1),
			{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		},
		Row:      eventRow,
		FieldSet: eventFields,
	}
}

// eventFields are the fields kube-apiserver lets a selector use for
// events; "source" falls back to the reporting controller.
func eventFields(obj runtime.Object) fields.Set {
	e := obj.(*corev1.Event)
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	o := e.InvolvedObject
	return fields.Set{
		"involvedObject.kind": o.Kind, "involvedObject.namespace": o.Namespace, "involvedObject.name": o.Name,
		"involvedObject.uid": string(o.UID), "involvedObject.apiVersion": o.APIVersion,
		"involvedObject.resourceVersion": o.ResourceVersion, "involvedObject.fieldPath": o.FieldPath,
		"reason": e.Reason, "reportingComponent": e.ReportingController, "source": source, "type": e.Type,
	}
}

// validateEvent is kube-apiserver's validation of an Event written through
// core/v1: an old-style event (no eventTime) must be in its object's
// namespace; a new-style one needs its reporting controller and instance,
// action and reason, within their length limits.
func validateEvent(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if e.EventTime.IsZero() {
		if e.InvolvedObject.Namespace == "" {
			if e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if e.Namespace != e.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		return errs
	}
	if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
		errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	// core/v1 calls the reporting controller reportingComponent.
	rc := field.NewPath("reportingComponent")
	if e.ReportingController == "" {
		errs = append(errs, field.Required(rc, ""))
	}
	for _, msg := range validation.IsQualifiedName(e.ReportingController) {
		errs = append(errs, field.Invalid(rc, e.ReportingController, msg))
	}
	required := func(p *field.Path, v string, limit int) {
		if v == "" {
			errs = append(errs, field.Required(p, ""))
		}
		if len(v) > limit {
			errs = append(errs, field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", limit)))
		}
	}
	required(field.NewPath("reportingInstance"), e.ReportingInstance, eventReportingInstanceMax)
	required(field.NewPath("action"), e.Action, eventActionMax)
	required(field.NewPath("reason"), e.Reason, eventReasonMax)
	if len(e.Message) > eventNoteMax {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", eventNoteMax)))
	}
	return errs
}

// eventRow is kube-apiserver's event printer: times fall back from
// lastTimestamp to firstTimestamp to eventTime, a series gives its last
// observation and count.
func eventRow(obj runtime.Object, now time.Time) []any {
	e := obj.(*corev1.Event)
	microAge := func(t metav1.MicroTime) string { return age(metav1.Time{Time: t.Time}, now) }
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = microAge(e.EventTime)
	}
	last := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last, count = microAge(e.Series.LastObservedTime), e.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	source := firstNonEmpty(e.Source.Component, e.ReportingController)
	if instance := firstNonEmpty(e.Source.Host, e.ReportingInstance); instance != "" {
		source += ", " + instance
	}
	return []any{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, source,
		strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
