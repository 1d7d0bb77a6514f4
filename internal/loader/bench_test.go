package loader

import (
	"fmt"
	"strings"
	"testing"
)

// corpus is n RoleBindings and n/10 Roles in one multi-document stream,
// the shape of a large policy repository.
func corpus(n int) []byte {
	var b strings.Builder
	for i := range n {
		if i%10 == 0 {
			fmt.Fprintf(&b, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: role-%d
  namespace: ns-%d
rules:
- apiGroups: ["", "apps"]
  resources: [pods, deployments, configmaps]
  verbs: [get, list, watch]
---
`, i, i%50)
		}
		fmt.Fprintf(&b, `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: binding-%d
  namespace: ns-%d
  labels: {team: t%d}
subjects:
- kind: User
  name: user-%d
  apiGroup: rbac.authorization.k8s.io
- kind: Group
  name: group-%d
  apiGroup: rbac.authorization.k8s.io
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: role-%d
---
`, i, i%50, i%7, i, i%100, i/10*10)
	}
	return []byte(b.String())
}

// BenchmarkDecode10kBindings measures loading a 10,000-binding policy
// from YAML, the "well under a second" goal.
func BenchmarkDecode10kBindings(b *testing.B) {
	data := corpus(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		objs, err := Decode("corpus.yaml", data)
		if err != nil || len(objs) != 11000 {
			b.Fatalf("Decode() = %d objects, %v", len(objs), err)
		}
	}
}
