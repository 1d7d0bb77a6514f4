package apf

import (
	"strings"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

// covers reports whether schema a matches every request schema b
// matches: each rule of b is covered by one rule of a (its subjects and
// its resource and non-resource rules). It is conservative: a false
// answer does not prove b can match.
func covers(a, b *flowcontrolv1.FlowSchema) bool {
	if len(b.Spec.Rules) == 0 {
		return false
	}
	for i := range b.Spec.Rules {
		if !ruleCovered(a.Spec.Rules, &b.Spec.Rules[i]) {
			return false
		}
	}
	return true
}

func ruleCovered(as []flowcontrolv1.PolicyRulesWithSubjects, rb *flowcontrolv1.PolicyRulesWithSubjects) bool {
	for i := range as {
		ra := &as[i]
		if subjectsCover(ra.Subjects, rb.Subjects) && resourceRulesCover(ra.ResourceRules, rb.ResourceRules) && nonResourceRulesCover(ra.NonResourceRules, rb.NonResourceRules) {
			return true
		}
	}
	return false
}

func subjectsCover(as, bs []flowcontrolv1.Subject) bool {
	for _, b := range bs {
		ok := false
		for _, a := range as {
			if subjectCovers(a, b) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func subjectCovers(a, b flowcontrolv1.Subject) bool {
	switch {
	case a.Kind == flowcontrolv1.SubjectKindGroup && a.Group != nil && a.Group.Name == "*",
		a.Kind == flowcontrolv1.SubjectKindUser && a.User != nil && a.User.Name == flowcontrolv1.NameAll:
		return true
	case a.Kind == flowcontrolv1.SubjectKindGroup && a.Group != nil && impliedGroupCovers(a.Group.Name, b):
		return true
	case a.Kind != b.Kind:
		return false
	case a.Kind == flowcontrolv1.SubjectKindUser:
		return a.User != nil && b.User != nil && a.User.Name == b.User.Name
	case a.Kind == flowcontrolv1.SubjectKindGroup:
		return a.Group != nil && b.Group != nil && a.Group.Name == b.Group.Name
	case a.Kind == flowcontrolv1.SubjectKindServiceAccount:
		return a.ServiceAccount != nil && b.ServiceAccount != nil && a.ServiceAccount.Namespace == b.ServiceAccount.Namespace &&
			(a.ServiceAccount.Name == flowcontrolv1.NameAll || a.ServiceAccount.Name == b.ServiceAccount.Name)
	}
	return false
}

// impliedGroupCovers reports whether every request of subject b carries
// group g because kube-apiserver's authentication (and impersonation)
// always adds it: system:authenticated to every user but
// system:anonymous, system:unauthenticated to system:anonymous, and
// system:serviceaccounts and system:serviceaccounts:NAMESPACE to a
// service account.
func impliedGroupCovers(g string, b flowcontrolv1.Subject) bool {
	switch {
	case b.Kind == flowcontrolv1.SubjectKindUser && b.User != nil:
		switch b.User.Name {
		case flowcontrolv1.NameAll:
			return false
		case user.Anonymous:
			return g == user.AllUnauthenticated
		}
		return g == user.AllAuthenticated
	case b.Kind == flowcontrolv1.SubjectKindServiceAccount && b.ServiceAccount != nil:
		return g == user.AllAuthenticated || g == serviceaccount.AllServiceAccountsGroup ||
			g == serviceaccount.MakeNamespaceGroupName(b.ServiceAccount.Namespace)
	}
	return false
}

// subjectsOverlap reports whether some user could match a subject of
// both schemas (a same subject, or a wildcard on either side).
func subjectsOverlap(a, b *flowcontrolv1.FlowSchema) bool {
	for _, ra := range a.Spec.Rules {
		for _, rb := range b.Spec.Rules {
			for _, sa := range ra.Subjects {
				for _, sb := range rb.Subjects {
					if subjectCovers(sa, sb) || subjectCovers(sb, sa) {
						return true
					}
				}
			}
		}
	}
	return false
}

// listCovers: the wildcard counts only as a list's single member, as in
// matching.
func listCovers(a, b []string, wildcard string) bool {
	if len(a) == 1 && a[0] == wildcard {
		return true
	}
	if len(b) == 1 && b[0] == wildcard {
		return false
	}
	for _, x := range b {
		found := false
		for _, y := range a {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func resourceRulesCover(as, bs []flowcontrolv1.ResourcePolicyRule) bool {
	for _, b := range bs {
		ok := false
		for _, a := range as {
			if listCovers(a.Verbs, b.Verbs, "*") && listCovers(a.APIGroups, b.APIGroups, "*") && listCovers(a.Resources, b.Resources, "*") &&
				(!b.ClusterScope || a.ClusterScope) && (len(b.Namespaces) == 0 || listCovers(a.Namespaces, b.Namespaces, "*")) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func nonResourceRulesCover(as, bs []flowcontrolv1.NonResourcePolicyRule) bool {
	for _, b := range bs {
		ok := false
		for _, a := range as {
			if listCovers(a.Verbs, b.Verbs, "*") && urlsCover(a.NonResourceURLs, b.NonResourceURLs) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func urlsCover(as, bs []string) bool {
	for _, b := range bs {
		ok := false
		for _, a := range as {
			if a == "*" || a == b || strings.HasSuffix(a, "/*") && strings.HasPrefix(strings.TrimSuffix(b, "*"), strings.TrimSuffix(a, "*")) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
