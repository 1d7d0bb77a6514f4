package rbac_test

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// A policy read from YAML, asked one question through kube-apiserver's
// chain (system:masters, then RBAC).
func Example() {
	objs, err := loader.Decode("policy.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: dev}
subjects: [{kind: User, name: alice}]
roleRef: {kind: ClusterRole, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
`))
	if err != nil {
		panic(err)
	}
	p, _, err := rbac.FromObjects(objs)
	if err != nil {
		panic(err)
	}
	rbac.Aggregate(p)
	az := rbac.NewAuthorizer(rbac.NewIndex(p))
	for _, ns := range []string{"dev", "prod"} {
		d, reason, _ := az.Authorize(context.Background(), authorizer.AttributesRecord{
			User: rbac.Impersonate("alice", nil), Verb: "list", Namespace: ns, Resource: "pods", ResourceRequest: true,
		})
		fmt.Printf("%s: %v %q\n", ns, d == authorizer.DecisionAllow, reason)
	}
	// Output:
	// dev: true "RBAC: allowed by RoleBinding \"alice-reads/dev\" of ClusterRole \"pod-reader\" to User \"alice\""
	// prod: false ""
}

// Who may read pods in dev: system:masters, then the bound subjects.
func ExampleIndex_WhoCan() {
	p := &rbac.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{{ObjectMeta: objMeta("pod-reader"), Rules: []rbacv1.PolicyRule{pr(l("get"), l(""), l("pods"))}}},
		RoleBindings: []*rbacv1.RoleBinding{rb("dev", "readers", rbac.KindClusterRole, "pod-reader", groupSubject("devs"), saSubject("ci", "builder"))},
	}
	res := rbac.NewIndex(p).WhoCan(authorizer.AttributesRecord{Verb: "get", Namespace: "dev", Resource: "pods", ResourceRequest: true})
	for _, s := range res.Subjects {
		fmt.Println(s.Kind, s.Namespace, s.Name, len(s.Via))
	}
	// Output:
	// Group  system:masters 0
	// Group  devs 1
	// ServiceAccount ci builder 1
}
