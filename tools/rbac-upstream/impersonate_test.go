package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/endpoints/filters/impersonation"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kauth/kauth/internal/rbac"
)

// upstreamImpersonate sends a request with kubectl's --as/--as-group
// headers through kube-apiserver's impersonation filter (impersonation
// allowed) and returns the user the next handler sees.
func upstreamImpersonate(t *testing.T, name string, groups []string) (user.Info, int) {
	t.Helper()
	var got user.Info
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = request.UserFrom(r.Context()) })
	h := impersonation.WithImpersonation(inner, authorizerfactory.NewAlwaysAllowAuthorizer(), legacyscheme.Codecs)
	req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods", nil)
	req = req.WithContext(request.WithUser(req.Context(), &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}))
	req.Header.Set(authenticationv1.ImpersonateUserHeader, name)
	for _, g := range groups {
		req.Header.Add(authenticationv1.ImpersonateGroupHeader, g)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return got, rec.Code
}

// TestDifferentialImpersonation compares rbac.Impersonate (what "kauth
// authz can-i --as NAME --as-group G" asks about) with the user
// kube-apiserver's impersonation filter builds from the same headers.
func TestDifferentialImpersonation(t *testing.T) {
	t.Parallel()
	names := []string{"alice", user.Anonymous, "system:serviceaccount:ns:sa", "system:serviceaccount:ns", "system:serviceaccount::sa", "system:node:n1", "system:serviceaccount:ns:sa:x"}
	groupSets := [][]string{nil, {"dev"}, {user.AllAuthenticated}, {user.AllUnauthenticated}, {"system:serviceaccounts"}, {"dev", "dev"}}
	for _, name := range names {
		for _, groups := range groupSets {
			up, code := upstreamImpersonate(t, name, groups)
			if code != http.StatusOK || up == nil {
				t.Logf("--as %q --as-group %q: kube-apiserver answers %d", name, groups, code)
				continue
			}
			k := rbac.Impersonate(name, groups)
			if diff := cmp.Diff([]string{up.GetName()}, []string{k.GetName()}); diff != "" {
				t.Errorf("--as %q --as-group %q: user name (-kube-apiserver +kauth):\n%s", name, groups, diff)
			}
			if diff := cmp.Diff(up.GetGroups(), k.GetGroups()); diff != "" {
				t.Errorf("--as %q --as-group %q: groups (-kube-apiserver +kauth):\n%s", name, groups, diff)
			}
		}
	}
}
