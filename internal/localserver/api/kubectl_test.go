package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// kubectlEnv is a TLS server with the API behind the test chain and a
// kubeconfig for the real kubectl on PATH.
type kubectlEnv struct {
	t          *testing.T
	kubeconfig string
	cacheDir   string
	client     kubernetes.Interface
}

func newKubectlEnv(t *testing.T) *kubectlEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("kubectl integration tests are skipped in -short mode")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	a, err := New(storage.NewMemory(), Hooks{
		Authorizer: newTestAuthorizer(),
		IssueToken: func(_ context.Context, sa *corev1.ServiceAccount, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
			req.Status.Token = "token-for-" + sa.Namespace + "-" + sa.Name
			return req, nil
		},
		SignCSR: func(context.Context, *certificatesv1.CertificateSigningRequest) ([]byte, error) {
			return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("signed")}), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return serveKubectlEnv(t, a, "default", "kube-system")
}

// serveKubectlEnv serves a over TLS for kubectl, with a kubeconfig and a
// client-go client, and creates the namespaces.
func serveKubectlEnv(t *testing.T, a *API, namespaces ...string) *kubectlEnv {
	t.Helper()
	srv := httptest.NewTLSServer(testChain(a.Handler()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kauth"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "unused-by-the-test-chain"}
	cfg.Contexts["kauth"] = &clientcmdapi.Context{Cluster: "kauth", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "kauth"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range namespaces {
		if _, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return &kubectlEnv{t: t, kubeconfig: path, cacheDir: filepath.Join(dir, "cache"), client: client}
}

func (e *kubectlEnv) cmd(args ...string) *exec.Cmd {
	c := exec.Command("kubectl", append([]string{"--kubeconfig", e.kubeconfig, "--cache-dir", e.cacheDir}, args...)...)
	c.Env = append(os.Environ(), "HOME="+filepath.Dir(e.kubeconfig), "KUBECTL_EXTERNAL_DIFF=", "NO_COLOR=1")
	return c
}

// run runs kubectl and fails the test unless it succeeds.
func (e *kubectlEnv) run(stdin string, args ...string) string {
	e.t.Helper()
	out, errOut, err := e.try(stdin, args...)
	if err != nil {
		e.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (e *kubectlEnv) try(stdin string, args ...string) (string, string, error) {
	c := e.cmd(args...)
	var out, errOut bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &out, &errOut
	err := c.Run()
	return out.String(), errOut.String(), err
}

func (e *kubectlEnv) contains(out string, wants ...string) {
	e.t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			e.t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// testAuthorizer allows system:masters everything and alice to get pods
// in default.
type testAuthorizer struct{ authorizer.AuthorizerFunc }

func newTestAuthorizer() testAuthorizer {
	return testAuthorizer{authorizer.AuthorizerFunc(testAuthorize)}
}

func testAuthorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	for _, g := range a.GetUser().GetGroups() {
		if g == "system:masters" {
			return authorizer.DecisionAllow, "", nil
		}
	}
	if a.GetUser().GetName() == "alice" && a.GetVerb() == "get" && a.GetResource() == "pods" && a.GetNamespace() == "default" {
		return authorizer.DecisionAllow, "alice reads pods", nil
	}
	return authorizer.DecisionNoOpinion, "", nil
}

func (testAuthorizer) RulesFor(_ context.Context, _ user.Info, _ string) ([]authorizer.ResourceRuleInfo, []authorizer.NonResourceRuleInfo, bool, error) {
	return []authorizer.ResourceRuleInfo{&authorizer.DefaultResourceRuleInfo{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}},
		[]authorizer.NonResourceRuleInfo{&authorizer.DefaultNonResourceRuleInfo{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}}, false, nil
}

func TestKubectlDiscoveryAndExplain(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	e.contains(e.run("", "version"), "Server Version: v1.37.2+kauth")
	e.contains(e.run("", "api-versions"), "v1\n", "rbac.authorization.k8s.io/v1\n", "flowcontrol.apiserver.k8s.io/v1\n", "certificates.k8s.io/v1\n")
	res := e.run("", "api-resources")
	e.contains(res, "NAME", "APIVERSION", "roles ", "rbac.authorization.k8s.io/v1", "ServiceAccount", "csr ", "tokenreviews", "prioritylevelconfigurations")
	e.contains(e.run("", "api-resources", "--namespaced=false", "-o", "name"), "namespaces\n", "clusterroles.rbac.authorization.k8s.io\n")
	e.contains(e.run("", "explain", "role.rules"), "KIND:       Role", "FIELD: rules <[]PolicyRule>", "verbs\t<[]string> -required-")
	e.contains(e.run("", "explain", "pods.spec.containers.image"), "FIELD: image <string>")
	e.contains(e.run("", "explain", "clusterrolebinding", "--recursive"), "roleRef\t<RoleRef> -required-")
}

func TestKubectlCRUD(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	e.contains(e.run("", "create", "namespace", "team"), "namespace/team created")
	e.contains(e.run("", "-n", "team", "create", "role", "reader", "--verb=get,list", "--resource=pods,configmaps"), "role.rbac.authorization.k8s.io/reader created")
	e.contains(e.run("", "-n", "team", "create", "rolebinding", "rb", "--role=reader", "--user=alice", "--group=devs", "--serviceaccount=team:bot"), "rolebinding.rbac.authorization.k8s.io/rb created")
	e.contains(e.run("", "create", "clusterrole", "cr", "--verb=get", "--non-resource-url=/healthz"), "clusterrole.rbac.authorization.k8s.io/cr created")
	e.contains(e.run("", "create", "clusterrolebinding", "crb", "--clusterrole=cr", "--group=system:authenticated"), "clusterrolebinding.rbac.authorization.k8s.io/crb created")
	e.contains(e.run("", "-n", "team", "create", "configmap", "cm", "--from-literal=a=1", "--from-literal=b=2"), "configmap/cm created")
	e.contains(e.run("", "-n", "team", "create", "secret", "generic", "s", "--from-literal=k=v"), "secret/s created")
	e.contains(e.run("", "-n", "team", "create", "serviceaccount", "bot"), "serviceaccount/bot created")

	e.contains(e.run("", "-n", "team", "get", "rolebindings", "-o", "wide"), "NAME", "ROLE", "USERS", "GROUPS", "SERVICEACCOUNTS", "rb", "Role/reader", "alice", "devs", "team/bot")
	e.contains(e.run("", "-n", "team", "get", "roles"), "NAME", "CREATED AT", "reader")
	e.contains(e.run("", "-n", "team", "get", "configmaps"), "NAME", "DATA", "cm", "2")
	e.contains(e.run("", "-n", "team", "get", "secrets"), "TYPE", "Opaque")
	e.contains(e.run("", "get", "namespaces"), "team", "Active")
	e.contains(e.run("", "get", "clusterrolebinding", "crb", "-o", "jsonpath={.roleRef.name}"), "cr")

	e.contains(e.run("", "-n", "team", "label", "role", "reader", "tier=a"), "role.rbac.authorization.k8s.io/reader labeled")
	e.contains(e.run("", "-n", "team", "annotate", "role", "reader", "note=hi"), "role.rbac.authorization.k8s.io/reader annotated")
	e.contains(e.run("", "-n", "team", "get", "roles", "-l", "tier=a", "-o", "name"), "role.rbac.authorization.k8s.io/reader")
	e.contains(e.run("", "-n", "team", "patch", "configmap", "cm", "-p", `{"data":{"c":"3"}}`), "configmap/cm patched")
	e.contains(e.run("", "-n", "team", "patch", "configmap", "cm", "--type=merge", "-p", `{"data":{"a":null}}`), "configmap/cm patched")
	e.contains(e.run("", "-n", "team", "patch", "role", "reader", "--type=json", "-p", `[{"op":"add","path":"/rules/0/verbs/-","value":"watch"}]`), "role.rbac.authorization.k8s.io/reader patched")
	e.contains(e.run("", "-n", "team", "get", "configmap", "cm", "-o", "jsonpath={.data}"), `"b":"2"`, `"c":"3"`)
	if out, errOut, err := e.try("", "-n", "team", "patch", "role", "reader", "--type=merge", "-p", `{"rules":[{"verbs":[]}]}`); err == nil {
		t.Fatalf("invalid patch accepted: %s", out)
	} else {
		e.contains(errOut, `The Role "reader" is invalid`, "rules[0].verbs: Required value")
	}
	e.contains(e.run("", "-n", "team", "delete", "role", "reader"), `role.rbac.authorization.k8s.io "reader" deleted`)
	e.contains(e.run("", "delete", "namespace", "team"), `namespace "team" deleted`)
	_, errOut, err := e.try("", "get", "namespace", "team")
	if err == nil {
		t.Fatal("namespace still there after delete")
	}
	e.contains(errOut, `Error from server (NotFound): namespaces "team" not found`)
}

const applyManifest = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: applied
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  mode: "a"
`

func TestKubectlApply(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	e.contains(e.run(applyManifest, "apply", "-f", "-"), "clusterrole.rbac.authorization.k8s.io/applied created", "configmap/settings created")
	changed := strings.Replace(applyManifest, `mode: "a"`, `mode: "b"`, 1)
	e.contains(e.run(changed, "apply", "-f", "-"), "clusterrole.rbac.authorization.k8s.io/applied unchanged", "configmap/settings configured")
	e.contains(e.run("", "get", "configmap", "settings", "-o", "jsonpath={.data.mode}"), "b")
	ssa := strings.Replace(applyManifest, `verbs: ["get"]`, `verbs: ["get", "list"]`, 1)
	e.contains(e.run(ssa, "apply", "--server-side", "--force-conflicts", "-f", "-"), "clusterrole.rbac.authorization.k8s.io/applied serverside-applied")
	e.contains(e.run("", "get", "clusterrole", "applied", "-o", "jsonpath={.rules[0].verbs}"), `["get","list"]`)
	e.contains(e.run("", "get", "clusterrole", "applied", "--show-managed-fields", "-o", "yaml"), "manager: kubectl\n", "operation: Apply")
	bad := strings.Replace(applyManifest, "rules:", "bogus: 1\nrules:", 1)
	_, errOut, err := e.try(bad, "apply", "-f", "-")
	if err == nil {
		t.Fatal("apply with an unknown field succeeded")
	}
	e.contains(errOut, `unknown field "bogus"`)
	e.contains(e.run(applyManifest, "delete", "-f", "-"), `clusterrole.rbac.authorization.k8s.io "applied" deleted`, `configmap "settings" deleted`)
}

func TestKubectlAuthAndSubresources(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	e.contains(e.run("", "auth", "whoami"), "admin", "system:masters")
	e.contains(e.run("", "auth", "can-i", "delete", "nodes"), "yes")
	e.contains(e.run("", "auth", "can-i", "get", "pods", "--as", "alice"), "yes")
	out, _, err := e.try("", "auth", "can-i", "get", "secrets", "--as", "alice")
	if err == nil || !strings.Contains(out, "no") {
		t.Fatalf("can-i for a denied request: %v %q", err, out)
	}
	e.contains(e.run("", "auth", "can-i", "delete", "nodes", "--as", "bob", "--as-group", "system:masters"), "yes")
	e.contains(e.run("", "auth", "can-i", "--list"), "Resources", "*.*")
	e.run("", "create", "serviceaccount", "bot")
	e.contains(e.run("", "create", "token", "bot"), "token-for-default-bot")
	e.contains(e.run(csrManifest(t), "create", "-f", "-"), "certificatesigningrequest.certificates.k8s.io/alice created")
	e.contains(e.run("", "get", "csr"), "alice", "kubernetes.io/kube-apiserver-client", "Pending")
	e.contains(e.run("", "certificate", "approve", "alice"), "certificatesigningrequest.certificates.k8s.io/alice approved")
	e.contains(e.run("", "get", "csr", "alice"), "Approved,Issued")
}

func TestKubectlWatch(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	ctx := context.Background()
	if _, err := e.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "first"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := e.cmd("get", "configmaps", "-w", "--no-headers")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	lines := bufio.NewScanner(stdout)
	waitFor := func(name string) {
		t.Helper()
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), name+" ") {
				return
			}
		}
		t.Fatalf("watch ended before %s appeared", name)
	}
	waitFor("first")
	if _, err := e.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "second"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("second")
}

func csrManifest(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"devs"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: alice
spec:
  request: ` + req + `
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages: ["client auth"]
`
}

func TestKubectlEditReconcileAndTables(t *testing.T) {
	t.Parallel()
	e := newKubectlEnv(t)
	e.run("", "create", "role", "r", "--verb=get", "--resource=pods")
	// kubectl edit, non-interactively: the "editor" rewrites the file.
	edit := e.cmd("edit", "role", "r")
	edit.Env = append(edit.Env, "KUBE_EDITOR=sed -i s/-\\ get/-\\ list/")
	if out, err := edit.CombinedOutput(); err != nil || !strings.Contains(string(out), "role.rbac.authorization.k8s.io/r edited") {
		t.Fatalf("kubectl edit: %v\n%s", err, out)
	}
	e.contains(e.run("", "get", "role", "r", "-o", "jsonpath={.rules[0].verbs}"), `["list"]`)
	e.contains(e.run(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reconciled
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
`, "auth", "reconcile", "-f", "-"), "clusterrole.rbac.authorization.k8s.io/reconciled reconciled")
	e.run("", "run", "web", "--image=nginx:1.27", "--labels=app=web")
	e.contains(e.run("", "get", "pods", "-o", "wide", "--show-labels"), "NAME", "READY", "STATUS", "NOMINATED NODE", "web", "0/1", "Pending", "app=web")
	e.contains(e.run("", "get", "all"), "web ", "Pending")
	e.contains(e.run("", "get", "pod", "web", "-o", "jsonpath={.spec.containers[0].imagePullPolicy}"), "IfNotPresent")
	e.run(`apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: tenants
spec:
  type: Limited
  limited:
    limitResponse:
      type: Queue
      queuing: {}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: tenants
spec:
  priorityLevelConfiguration:
    name: tenants
  distinguisherMethod:
    type: ByUser
  rules:
  - subjects:
    - kind: Group
      group: {name: tenants}
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      namespaces: ["*"]
`, "create", "-f", "-")
	e.contains(e.run("", "get", "prioritylevelconfigurations"), "NOMINALCONCURRENCYSHARES", "tenants", "Limited", "30", "64", "8", "50")
	e.contains(e.run("", "get", "flowschemas"), "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "tenants", "1000", "ByUser")
	e.contains(e.run("", "describe", "clusterrole", "reconciled"), "PolicyRule:", "configmaps")
	e.contains(e.run("", "delete", "pods", "--all"), `pod "web" deleted`)
	e.contains(e.run("", "get", "--raw", "/api/v1/namespaces/default/pods"), `"kind":"PodList"`)
	_, errOut, err := e.try("", "get", "widgets")
	if err == nil {
		t.Fatal("kubectl get widgets succeeded")
	}
	e.contains(errOut, `the server doesn't have a resource type "widgets"`)
}
