package quota

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/clitest"
	"github.com/kauth/kauth/internal/output"
)

const testTenants = `apiVersion: kauth.io/v1alpha1
kind: Tenants
tenants:
- name: payments
  namespaces: [payments]
  admins: {groups: [payments-admins]}
  quota:
    hard: {requests.cpu: "2", pods: "10"}
`

func testFactory() (*cli.Factory, *strings.Builder, *strings.Builder) {
	s, _, _, _ := output.Test()
	var o, e strings.Builder
	s.Out, s.ErrOut = &o, &e
	return &cli.Factory{IO: s, Output: "table", Clock: time.Now, Getenv: func(string) string { return "" }}, &o, &e
}

func TestNewGenerateCmd(t *testing.T) {
	t.Parallel()
	type view struct {
		File   string
		Apply  bool
		Format output.Format
	}
	tests := []struct {
		name    string
		argv    []string
		want    view
		wantErr string
	}{
		{"yaml by default", []string{"-f", "t.yaml"}, view{"t.yaml", false, output.YAML}, ""},
		{"json", []string{"-f", "t.yaml", "-o", "json"}, view{"t.yaml", false, output.JSON}, ""},
		{"apply prints a table", []string{"-f", "t.yaml", "--apply"}, view{"t.yaml", true, output.Table}, ""},
		{"apply as yaml", []string{"-f", "t.yaml", "--apply", "-o", "yaml"}, view{"t.yaml", true, output.YAML}, ""},
		{"no table without apply", []string{"-f", "t.yaml", "-o", "table"}, view{}, `--output "table": must be one of yaml, json`},
		{"no file", nil, view{}, "-f/--filename is required: the tenants file to generate from"},
		{"arguments", []string{"-f", "t.yaml", "extra"}, view{}, `unknown command "extra" for "kauth generate"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := testFactory()
			var got view
			cmd := newGenerateCmd(f, func(o *generateOptions) error {
				got = view{o.File, o.Apply, o.Format}
				return nil
			})
			// -o is the root's persistent flag.
			root := &cobra.Command{Use: "kauth"}
			root.PersistentFlags().StringVarP(&f.Output, "output", "o", "table", "")
			root.AddCommand(cmd)
			err := clitest.Execute(root, append([]string{"generate"}, tc.argv...)...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v (exit %d), want %q (exit 2)", err, cli.ExitCode(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRunGenerateApply applies to client-go's fake clientset: first
// everything is created, then nothing changes, then a changed quota is
// updated in place and labels added by others survive.
func TestRunGenerateApply(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	f, out, _ := testFactory()
	opts := &generateOptions{
		IO: f.IO, KubeClient: func() (kubernetes.Interface, error) { return client, nil },
		File: clitest.WriteFile(t, "tenants.yaml", testTenants), Apply: true, Format: output.Table,
	}
	run := func() string {
		out.Reset()
		if err := runGenerate(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	want := `KIND            NAMESPACE   NAME           ACTION
ConfigMap       payments    kauth-tenant   created
Namespace                   payments       created
ResourceQuota   payments    kauth-tenant   created
RoleBinding     payments    kauth-tenant   created
`
	if diff := cmp.Diff(want, run()); diff != "" {
		t.Errorf("first apply mismatch (-want +got):\n%s", diff)
	}
	if got := run(); strings.Count(got, "unchanged") != 4 {
		t.Errorf("second apply = %q, want 4 unchanged objects", got)
	}
	ctx := context.Background()
	ns, err := client.CoreV1().Namespaces().Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Labels["team"] = "p"
	if _, err := client.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	opts.File = clitest.WriteFile(t, "tenants.yaml", strings.Replace(testTenants, `pods: "10"`, `pods: "20"`, 1))
	got := run()
	if !strings.Contains(got, "ResourceQuota   payments    kauth-tenant   updated") || !strings.Contains(got, "ConfigMap       payments    kauth-tenant   updated") {
		t.Errorf("third apply = %q, want the quota and the spec updated", got)
	}
	q, err := client.CoreV1().ResourceQuotas("payments").Get(ctx, "kauth-tenant", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pods := q.Spec.Hard[corev1.ResourcePods]; pods.Cmp(resource.MustParse("20")) != 0 {
		t.Errorf("quota pods = %s, want 20", pods.String())
	}
	ns, err = client.CoreV1().Namespaces().Get(ctx, "payments", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["team"] != "p" || ns.Labels["kauth.io/tenant"] != "payments" {
		t.Errorf("namespace labels = %v, want team=p kept and kauth.io/tenant=payments", ns.Labels)
	}
}

func TestRunUsageLive(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(&corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute", Namespace: "team"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("10")}},
		Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("10")},
			Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5")},
		},
	})
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		{"pipe", false, "NAMESPACE   QUOTA     RESOURCE   USED   HARD   USAGE\nteam        compute   pods       5      10     50%\n"},
		{"terminal draws a bar", true, "NAMESPACE   QUOTA     RESOURCE   USED   HARD   USAGE\nteam        compute   pods       5      10     ██████████░░░░░░░░░░ 50%\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, out, _ := testFactory()
			f.IO.OutTTY = tc.tty
			opts := &usageOptions{IO: f.IO, KubeClient: func() (kubernetes.Interface, error) { return client, nil }, Live: true, Format: output.Table}
			if err := runUsage(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("usage mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunLintLive(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: "team"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "small"}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: "small"}},
		&corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "tiny", Namespace: "small"},
			Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}},
		},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "small"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}},
			}}}}},
		},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "big-1", Namespace: "small", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "big-1", UID: "u", Controller: ptrTrue(),
		}}}},
	)
	f, out, _ := testFactory()
	opts := &lintOptions{IO: f.IO, KubeClient: func() (kubernetes.Interface, error) { return client, nil }, Live: true, Format: output.Table, Namespace: "default"}
	err := runLint(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitResult {
		t.Fatalf("runLint() = %v, want findings (exit 1)", err)
	}
	want := "SEVERITY   RULE                                 NAMESPACE   OBJECT               SOURCE   MESSAGE\n" +
		"error      pod-exceeds-quota                    small       Deployment/big       live     one pod of Deployment big alone needs requests.cpu=2, more than ResourceQuota tiny allows (requests.cpu=1)\n" +
		"warning    quota-requires-container-resources   small       ResourceQuota/tiny   live     ResourceQuota tiny tracks requests.cpu but no LimitRange sets a default: every container must set it or its pod is rejected (must specify ...)\n" +
		"warning    namespace-without-quota              team        Namespace/team       live     namespace team has no ResourceQuota: its workloads can use the whole cluster\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("lint mismatch (-want +got):\n%s", diff)
	}
}

func ptrTrue() *bool { b := true; return &b }

func TestCheckAndLintOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cmd     func(*cli.Factory) *cobra.Command
		argv    []string
		wantErr string
	}{
		{"check needs -f", func(f *cli.Factory) *cobra.Command { return newCheckCmd(f, func(*checkOptions) error { return nil }) }, nil, "-f/--filename is required: the manifests to check"},
		{"check nodes", func(f *cli.Factory) *cobra.Command { return newCheckCmd(f, func(*checkOptions) error { return nil }) }, []string{"-f", "x", "--nodes", "0"}, "--nodes 0: must be at least 1"},
		{"check ok", func(f *cli.Factory) *cobra.Command { return newCheckCmd(f, func(*checkOptions) error { return nil }) }, []string{"-f", "x", "--quota", "q"}, ""},
		{"usage live and files", func(f *cli.Factory) *cobra.Command { return newUsageCmd(f, func(*usageOptions) error { return nil }) }, []string{"--live", "--quota", "q"}, "--live reads the cluster: it cannot be combined with -f or --quota"},
		{"lint both", func(f *cli.Factory) *cobra.Command { return newLintCmd(f, func(*lintOptions) error { return nil }) }, []string{"--live", "-f", "x"}, "give either -f MANIFESTS or --live"},
		{"lint live", func(f *cli.Factory) *cobra.Command { return newLintCmd(f, func(*lintOptions) error { return nil }) }, []string{"--live"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := testFactory()
			err := clitest.Execute(tc.cmd(f), tc.argv...)
			got := ""
			if err != nil {
				got = err.Error()
				if cli.ExitCode(err) != cli.ExitUsage {
					t.Errorf("exit code = %d, want 2", cli.ExitCode(err))
				}
			}
			if got != tc.wantErr {
				t.Errorf("error = %q, want %q", got, tc.wantErr)
			}
		})
	}
}
