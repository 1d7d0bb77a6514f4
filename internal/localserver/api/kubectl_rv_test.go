package api

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// newKubectlEnvOn is newKubectlEnv over a given store, so a test can write
// to the store directly.
func newKubectlEnvOn(t *testing.T, store storage.Interface) *kubectlEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("kubectl integration tests are skipped in -short mode")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	a, err := New(store, Hooks{Authorizer: newTestAuthorizer()})
	if err != nil {
		t.Fatal(err)
	}
	return serveKubectlEnv(t, a, "default")
}

// TestKubectlRawResourceVersion: kubectl get --raw with
// resourceVersionMatch=Exact reads the state at that version, and after a
// burst of configmap writes still does for roles while configmaps answer
// 410 Expired, as kube-apiserver does.
func TestKubectlRawResourceVersion(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	e := newKubectlEnvOn(t, store)
	e.run("", "create", "configmap", "a")
	rv := strings.TrimSpace(e.run("", "get", "configmap", "a", "-o", "jsonpath={.metadata.resourceVersion}"))
	e.run("", "create", "configmap", "b")
	e.run("", "create", "role", "r", "--verb=get", "--resource=pods")
	const cms, roles = "/api/v1/namespaces/default/configmaps", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
	exact := "?resourceVersionMatch=Exact&resourceVersion=" + rv

	out := e.run("", "get", "--raw", cms+exact)
	e.contains(out, `"resourceVersion":"`+rv+`"`, `"name":"a"`)
	if strings.Contains(out, `"name":"b"`) {
		t.Errorf("exact list at %s shows b, created after it:\n%s", rv, out)
	}
	_, errOut, err := e.try("", "get", "--raw", cms+"?resourceVersionMatch=Exact")
	if err == nil || !strings.Contains(errOut, "resourceVersionMatch is forbidden unless resourceVersion is provided") {
		t.Errorf("exact without a version: %v\n%s", err, errOut)
	}

	burst(t, store, "default", 5000)
	out = e.run("", "get", "--raw", roles+exact)
	e.contains(out, `"resourceVersion":"`+rv+`"`, `"items":[]`)
	_, errOut, err = e.try("", "get", "--raw", cms+exact)
	if err == nil || !strings.Contains(errOut, "The resourceVersion for the provided list is too old.") {
		t.Errorf("exact configmaps list from before the burst: %v\n%s", err, errOut)
	}
	var role rbacv1.Role
	if err := e.client.RbacV1().RESTClient().Get().Namespace("default").Resource("roles").Name("r").
		Param("resourceVersion", rv).Do(context.Background()).Into(&role); err != nil || role.Name != "r" {
		t.Errorf("get role not older than %s: %v", rv, err)
	}
}
