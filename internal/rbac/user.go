package rbac

import (
	"slices"

	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

// Impersonate returns the user kube-apiserver's impersonation filter
// builds for "--as NAME --as-group G...", as kubectl auth can-i sends it:
// a service account name without groups gets system:serviceaccounts and
// system:serviceaccounts:NS; every user except system:anonymous gets
// system:authenticated unless a group already says system:authenticated or
// system:unauthenticated; system:anonymous gets system:unauthenticated.
func Impersonate(name string, groups []string) user.Info {
	gs := slices.Clone(groups)
	if len(gs) == 0 {
		if ns, _, err := serviceaccount.SplitUsername(name); err == nil {
			gs = serviceaccount.MakeGroupNames(ns)
		}
	}
	if name == user.Anonymous {
		if !slices.Contains(gs, user.AllUnauthenticated) {
			gs = append(gs, user.AllUnauthenticated)
		}
	} else if !slices.Contains(gs, user.AllAuthenticated) && !slices.Contains(gs, user.AllUnauthenticated) {
		gs = append(gs, user.AllAuthenticated)
	}
	return &user.DefaultInfo{Name: name, Groups: gs}
}
