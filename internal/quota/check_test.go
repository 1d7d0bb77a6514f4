package quota

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/loader"
)

func decode(t *testing.T, name, data string) []loader.Object {
	t.Helper()
	objs, err := loader.Decode(name, []byte(data))
	if err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return objs
}

const quotaAndLimits = `apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team}
spec:
  hard: {requests.cpu: "2", limits.cpu: "4", requests.memory: 2Gi, pods: "5", count/deployments.apps: "1", persistentvolumeclaims: "2", requests.storage: 10Gi}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: team}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 250m, memory: 128Mi}
`

// brief is one object's result without its source.
type brief struct {
	Kind, Name     string
	Pods, Admitted int
	Message        string
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		manifests string
		nodes     int
		want      []brief
	}{
		{
			name: "deployment replicas multiplied out with LimitRange defaults",
			manifests: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team}
spec:
  replicas: 9
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx}]
`,
			want: []brief{{"Deployment", "web", 9, 5, `pods "web-{pod-template-hash}-" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=5, limited: pods=5`}},
		},
		{
			name: "a second deployment exceeds count/deployments.apps",
			manifests: `apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: team}
spec:
  replicas: 0
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: app, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: team}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: app, image: nginx}]}
`,
			want: []brief{
				{"Deployment", "a", 0, 0, ""},
				{"Deployment", "b", 1, 0, `deployments.apps "b" is forbidden: exceeded quota: compute, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1`},
			},
		},
		{
			name: "statefulset claims are charged before each pod",
			manifests: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 4Gi}}
`,
			want: []brief{{"StatefulSet", "db", 3, 2, `persistentvolumeclaims "data-db-2" is forbidden: exceeded quota: compute, requested: persistentvolumeclaims=1,requests.storage=4Gi, used: persistentvolumeclaims=2,requests.storage=8Gi, limited: persistentvolumeclaims=2,requests.storage=10Gi`}},
		},
		{
			name:  "daemonset counted per node, job by parallelism, cronjob one run",
			nodes: 2,
			manifests: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: team}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: agent, resources: {requests: {cpu: 100m}}}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch, namespace: team}
spec:
  parallelism: 4
  completions: 2
  template:
    spec: {restartPolicy: Never, containers: [{name: j, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: team}
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: j, image: busybox, resources: {requests: {cpu: "2"}}}]}
`,
			want: []brief{
				{"DaemonSet", "agent", 2, 2, ""},
				{"Job", "batch", 2, 2, ""},
				{"CronJob", "nightly", 1, 0, `pods "nightly-{scheduled-time}-" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=700m, limited: requests.cpu=2`},
			},
		},
		{
			name: "LimitRanger rejects before ResourceQuota",
			manifests: `apiVersion: v1
kind: LimitRange
metadata: {name: strict, namespace: team}
spec:
  limits: [{type: Container, max: {memory: 128Mi}}]
---
apiVersion: v1
kind: Pod
metadata: {name: big, namespace: team}
spec: {containers: [{name: app, image: nginx, resources: {limits: {memory: 1Gi}}}]}
`,
			want: []brief{{"Pod", "big", 1, 0, `pods "big" is forbidden: maximum memory usage per Container is 128Mi, but limit is 1Gi`}},
		},
		{
			name: "services, secrets and custom resources are counted",
			manifests: `apiVersion: v1
kind: ResourceQuota
metadata: {name: objects, namespace: team}
spec:
  hard: {services.loadbalancers: "0", secrets: "1", count/widgets.example.com: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: team}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: team}
---
apiVersion: v1
kind: Secret
metadata: {name: s2, namespace: team}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: team}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w2, namespace: team}
`,
			want: []brief{
				{"Service", "lb", 0, 0, `services "lb" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0`},
				{"Secret", "s1", 0, 0, ""},
				{"Secret", "s2", 0, 0, `secrets "s2" is forbidden: exceeded quota: objects, requested: secrets=1, used: secrets=1, limited: secrets=1`},
				{"Widget", "w1", 0, 0, ""},
				{"Widget", "w2", 0, 0, `widgets.example.com "w2" is forbidden: exceeded quota: objects, requested: count/widgets.example.com=1, used: count/widgets.example.com=1, limited: count/widgets.example.com=1`},
			},
		},
		{
			name: "quota scopes: a BestEffort quota ignores pods with requests",
			manifests: `apiVersion: v1
kind: ResourceQuota
metadata: {name: besteffort, namespace: other}
spec:
  hard: {pods: "1"}
  scopes: [BestEffort]
---
apiVersion: v1
kind: Pod
metadata: {name: be1, namespace: other}
spec: {containers: [{name: a, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: burst, namespace: other}
spec: {containers: [{name: a, image: x, resources: {requests: {cpu: 1}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: be2, namespace: other}
spec: {containers: [{name: a, image: x}]}
`,
			want: []brief{
				{"Pod", "be1", 1, 1, ""},
				{"Pod", "burst", 1, 1, ""},
				{"Pod", "be2", 1, 0, `pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1`},
			},
		},
		{
			name: "a quota without a namespace is in the default namespace",
			manifests: `apiVersion: v1
kind: ResourceQuota
metadata: {name: few}
spec: {hard: {pods: "1"}}
---
apiVersion: v1
kind: Pod
metadata: {name: one}
spec: {containers: [{name: a, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec: {containers: [{name: a, image: x}]}
`,
			want: []brief{
				{"Pod", "one", 1, 1, ""},
				{"Pod", "two", 1, 0, `pods "two" is forbidden: exceeded quota: few, requested: pods=1, used: pods=1, limited: pods=1`},
			},
		},
		{
			name: "RuntimeClass overhead is charged and claims meet PersistentVolumeClaim limits",
			manifests: `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata
overhead: {podFixed: {cpu: 1900m, memory: 100Mi}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: storage, namespace: team}
spec:
  limits: [{type: PersistentVolumeClaim, max: {storage: 5Gi}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: huge, namespace: team}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 8Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: sandboxed, namespace: team}
spec:
  runtimeClassName: kata
  containers: [{name: a, image: x}]
`,
			want: []brief{
				{"PersistentVolumeClaim", "huge", 0, 0, `persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 8Gi`},
				{"Pod", "sandboxed", 1, 0, `pods "sandboxed" is forbidden: exceeded quota: compute, requested: requests.cpu=2150m, used: requests.cpu=0, limited: requests.cpu=2`},
			},
		},
		{
			name: "terminal pods do not charge pods",
			manifests: `apiVersion: v1
kind: Pod
metadata: {name: done, namespace: team}
spec: {containers: [{name: a, image: x, resources: {requests: {cpu: "3"}}}]}
status: {phase: Succeeded}
`,
			want: []brief{{"Pod", "done", 1, 1, ""}},
		},
		{
			name: "objects in a namespace without quota are admitted",
			manifests: `apiVersion: v1
kind: Pod
metadata: {name: free}
spec: {containers: [{name: app, image: nginx, resources: {requests: {cpu: "64"}}}]}
`,
			want: []brief{{"Pod", "free", 1, 1, ""}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Check(CheckRequest{
				Objects:        decode(t, "manifests.yaml", tc.manifests),
				Policy:         decode(t, "quota.yaml", quotaAndLimits),
				DaemonSetNodes: tc.nodes,
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []brief
			for _, o := range res.Objects {
				got = append(got, brief{o.Kind, o.Name, o.Pods, o.Admitted, o.Message})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check() objects mismatch (-want +got):\n%s", diff)
			}
			wantFits := true
			for _, b := range tc.want {
				if b.Message != "" {
					wantFits = false
				}
			}
			if res.Fits != wantFits || (res.Rejected == nil) == !wantFits {
				t.Errorf("Check() fits = %v, rejected = %+v; want fits %v", res.Fits, res.Rejected, wantFits)
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	t.Parallel()
	manifests := `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: team}
spec: {containers: [{name: app, image: nginx}]}
`
	res, err := Check(CheckRequest{Objects: decode(t, "m.yaml", manifests), Policy: decode(t, "q.yaml", quotaAndLimits)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Namespaces[0].Quotas[0].Resources {
		got = append(got, string(r.Resource)+" "+r.Used.String()+"/"+r.Hard.String()+" "+strconv.Itoa(r.Percent))
	}
	want := []string{
		"count/deployments.apps 0/1 0", "limits.cpu 500m/4 12", "persistentvolumeclaims 0/2 0",
		"pods 1/5 20", "requests.cpu 250m/2 12", "requests.memory 128Mi/2Gi 6", "requests.storage 0/10Gi 0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check() usage mismatch (-want +got):\n%s", diff)
	}
}

func TestHasPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"quota and limits", quotaAndLimits, true},
		{"limit range only", "apiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: team}\nspec:\n  limits:\n  - type: Container\n    max: {cpu: \"1\"}\n", true},
		{"a workload", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: a}]\n", false},
		{"runtime class only", "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: r}\nhandler: runc\n", false},
		{"nothing", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HasPolicy(decode(t, "p.yaml", tt.data)); got != tt.want {
				t.Errorf("HasPolicy() = %v, want %v", got, tt.want)
			}
		})
	}
}
