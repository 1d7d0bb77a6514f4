package quota

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		objects string
		want    []string // rule namespace kind/name: message
	}{
		{
			name: "namespace without quota or limit range",
			objects: `apiVersion: v1
kind: Namespace
metadata: {name: bare}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
`,
			want: []string{
				"namespace-without-limitrange bare Namespace/bare: namespace bare has no LimitRange: containers without requests or limits get no defaults",
				"namespace-without-quota bare Namespace/bare: namespace bare has no ResourceQuota: its workloads can use the whole cluster",
			},
		},
		{
			name: "contradictions between a limit range, its quota and a pod",
			objects: `apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: t}
spec: {hard: {limits.cpu: "1", requests.memory: 1Gi}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: t}
spec:
  limits:
  - type: Container
    min: {cpu: "2"}
    max: {cpu: "1"}
    default: {cpu: "2"}
    defaultRequest: {memory: 64Mi}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hog, namespace: t}
spec:
  selector: {matchLabels: {app: hog}}
  template:
    metadata: {labels: {app: hog}}
    spec: {containers: [{name: a, image: x, resources: {limits: {cpu: 500m, memory: 2Gi}}}]}
`,
			want: []string{
				"limitrange-default-exceeds-quota t LimitRange/lr: default limit cpu=2 is above ResourceQuota q's limits.cpu=1: every pod relying on the default is rejected",
				"limitrange-inconsistent t LimitRange/lr: Container item: min cpu=2 is above max cpu=1",
				"limitrange-inconsistent t LimitRange/lr: Container item: default cpu=2 is above max cpu=1",
				"limitrange-inconsistent t LimitRange/lr: Container item: defaultRequest cpu=2 is above max cpu=1",
				"pod-exceeds-quota t Deployment/hog: one pod of Deployment hog alone needs requests.memory=2Gi, more than ResourceQuota q allows (requests.memory=1Gi)",
			},
		},
		{
			name: "quota on cpu without a default",
			objects: `apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: t}
spec: {hard: {requests.cpu: "1", limits.memory: 1Gi, pods: "3"}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: t}
spec: {limits: [{type: Container, defaultRequest: {cpu: 100m}}]}
`,
			want: []string{
				"quota-requires-container-resources t ResourceQuota/q: ResourceQuota q tracks limits.memory but no LimitRange sets a default: every container must set it or its pod is rejected (must specify ...)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Lint(decode(t, "objects.yaml", tc.objects), "")
			var got []string
			for _, f := range res.Findings {
				got = append(got, f.Rule+" "+f.Namespace+" "+f.Kind+"/"+f.Name+": "+f.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Lint() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
