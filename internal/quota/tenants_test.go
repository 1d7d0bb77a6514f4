package quota

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

func TestReadTenantsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want string
	}{
		{"unknown field", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespace: [a]\n",
			"t.yaml:5: tenants[0].namespace: unknown field (expected one of adminRole, admins, annotations, labels, limits, name, namespaces, quota)"},
		{"unknown top-level field", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenant: []\n",
			"t.yaml:3: tenant: unknown field (expected one of apiVersion, defaults, kind, tenants)"},
		{"wrong apiVersion", "apiVersion: v1\nkind: Tenants\ntenants: [{name: a, namespaces: [a]}]\n",
			`t.yaml:1: apiVersion: must be kauth.io/v1alpha1, got "v1"`},
		{"wrong kind", "apiVersion: kauth.io/v1alpha1\nkind: List\ntenants: [{name: a, namespaces: [a]}]\n",
			`t.yaml:2: kind: must be Tenants, got "List"`},
		{"no tenants", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\n",
			"t.yaml:1: tenants: must list at least one tenant"},
		{"bad quantity", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [a]\n  quota:\n    hard:\n      cpu: lots\n",
			`t.yaml:8: tenants[0].quota.hard.cpu: "lots" is not a quantity (examples: 500m, 2, 1Gi)`},
		{"namespaces not a list", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: a\n",
			`t.yaml:5: tenants[0].namespaces: expected a list, got string "a"`},
		{"number for a string", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: 7\n  namespaces: [a]\n",
			"t.yaml:4: tenants[0].name: expected a string, got number 7 (quote it)"},
		{"invalid namespace", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces:\n  - ok\n  - Not_OK\n",
			`t.yaml:7: tenants[0].namespaces[1]: "Not_OK" is not a valid namespace name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
		{"namespace in two tenants", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n- name: b\n  namespaces: [x]\n",
			`t.yaml:7: tenants[1].namespaces[0]: namespace "x" already belongs to tenant "a"`},
		{"duplicate tenant", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n- name: a\n  namespaces: [y]\n",
			`t.yaml:6: tenants[1].name: tenant "a" is already defined at tenants[0]`},
		{"duplicate key", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\nkind: Tenants\n",
			"t.yaml:3: kind: duplicate field"},
		{"bad limit type", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Node\n",
			`t.yaml:7: tenants[0].limits[0].type: must be Container, Pod or PersistentVolumeClaim, got "Node"`},
		{"default on a Pod item", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Pod\n    default: {cpu: 1}\n",
			"t.yaml:7: tenants[0].limits[0]: default and defaultRequest apply to type Container only, not Pod"},
		{"unknown field in a limit", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    maximum: {cpu: 1}\n",
			"t.yaml:8: tenants[0].limits[0].maximum: unknown field (expected one of default, defaultRequest, max, maxLimitRequestRatio, min, type)"},
		// kube-apiserver's ResourceQuota validation: standard names unless
		// qualified, whole numbers for object counts and extended resources
		{"misspelt quota resource", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  quota:\n    hard:\n      requests.cpuu: 2\n",
			`t.yaml:8: tenants[0].quota.hard.requests.cpuu: "requests.cpuu" is not a standard quota resource: expected one such as requests.cpu, limits.memory, pods or configmaps, or a qualified name such as count/deployments.apps or requests.nvidia.com/gpu (kube-apiserver refuses the ResourceQuota)`},
		{"fractional pods", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  quota:\n    hard:\n      pods: 1500m\n",
			"t.yaml:8: tenants[0].quota.hard.pods: 1500m: must be a whole number (kube-apiserver refuses the ResourceQuota)"},
		{"fractional object count", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  quota:\n    hard:\n      count/deployments.apps: 0.5\n",
			"t.yaml:8: tenants[0].quota.hard.count/deployments.apps: 500m: must be a whole number (kube-apiserver refuses the ResourceQuota)"},
		// kube-apiserver validates a LimitRange after its defaulting and
		// refuses these; generate must not write them
		{"default above max", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    default: {cpu: 4}\n    max: {cpu: 1}\n",
			"t.yaml:8: tenants[0].limits[0].default.cpu: default value 4 is greater than max value 1 (kube-apiserver refuses the LimitRange)"},
		{"min above max", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Pod\n    max: {memory: 1Gi}\n    min: {memory: 2Gi}\n",
			"t.yaml:9: tenants[0].limits[0].min.memory: min value 2Gi is greater than max value 1Gi (kube-apiserver refuses the LimitRange)"},
		{"defaultRequest above default", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    default: {cpu: 100m}\n    defaultRequest: {cpu: 200m}\n",
			"t.yaml:9: tenants[0].limits[0].defaultRequest.cpu: default request value 200m is greater than default limit value 100m (kube-apiserver refuses the LimitRange)"},
		{"defaulted request below min", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    default: {cpu: 100m}\n    min: {cpu: 200m}\n",
			"t.yaml:9: tenants[0].limits[0].min.cpu: min value 200m is greater than default value 100m (kube-apiserver refuses the LimitRange)"},
		{"defaulted limit above request", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    max: {cpu: 1}\n    defaultRequest: {cpu: 2}\n",
			"t.yaml:9: tenants[0].limits[0].defaultRequest.cpu: default request value 2 is greater than max value 1 (kube-apiserver refuses the LimitRange)"},
		{"ratio below one", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    maxLimitRequestRatio: {cpu: 500m}\n",
			"t.yaml:8: tenants[0].limits[0].maxLimitRequestRatio.cpu: ratio 500m is less than 1 (kube-apiserver refuses the LimitRange)"},
		{"ratio above max over min", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    min: {cpu: 100m}\n    max: {cpu: 200m}\n    maxLimitRequestRatio: {cpu: 3}\n",
			"t.yaml:10: tenants[0].limits[0].maxLimitRequestRatio.cpu: ratio 3 is greater than max/min = 2 (kube-apiserver refuses the LimitRange)"},
		{"type twice", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    max: {cpu: 1}\n  - type: Container\n    max: {cpu: 2}\n",
			"t.yaml:9: tenants[0].limits[1].type: Container is already limited by tenants[0].limits[0]: kube-apiserver allows one item per type"},
		{"claim without storage bounds", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: PersistentVolumeClaim\n    maxLimitRequestRatio: {storage: 2}\n",
			"t.yaml:7: tenants[0].limits[0]: a PersistentVolumeClaim item needs min or max storage (kube-apiserver refuses the LimitRange)"},
		{"extended resource overcommitted", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    default: {nvidia.com/gpu: 2}\n    defaultRequest: {nvidia.com/gpu: 1}\n",
			"t.yaml:9: tenants[0].limits[0].defaultRequest.nvidia.com/gpu: default value 2 must equal defaultRequest value 1: nvidia.com/gpu cannot be overcommitted (kube-apiserver refuses the LimitRange)"},
		{"storage on a container", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Container\n    max: {storage: 1Gi}\n",
			`t.yaml:8: tenants[0].limits[0].max.storage: "storage" is not a resource of a Container: expected cpu, memory, ephemeral-storage, hugepages-<size> or an extended resource such as example.com/gpu (kube-apiserver refuses the LimitRange)`},
		{"misspelt claim resource", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: PersistentVolumeClaim\n    max: {storage: 1Gi, storag: 1Gi}\n",
			`t.yaml:8: tenants[0].limits[0].max.storag: "storag" is not a standard resource: expected storage for a PersistentVolumeClaim item (kube-apiserver refuses the LimitRange)`},
		{"requests. prefix on a container", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants:\n- name: a\n  namespaces: [x]\n  limits:\n  - type: Pod\n    max: {requests.example.com/gpu: 1}\n",
			`t.yaml:8: tenants[0].limits[0].max.requests.example.com/gpu: "requests.example.com/gpu" does not follow the extended resource name standard (kube-apiserver refuses the LimitRange)`},
		{"limits in defaults", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ndefaults:\n  limits:\n  - type: Container\n    default: {memory: 2Gi}\n    max: {memory: 1Gi}\ntenants:\n- name: a\n  namespaces: [x]\n",
			"t.yaml:6: defaults.limits[0].default.memory: default value 2Gi is greater than max value 1Gi (kube-apiserver refuses the LimitRange)"},
		{"yaml syntax", "apiVersion: kauth.io/v1alpha1\nkind: [\n",
			"t.yaml:2: did not find expected node content"},
		{"two documents", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\n---\nkind: Tenants\n",
			"t.yaml:3: expected one YAML document, found another"},
		{"empty", "", "t.yaml:1: empty file: expected apiVersion kauth.io/v1alpha1 and kind Tenants"},
		{"alias", "apiVersion: kauth.io/v1alpha1\nkind: Tenants\ndefaults: &d\n  adminRole: x\ntenants:\n- name: a\n  namespaces: [x]\n  admins: *d\n",
			"t.yaml:8: tenants[0].admins: YAML aliases are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadTenants("t.yaml", []byte(tc.data))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadTenants() error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadTenantsFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadTenants(file, data)
			valid := strings.HasPrefix(filepath.Base(file), "valid-")
			if valid && err != nil {
				t.Errorf("ReadTenants(%s) = %v, want no error", file, err)
			}
			if !valid && (err == nil || !strings.HasPrefix(err.Error(), file+":")) {
				t.Errorf("ReadTenants(%s) = %v, want an error starting %q", file, err, file+":")
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid-tenants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tn, err := ReadTenants("valid-tenants.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	list, err := Generate(tn)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, item := range list.Items {
		m := item.(interface {
			GetNamespace() string
			GetName() string
		})
		got = append(got, item.GetObjectKind().GroupVersionKind().Kind+" "+m.GetNamespace()+"/"+m.GetName())
	}
	want := []string{
		"Namespace /payments-dev", "ResourceQuota payments-dev/kauth-tenant", "LimitRange payments-dev/kauth-tenant",
		"RoleBinding payments-dev/kauth-tenant", "ConfigMap payments-dev/kauth-tenant",
		"Namespace /payments-prod", "ResourceQuota payments-prod/kauth-tenant", "LimitRange payments-prod/kauth-tenant",
		"RoleBinding payments-prod/kauth-tenant", "ConfigMap payments-prod/kauth-tenant",
		"Namespace /search", "ResourceQuota search/kauth-tenant", "LimitRange search/kauth-tenant",
		"RoleBinding search/kauth-tenant", "ConfigMap search/kauth-tenant",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Generate() objects mismatch (-want +got):\n%s", diff)
	}
	ns := list.Items[0].(*corev1.Namespace)
	wantLabels := map[string]string{TenantLabel: "payments", ManagedByLabel: ManagedBy, "pod-security.kubernetes.io/enforce": "restricted"}
	if diff := cmp.Diff(wantLabels, ns.Labels); diff != "" {
		t.Errorf("Namespace labels mismatch (-want +got):\n%s", diff)
	}
	rb := list.Items[13].(*rbacv1.RoleBinding)
	wantRB := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}
	if diff := cmp.Diff(wantRB, rb.RoleRef); diff != "" {
		t.Errorf("RoleBinding roleRef mismatch (-want +got):\n%s", diff)
	}
	q := list.Items[11].(*corev1.ResourceQuota)
	if got, want := q.Spec.Hard[corev1.ResourceName("count/deployments.apps")], resource.MustParse("2"); got.Cmp(want) != 0 {
		t.Errorf("search quota count/deployments.apps = %s, want 2", got.String())
	}
	cm := list.Items[14].(*corev1.ConfigMap)
	var spec Tenant
	if err := yaml.UnmarshalStrict([]byte(cm.Data[SpecKey]), &spec); err != nil {
		t.Fatalf("ConfigMap spec does not decode: %v", err)
	}
	if spec.Name != "search" || len(spec.Limits) != 1 || spec.AdminRole != "edit" {
		t.Errorf("ConfigMap spec = %+v, want the search tenant with the default limits", spec)
	}
}

func FuzzReadTenants(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: kauth.io/v1alpha1\nkind: Tenants\ntenants: [{name: a, namespaces: [a], quota: {hard: {cpu: 1}}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tn, err := ReadTenants("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if _, err := Generate(tn); err != nil {
			t.Fatalf("Generate after a successful read: %v", err)
		}
	})
}

// TestDocsExample keeps the full example in docs/quota.md valid.
func TestDocsExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "quota.md"))
	if err != nil {
		t.Skipf("docs/quota.md not found: %v", err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("docs/quota.md has no yaml block")
	}
	example, _, _ := strings.Cut(rest, "```")
	tn, err := ReadTenants("docs/quota.md", []byte(example))
	if err != nil {
		t.Fatalf("the example in docs/quota.md does not read: %v", err)
	}
	list, err := Generate(tn)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list.Items), 15; got != want {
		t.Errorf("the example generates %d objects, want %d", got, want)
	}
}

// TestReadTenantsAcceptsValidQuotaAndLimits: what kube-apiserver accepts
// stays accepted by the validation generate restates.
func TestReadTenantsAcceptsValidQuotaAndLimits(t *testing.T) {
	t.Parallel()
	data := `apiVersion: kauth.io/v1alpha1
kind: Tenants
tenants:
- name: a
  namespaces: [x]
  quota:
    hard:
      requests.cpu: 1500m
      limits.memory: 2Gi
      pods: "10"
      services.loadbalancers: "0"
      hugepages-2Mi: 1Gi
      requests.hugepages-2Mi: 1Gi
      count/deployments.apps: "5"
      gold.storageclass.storage.k8s.io/requests.storage: 10Gi
      requests.nvidia.com/gpu: "2"
  limits:
  - type: Container
    min: {cpu: 100m}
    max: {cpu: "2", nvidia.com/gpu: "1"}
    default: {cpu: 500m}
    defaultRequest: {cpu: 200m}
    maxLimitRequestRatio: {cpu: "20"}
  - type: Pod
    max: {memory: 4Gi}
  - type: PersistentVolumeClaim
    max: {storage: 10Gi}
`
	if _, err := ReadTenants("t.yaml", []byte(data)); err != nil {
		t.Fatal(err)
	}
}
