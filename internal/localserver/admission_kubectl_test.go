package localserver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// usersFile is a token file with three ordinary users.
const usersFile = "alice-token,alice,1\nbob-token,bob,2\nnina-token,nina,3\n"

func applyYAML(t *testing.T, kubeconfig, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "obj.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustKubectl(t, kubeconfig, "apply", "-f", path)
}

func kubectlErr(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want an error\nstdout: %s", strings.Join(args, " "), out)
	}
	return strings.TrimSpace(errOut)
}

func TestKubectlQuotaAndLimits(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, nil)
	admin := s.KubeconfigPath()
	mustKubectl(t, admin, "create", "namespace", "team")
	applyYAML(t, admin, `apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team}
spec:
  hard: {pods: "1", requests.cpu: "1", count/configmaps: "2"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: team}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 256Mi}
    defaultRequest: {cpu: 200m, memory: 128Mi}
    max: {cpu: "1"}
`)
	mustKubectl(t, admin, "-n", "team", "run", "a", "--image=nginx")
	got := mustKubectl(t, admin, "-n", "team", "get", "pod", "a", "-o", "jsonpath={.spec.containers[0].resources}")
	want := `{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"200m","memory":"128Mi"}}`
	if got != want {
		t.Errorf("pod a's resources = %s, want the LimitRange defaults %s", got, want)
	}
	if sa := mustKubectl(t, admin, "-n", "team", "get", "pod", "a", "-o", "jsonpath={.spec.serviceAccountName}"); sa != "default" {
		t.Errorf("serviceAccountName = %q, want default", sa)
	}
	msg := kubectlErr(t, admin, "-n", "team", "run", "b", "--image=nginx")
	if want := `Error from server (Forbidden): pods "b" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1`; msg != want {
		t.Errorf("second pod:\n got %s\nwant %s", msg, want)
	}
	msg = kubectlErr(t, admin, "-n", "team", "run", "big", "--image=nginx", "--overrides", `{"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}`)
	if want := `Error from server (Forbidden): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`; msg != want {
		t.Errorf("pod over the LimitRange max:\n got %s\nwant %s", msg, want)
	}
	// The quota controller keeps status.used current.
	mustKubectl(t, admin, "-n", "team", "create", "configmap", "one")
	mustKubectl(t, admin, "-n", "team", "wait", "--timeout=30s", "--for=jsonpath={.status.used.count/configmaps}=2", "resourcequota/compute")
	msg = kubectlErr(t, admin, "-n", "team", "create", "configmap", "two")
	if want := `error: failed to create configmap: configmaps "two" is forbidden: exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2`; msg != want {
		t.Errorf("configmap over the count:\n got %s\nwant %s", msg, want)
	}
}

func TestKubectlNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, nil)
	admin := s.KubeconfigPath()
	msg := kubectlErr(t, admin, "-n", "nowhere", "create", "configmap", "c")
	if want := `error: failed to create configmap: namespaces "nowhere" not found`; msg != want {
		t.Errorf("object in a missing namespace:\n got %s\nwant %s", msg, want)
	}
	for _, ns := range []string{"default", "kube-system", "kube-public"} {
		msg := kubectlErr(t, admin, "delete", "namespace", ns)
		if want := fmt.Sprintf(`Error from server (Forbidden): namespaces %q is forbidden: this namespace may not be deleted`, ns); msg != want {
			t.Errorf("delete %s:\n got %s\nwant %s", ns, msg, want)
		}
	}
}

func TestKubectlNamespaceCreatorFlow(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, func(c *Config) {
		c.TokenAuthFile = writeFile(t, "tokens.csv", usersFile)
		c.EnableAdmissionPlugins = []string{"NamespaceCreator"}
	})
	admin := s.KubeconfigPath()
	nina := userKubeconfig(t, s, "nina-token", nil, nil)
	mustKubectl(t, admin, "wait", "--timeout=30s", "--for=create", "clusterrole/namespace-creator")
	mustKubectl(t, admin, "create", "clusterrolebinding", "nina-creates", "--clusterrole=namespace-creator", "--user=nina")

	mustKubectl(t, nina, "create", "namespace", "nina-dev")
	if got := mustKubectl(t, admin, "get", "namespace", "nina-dev", "-o", `jsonpath={.metadata.annotations.kauth\.io/created-by}`); got != "nina" {
		t.Errorf("created-by annotation = %q, want nina", got)
	}
	mustKubectl(t, admin, "-n", "nina-dev", "wait", "--timeout=30s", "--for=create", "rolebinding/kauth:namespace-creator")
	mustKubectl(t, nina, "-n", "nina-dev", "create", "configmap", "mine")
	mustKubectl(t, nina, "-n", "nina-dev", "create", "rolebinding", "helper", "--clusterrole=view", "--user=bob")
	msg := kubectlErr(t, nina, "-n", "default", "create", "configmap", "theirs")
	if want := `error: failed to create configmap: configmaps is forbidden: User "nina" cannot create resource "configmaps" in API group "" in the namespace "default"`; msg != want {
		t.Errorf("outside her namespace:\n got %s\nwant %s", msg, want)
	}
	msg = kubectlErr(t, nina, "get", "namespace", "default")
	if want := `Error from server (Forbidden): namespaces "default" is forbidden: User "nina" cannot get resource "namespaces" in API group "" in the namespace "default"`; msg != want {
		t.Errorf("another namespace:\n got %s\nwant %s", msg, want)
	}
}

// hookServer is an admission webhook on loopback: /mutate labels
// ConfigMaps, /deny refuses the one named "reserved", /hold blocks until
// released (entered says a request arrived).
type hookServer struct {
	*httptest.Server
	entered chan string
	release chan struct{}
}

func newHookServer(t *testing.T) *hookServer {
	t.Helper()
	h := &hookServer{entered: make(chan string, 64), release: make(chan struct{})}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		switch r.URL.Path {
		case "/mutate":
			pt := admissionv1.PatchTypeJSONPatch
			resp.Patch, resp.PatchType = []byte(`[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]`), &pt
		case "/deny":
			if review.Request.Name == "reserved" {
				resp.Allowed, resp.Result = false, &metav1.Status{Message: "the name reserved is kept for the platform team"}
			}
		case "/hold":
			h.entered <- review.Request.Name
			<-h.release
		}
		review.Response, review.Request = resp, nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) caBundle() string {
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.Certificate().Raw}))
}

// webhookYAML is a webhook configuration of kind for ConfigMap creates
// in the namespaces labelled hooks=name.
func webhookYAML(kind, name, url, ca string) string {
	return fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: %s
metadata: {name: %s}
webhooks:
- name: %s.kauth.test
  clientConfig: {url: "%s", caBundle: %s}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
  namespaceSelector: {matchLabels: {hooks: %s}}
  sideEffects: None
  admissionReviewVersions: [v1]
  timeoutSeconds: 30
`, kind, name, name, url, ca, name)
}

// waitForWebhookConfigs returns when the server's informers hold the
// named webhook configurations.
func waitForWebhookConfigs(t *testing.T, s *Server, names ...string) {
	t.Helper()
	seen := make(chan string, 16)
	note := cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) { seen <- obj.(metav1.Object).GetName() }}
	ar := s.adm.informers.Admissionregistration().V1()
	_, _ = ar.MutatingWebhookConfigurations().Informer().AddEventHandler(note)
	_, _ = ar.ValidatingWebhookConfigurations().Informer().AddEventHandler(note)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for len(want) > 0 {
		delete(want, <-seen)
	}
}

func TestKubectlAdmissionWebhooks(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, nil)
	admin := s.KubeconfigPath()
	hooks := newHookServer(t)
	mustKubectl(t, admin, "create", "namespace", "hooked")
	mustKubectl(t, admin, "label", "namespace", "hooked", "hooks=label", "--overwrite")
	mustKubectl(t, admin, "create", "namespace", "guarded")
	mustKubectl(t, admin, "label", "namespace", "guarded", "hooks=deny")
	applyYAML(t, admin, webhookYAML("MutatingWebhookConfiguration", "label", hooks.URL+"/mutate", hooks.caBundle())+"---\n"+
		webhookYAML("ValidatingWebhookConfiguration", "deny", hooks.URL+"/deny", hooks.caBundle()))
	waitForWebhookConfigs(t, s, "label", "deny")

	mustKubectl(t, admin, "-n", "hooked", "create", "configmap", "settings")
	if got := mustKubectl(t, admin, "-n", "hooked", "get", "configmap", "settings", "-o", "jsonpath={.metadata.labels.mutated}"); got != "yes" {
		t.Errorf("label from the mutating webhook = %q, want yes", got)
	}
	msg := kubectlErr(t, admin, "-n", "guarded", "create", "configmap", "reserved")
	if want := `error: failed to create configmap: admission webhook "deny.kauth.test" denied the request: the name reserved is kept for the platform team`; msg != want {
		t.Errorf("denied configmap:\n got %s\nwant %s", msg, want)
	}
	mustKubectl(t, admin, "-n", "guarded", "create", "configmap", "allowed")
}

// TestAPFBurstIsRejectedWhileAnotherFlowProceeds holds alice's requests in
// a webhook until her priority level is full: the next ones get 429 while
// bob's requests (another flow and level) still succeed.
func TestAPFBurstIsRejectedWhileAnotherFlowProceeds(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, func(c *Config) {
		c.TokenAuthFile = writeFile(t, "tokens.csv", usersFile)
		c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight = 4, 2
	})
	admin := s.KubeconfigPath()
	bob := userKubeconfig(t, s, "bob-token", nil, nil)
	hooks := newHookServer(t)
	mustKubectl(t, admin, "create", "namespace", "held")
	mustKubectl(t, admin, "label", "namespace", "held", "hooks=hold")
	mustKubectl(t, admin, "-n", "held", "create", "rolebinding", "edit", "--clusterrole=edit", "--user=alice", "--user=bob")
	applyYAML(t, admin, webhookYAML("ValidatingWebhookConfiguration", "hold", hooks.URL+"/hold", hooks.caBundle())+`---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: tight}
spec:
  type: Limited
  limited: {nominalConcurrencyShares: 1, limitResponse: {type: Reject}}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: alice}
spec:
  priorityLevelConfiguration: {name: tight}
  matchingPrecedence: 100
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [{kind: User, user: {name: alice}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"]}]
`)
	waitForWebhookConfigs(t, s, "hold")
	fsUID := mustKubectl(t, admin, "get", "flowschema", "alice", "-o", "jsonpath={.metadata.uid}")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	create := func(name string) *http.Response {
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q}}`, name)
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v1/namespaces/held/configmaps", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer alice-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	// The classifier follows the stored schemas once the watch applies them.
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("alice's requests never matched FlowSchema alice")
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/namespaces/held/configmaps", nil)
		req.Header.Set("Authorization", "Bearer alice-token")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID") == fsUID {
			break
		}
	}
	// Fill alice's level: each create either waits in the webhook (holding
	// a seat) or, once the level is full, is refused with 429.
	held := make(chan int, 16)
	heldN := 0
	var rejected *http.Response
	for i := 0; rejected == nil; i++ {
		if i == 10 {
			t.Fatal("no 429 after 10 held requests")
		}
		name := fmt.Sprintf("burst-%d", i)
		done := make(chan *http.Response, 1)
		go func() { done <- create(name) }()
		select {
		case <-hooks.entered:
			heldN++
			go func() {
				code := 0
				if r := <-done; r != nil {
					code = r.StatusCode
				}
				held <- code
			}()
		case r := <-done:
			rejected = r
		}
	}
	if rejected.StatusCode != http.StatusTooManyRequests || rejected.Header.Get("Retry-After") == "" {
		t.Fatalf("burst answer: %d, Retry-After %q; want 429 with Retry-After", rejected.StatusCode, rejected.Header.Get("Retry-After"))
	}
	// bob's requests still go through while alice's level is full.
	mustKubectl(t, bob, "-n", "held", "get", "configmaps")
	dump := squashDump(mustKubectl(t, admin, "get", "--raw", "/debug/api_priority_and_fairness/dump_priority_levels"))
	if !strings.HasPrefix(dump, "PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests, DispatchedRequests, RejectedRequests, TimedoutRequests, CancelledRequests\n") ||
		!strings.Contains(dump, "\ntight, 0, false, false, 0, ") {
		t.Errorf("dump_priority_levels:\n%s", dump)
	}
	reqs := squashDump(mustKubectl(t, admin, "get", "--raw", "/debug/api_priority_and_fairness/dump_requests?includeRequestDetails=1"))
	if !strings.Contains(reqs, "tight, alice, -1, -1, , ") || !strings.Contains(reqs, "alice, create, /api/v1/namespaces/held/configmaps, held, , v1, configmaps, ") {
		t.Errorf("dump_requests:\n%s", reqs)
	}
	queues := mustKubectl(t, admin, "get", "--raw", "/debug/api_priority_and_fairness/dump_queues")
	if !strings.HasPrefix(squashDump(queues), "PriorityLevelName, Index, PendingRequests, ExecutingRequests, SeatsInUse, NextDispatchR, InitialSeatsSum, MaxSeatsSum, TotalWorkSum\n") {
		t.Errorf("dump_queues:\n%s", queues)
	}
	close(hooks.release)
	for range heldN {
		if code := <-held; code != http.StatusCreated {
			t.Errorf("a held request of alice ended with %d, want 201", code)
		}
	}
}

// squashDump removes the tab writer's padding after each comma.
func squashDump(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		parts := strings.Split(line, ",")
		for i := range parts {
			if i > 0 {
				parts[i] = " " + strings.TrimLeft(parts[i], " \t")
			}
		}
		b.WriteString(strings.Join(parts, ","))
	}
	return b.String()
}
