package authzchain

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// BenchmarkABACAuthorize asks a 1,000-rule policy a question only its
// last rule answers, the worst case of the linear scan kube-apiserver does.
func BenchmarkABACAuthorize(b *testing.B) {
	var lines []string
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf(`{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"user-%d","namespace":"ns-%d","resource":"pods","apiGroup":""}}`, i, i))
	}
	pl, err := ParseABAC("bench", []byte(strings.Join(lines, "\n")))
	if err != nil {
		b.Fatal(err)
	}
	a := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "user-999"}, Verb: "get", Resource: "pods", Namespace: "ns-999", ResourceRequest: true}
	b.ReportAllocs()
	for b.Loop() {
		if d, _, _ := pl.Authorize(context.Background(), a); d != authorizer.DecisionAllow {
			b.Fatal(d)
		}
	}
}
