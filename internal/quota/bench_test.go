package quota

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kauth/kauth/internal/loader"
)

// BenchmarkCheck replays 100 Deployments of 10 replicas (1,000 pods, with
// LimitRange defaults and a quota, all admitted) per iteration.
func BenchmarkCheck(b *testing.B) {
	var manifests strings.Builder
	for i := range 100 {
		fmt.Fprintf(&manifests, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%d, namespace: team}
spec:
  replicas: 10
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: nginx, resources: {limits: {cpu: 100m}}}, {name: side, image: envoy}]}
`, i)
	}
	objs, err := loader.Decode("bench.yaml", []byte(manifests.String()))
	if err != nil {
		b.Fatal(err)
	}
	policy, err := loader.Decode("quota.yaml", []byte(`apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: team}
spec:
  limits: [{type: Container, default: {cpu: 500m, memory: 256Mi}, defaultRequest: {cpu: 250m, memory: 128Mi}}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: big, namespace: team}
spec: {hard: {requests.cpu: "1000", limits.memory: 1Ti, pods: "5000", count/deployments.apps: "1000"}}
`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(CheckRequest{Objects: objs, Policy: policy}); err != nil {
			b.Fatal(err)
		}
	}
}
