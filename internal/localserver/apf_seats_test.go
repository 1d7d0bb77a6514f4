package localserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// TestAPFLargeListOccupiesSeveralSeats stores 2000 configmaps of 16 kB,
// refreshes APF's object counts, and has bob (global-default, at most 8
// seats a request at the default 600 seats) list them all. His client
// reads the response headers and nothing more, so the 32 MB answer
// keeps the LIST executing while dump_requests shows it with 8 initial
// seats (2000 × 16 kB / 100 kB, capped at the level's maximum) and
// dump_queues with 8 seats in use.
func TestAPFLargeListOccupiesSeveralSeats(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.TokenAuthFile = writeFile(t, "tokens.csv", usersFile) })
	ctx := context.Background()
	store := s.Store()
	// Random data, so that no compression can make the answer small.
	rnd := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 12<<10)
	for i := range 2000 {
		for j := range raw {
			raw[j] = byte(rnd.Uint32())
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("big-%04d", i)},
			Data: map[string]string{"v": base64.StdEncoding.EncodeToString(raw)}}
		if _, err := store.Create(ctx, corev1.SchemeGroupVersion.WithResource("configmaps"), cm); err != nil {
			t.Fatal(err)
		}
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob-view"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: "bob"}}}
	if _, err := store.Create(ctx, rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings"), crb); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitForRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.adm.apf.RefreshObjectCounts(ctx); err != nil {
		t.Fatal(err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	bob := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableCompression: true}}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/namespaces/default/configmaps", nil)
	req.Header.Set("Authorization", "Bearer bob-token")
	resp, err := bob.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bob's LIST: status %d", resp.StatusCode)
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dump := func(path string) string {
		t.Helper()
		r, err := admin.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return dumpPadding.ReplaceAllString(string(b), ", ")
	}
	reqs := dump("/debug/api_priority_and_fairness/dump_requests")
	row := ""
	for _, l := range strings.Split(reqs, "\n") {
		if strings.HasPrefix(l, "global-default, global-default, ") && strings.Contains(l, ", bob, ") {
			row = l
		}
	}
	if !strings.Contains(row, ", -1, bob, ") || !strings.Contains(row, ", 8, 0, 0s, ") {
		t.Errorf("dump_requests has no executing LIST of bob with 8 initial seats:\n%s", reqs)
	}
	queues := dump("/debug/api_priority_and_fairness/dump_queues")
	found := false
	for _, l := range strings.Split(queues, "\n") {
		if f := strings.Split(l, ", "); len(f) > 4 && f[0] == "global-default" && f[3] == "1" && f[4] == "8" {
			found = true
		}
	}
	if !found {
		t.Errorf("dump_queues has no global-default queue executing one request on 8 seats:\n%s", queues)
	}
	metrics := dump("/metrics")
	if !strings.Contains(metrics, `apiserver_flowcontrol_current_limit_seats{priority_level="global-default"} `) {
		t.Errorf("/metrics lacks global-default's current limit:\n%s", metrics)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
}

// dumpPadding is the debug tables' padding after a comma.
var dumpPadding = regexp.MustCompile(`,[ \t]+`)

// TestAPFStoreObjectStats counts what the store holds per resource, with the
// average size of the objects as protobuf.
func TestAPFStoreObjectStats(t *testing.T) {
	t.Parallel()
	store := storage.NewMemory()
	ctx := context.Background()
	for i := range 3 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns-%d", i), Name: "cm"},
			Data: map[string]string{"v": strings.Repeat("x", 1000*(i+1))}}
		if _, err := store.Create(ctx, corev1.SchemeGroupVersion.WithResource("configmaps"), cm); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := newStoreObjectStats(store).ObjectStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cm := stats["configmaps"]
	// 1000, 2000 and 3000 bytes of data, plus metadata and the envelope.
	if cm.ObjectCount != 3 || cm.EstimatedAverageObjectSizeBytes < 2000 || cm.EstimatedAverageObjectSizeBytes > 2300 {
		t.Errorf("configmaps: %+v, want 3 objects of about 2000 bytes", cm)
	}
	if s, ok := stats["roles.rbac.authorization.k8s.io"]; !ok || s.ObjectCount != 0 {
		t.Errorf("roles: %+v (present %v), want 0 objects", s, ok)
	}
	if _, ok := stats["subjectaccessreviews.authorization.k8s.io"]; ok {
		t.Error("the review APIs store nothing and have no count")
	}
}
