package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestValidateEvent pins kube-apiserver's core/v1 event validation: an
// old-style event belongs to its object's namespace, a new-style one
// (eventTime set) needs its reporting fields, and names only need to be
// path segments.
func TestValidateEvent(t *testing.T) {
	t.Parallel()
	k := kind(t, New(), "events")
	eventTime := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ref := corev1.ObjectReference{Kind: "ConfigMap", Namespace: "ns", Name: "cm"}
	tests := []struct {
		name string
		ev   *corev1.Event
		want []string
	}{
		{"old style", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "cm.1", Namespace: "ns"}, InvolvedObject: ref, Reason: "Changed"}, nil},
		{"name with capitals and underscores", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "CM_1", Namespace: "ns"}, InvolvedObject: ref}, nil},
		{"name with a slash", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "a/b", Namespace: "ns"}, InvolvedObject: ref},
			[]string{`metadata.name: Invalid value: "a/b": may not contain '/'`}},
		{"namespace mismatch", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "other"}, InvolvedObject: ref},
			[]string{`involvedObject.namespace: Invalid value: "ns": does not match event.namespace`}},
		{"cluster object in default", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n"}}, nil},
		{"cluster object elsewhere", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns"}, InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n"}},
			[]string{`involvedObject.namespace: Invalid value: "": does not match event.namespace`}},
		{"new style complete", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns"}, InvolvedObject: ref, EventTime: eventTime,
			ReportingController: "example.com/ctl", ReportingInstance: "ctl-1", Action: "Sync", Reason: "Synced"}, nil},
		{"new style missing fields", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns"}, InvolvedObject: ref, EventTime: eventTime,
			Message: strings.Repeat("m", 1025)},
			[]string{"reportingComponent: Required value", "reportingComponent: Invalid value: \"\": name part must be non-empty",
				"reportingComponent: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
				"reportingInstance: Required value", "action: Required value", "reason: Required value",
				`message: Invalid value: "": can have at most 1024 characters`}},
	}
	for _, tc := range tests {
		var got []string
		for _, e := range k.Strategy.Validate(tc.ev) {
			got = append(got, e.Error())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestEventFieldsAndTable(t *testing.T) {
	t.Parallel()
	k := kind(t, New(), "events")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "cm.1", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: "ns", Name: "cm", UID: "u1", APIVersion: "v1"},
		Reason:         "Changed", Message: " data changed \n", Type: corev1.EventTypeNormal, ReportingController: "ctl",
		FirstTimestamp: metav1.NewTime(now.Add(-10 * time.Minute)), LastTimestamp: metav1.NewTime(now.Add(-2 * time.Minute)), Count: 3}
	set, err := k.Fields(ev)
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]bool{
		"involvedObject.name=cm,involvedObject.namespace=ns,involvedObject.kind=ConfigMap,involvedObject.uid=u1": true,
		"involvedObject.uid=u2": false, "source=ctl": true, "reportingComponent=ctl": true, "type=Warning": false,
		"reason=Changed,metadata.name=cm.1,metadata.namespace=ns": true, "involvedObject.apiVersion=v1,involvedObject.fieldPath=": true,
	} {
		if got := fields.ParseSelectorOrDie(sel).Matches(set); got != want {
			t.Errorf("%s: matches %v, want %v", sel, got, want)
		}
	}
	tbl, err := k.Table([]runtime.Object{ev}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"2m", "Normal", "Changed", "configmap/cm", "", "ctl", "data changed", "10m", int64(3), "cm.1"}
	if diff := cmp.Diff(want, tbl.Rows[0].Cells); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range tbl.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		}
	}
	if diff := cmp.Diff([]string{"Last Seen", "Type", "Reason", "Object", "Message"}, names); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}
