package api

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// aliceRules: alice may get and list pods in default, and bind the
// "viewer" ClusterRole.
type aliceRules struct{ authorizer.AuthorizerFunc }

func (aliceRules) RulesFor(_ context.Context, u user.Info, ns string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	if u.GetName() != "alice" || ns != "default" {
		return nil, nil, false, nil
	}
	return []authorizer.ResourceRuleInfo{&authorizer.DefaultResourceRuleInfo{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/*"}}}, nil, false, nil
}

func TestEscalationPrevention(t *testing.T) {
	t.Parallel()
	authz := aliceRules{authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.GetUser().GetName() == "alice" && a.GetVerb() == "bind" && a.GetResource() == "clusterroles" && a.GetName() == "viewer" {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	})}
	ts := newTestServer(t, Hooks{Authorizer: authz})
	ctx := context.Background()
	for _, name := range []string{"viewer", "boss"} {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}
		if _, err := ts.client.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	alice, err := kubernetes.NewForConfig(&rest.Config{Host: ts.srv.URL, Impersonate: rest.ImpersonationConfig{UserName: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	roles := alice.RbacV1().Roles("default")
	held := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "held"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}}}}
	if _, err := roles.Create(ctx, held, metav1.CreateOptions{}); err != nil {
		t.Fatalf("role within alice's rights: %v", err)
	}
	more := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "more"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "delete"}, APIGroups: []string{""}, Resources: []string{"pods", "secrets"}}}}
	_, err = roles.Create(ctx, more, metav1.CreateOptions{})
	want := `roles.rbac.authorization.k8s.io "more" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("escalating role:\n got %v\nwant %s", err, want)
	}
	bind := func(role string) error {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "to-" + role}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "bob"}}}
		_, err := alice.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{})
		return err
	}
	if err := bind("viewer"); err != nil {
		t.Fatalf("binding with the bind verb: %v", err)
	}
	if err := bind("boss"); !apierrors.IsForbidden(err) {
		t.Fatalf("binding an unheld role: got %v, want 403", err)
	}
}
