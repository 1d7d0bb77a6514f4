package apf

import (
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// subjectCovers knows the groups kube-apiserver's authentication always
// adds: every user but system:anonymous is in system:authenticated, and a
// service account is in system:serviceaccounts and
// system:serviceaccounts:NAMESPACE. A broad schema for such a group
// shadows the narrower ones after it.
func TestSubjectCovers(t *testing.T) {
	t.Parallel()
	user := func(n string) flowcontrolv1.Subject {
		return flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: n}}
	}
	group := func(n string) flowcontrolv1.Subject {
		return flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: n}}
	}
	sa := func(ns, n string) flowcontrolv1.Subject {
		return flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindServiceAccount, ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Namespace: ns, Name: n}}
	}
	tests := []struct {
		name string
		a, b flowcontrolv1.Subject
		want bool
	}{
		{"same user", user("alice"), user("alice"), true},
		{"other user", user("alice"), user("bob"), false},
		{"authenticated covers a user", group("system:authenticated"), user("alice"), true},
		{"authenticated does not cover anonymous", group("system:authenticated"), user("system:anonymous"), false},
		{"authenticated does not cover every user", group("system:authenticated"), user("*"), false},
		{"authenticated covers a service account", group("system:authenticated"), sa("ci", "*"), true},
		{"unauthenticated covers anonymous", group("system:unauthenticated"), user("system:anonymous"), true},
		{"serviceaccounts covers any service account", group("system:serviceaccounts"), sa("ci", "runner"), true},
		{"namespace group covers its accounts", group("system:serviceaccounts:ci"), sa("ci", "*"), true},
		{"namespace group does not cover others", group("system:serviceaccounts:ci"), sa("prod", "runner"), false},
		{"a group does not cover a user", group("devs"), user("alice"), false},
		{"authenticated does not cover another group", group("system:authenticated"), group("devs"), false},
	}
	for _, tc := range tests {
		if got := subjectCovers(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: subjectCovers() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
