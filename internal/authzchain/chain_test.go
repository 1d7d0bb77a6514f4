package authzchain

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// sarBackend is an authorization webhook on loopback: alice is allowed,
// mallory explicitly denied, anyone else gets no opinion.
type sarBackend struct {
	srv    *httptest.Server
	calls  atomic.Int64
	broken atomic.Bool
	last   atomic.Value // authorizationv1.SubjectAccessReview
}

func newSARBackend(t *testing.T) *sarBackend {
	t.Helper()
	b := &sarBackend{}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		if b.broken.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var sar authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.last.Store(sar)
		switch sar.Spec.User {
		case "alice":
			sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "alice may"}
		case "mallory":
			sar.Status = authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "mallory may not"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sar)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *sarBackend) kubeconfig(t *testing.T) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["authz"] = &clientcmdapi.Cluster{Server: b.srv.URL, CertificateAuthorityData: pemCert(b.srv.Certificate())}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["authz"] = &clientcmdapi.Context{Cluster: "authz", AuthInfo: "apiserver"}
	cfg.CurrentContext = "authz"
	p := filepath.Join(t.TempDir(), "authz.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// testRBAC lets bob read pods in team-a.
func testRBAC(t *testing.T) *rbac.Index {
	t.Helper()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "team-a"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob", Namespace: "team-a"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}}}
	p, _, err := rbac.FromObjects([]loader.Object{{Object: role}, {Object: rb}})
	if err != nil {
		t.Fatal(err)
	}
	return rbac.NewIndex(p)
}

const authzConfigTmpl = `apiVersion: apiserver.config.k8s.io/v1
kind: AuthorizationConfiguration
authorizers:
- type: Webhook
  name: team-a-webhook
  webhook:
    timeout: 3s
    subjectAccessReviewVersion: v1
    matchConditionSubjectAccessReviewVersion: v1
    failurePolicy: FAILURE
    authorizedTTL: 5m
    unauthorizedTTL: 30s
    connectionInfo:
      type: KubeConfigFile
      kubeConfigFile: KUBECONFIG
    matchConditions:
    - expression: has(request.resourceAttributes) && request.resourceAttributes.namespace == 'team-a'
- type: RBAC
  name: rbac
- type: AlwaysDeny
  name: deny-rest
`

func TestChainFromAuthorizationConfiguration(t *testing.T) {
	t.Parallel()
	for _, failure := range []string{"Deny", "NoOpinion"} {
		t.Run(failure, func(t *testing.T) {
			t.Parallel()
			b := newSARBackend(t)
			data := strings.NewReplacer("KUBECONFIG", b.kubeconfig(t), "FAILURE", failure).Replace(authzConfigTmpl)
			cfg, err := ParseAuthorizationConfiguration("authz.yaml", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2}
			ch, err := NewChain(cfg, Options{RBAC: testRBAC(t), RetryBackoff: &backoff})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"team-a-webhook", "rbac", "deny-rest"}, ch.Names); diff != "" {
				t.Errorf("Names mismatch (-want +got):\n%s", diff)
			}
			pods := func(name, ns string, groups ...string) authorizer.AttributesRecord {
				return authorizer.AttributesRecord{User: &user.DefaultInfo{Name: name, Groups: groups}, Verb: "get", Resource: "pods", Namespace: ns, ResourceRequest: true}
			}
			tests := []struct {
				name  string
				a     authorizer.AttributesRecord
				want  authorizer.Decision
				calls int64
			}{
				{"privileged group first", pods("root", "team-a", user.SystemPrivilegedGroup), authorizer.DecisionAllow, 0},
				{"webhook allows alice", pods("alice", "team-a"), authorizer.DecisionAllow, 1},
				{"alice again from the cache", pods("alice", "team-a"), authorizer.DecisionAllow, 1},
				{"webhook denies mallory despite later authorizers", pods("mallory", "team-a"), authorizer.DecisionDeny, 2},
				{"no opinion falls through to RBAC", pods("bob", "team-a"), authorizer.DecisionAllow, 3},
				{"match condition skips the webhook; AlwaysDeny has no opinion", pods("alice", "team-b"), authorizer.DecisionNoOpinion, 3},
			}
			for _, tc := range tests {
				d, _, _ := ch.Authorize(context.Background(), tc.a)
				if d != tc.want || b.calls.Load() != tc.calls {
					t.Errorf("%s: decision %v after %d calls, want %v after %d", tc.name, d, b.calls.Load(), tc.want, tc.calls)
				}
			}
			if sar, ok := b.last.Load().(authorizationv1.SubjectAccessReview); !ok || sar.Spec.ResourceAttributes == nil || sar.Spec.ResourceAttributes.Namespace != "team-a" {
				t.Errorf("last review = %+v", b.last.Load())
			}

			// A failing backend: the failure policy decides.
			b.broken.Store(true)
			d, _, _ := ch.Authorize(context.Background(), pods("bob", "team-a", "new-group"))
			want := authorizer.DecisionDeny
			if failure == "NoOpinion" {
				want = authorizer.DecisionAllow // RBAC lets bob read pods
			}
			if d != want {
				t.Errorf("broken backend with failurePolicy %s: decision %v, want %v", failure, d, want)
			}
		})
	}
}

func TestFromModes(t *testing.T) {
	t.Parallel()
	kc := filepath.Join(t.TempDir(), "w.kubeconfig")
	if err := os.WriteFile(kc, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := FromModes([]string{"RBAC", "Webhook"}, WebhookFlags{ConfigFile: kc, AuthorizedTTL: DefaultAuthorizedTTL})
	if err != nil {
		t.Fatal(err)
	}
	w := c.Authorizers[1].Webhook
	got := []any{c.Authorizers[0].Name, c.Authorizers[1].Name, string(w.FailurePolicy), w.Timeout.Duration, w.CacheAuthorizedRequests, w.CacheUnauthorizedRequests, w.SubjectAccessReviewVersion}
	want := []any{"rbac", "default", "NoOpinion", 30 * time.Second, true, false, "v1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromModes() mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{{"RBAC", "RBAC"}, {"Webhook"}, {"Bogus"}} {
		if _, err := FromModes(bad, WebhookFlags{}); err == nil {
			t.Errorf("FromModes(%v): want error", bad)
		}
	}
}

func TestParseAuthorizationConfigurationErrors(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		"",
		"apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers: []\n",
		"apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n- type: Node\n  name: node\n",
		"apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n- type: RBAC\n  name: rbac\n  unknown: 1\n",
	} {
		if _, err := ParseAuthorizationConfiguration("a.yaml", []byte(data)); err == nil {
			t.Errorf("ParseAuthorizationConfiguration(%q): want error", data)
		}
	}
}
