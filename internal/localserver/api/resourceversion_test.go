package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// newRVTestServer is newTestServer over a store built with opts.
func newRVTestServer(t *testing.T, opts ...storage.Option) *testServer {
	t.Helper()
	return newTestServerOn(t, storage.NewMemory(opts...), Hooks{})
}

// answer is what a GET or LIST answered, reduced to what the tests pin.
type answer struct {
	Code       int
	RetryAfter string
	RV         string
	Items      []string
	Continue   bool
	Status     *metav1.Status
}

func (ts *testServer) read(t *testing.T, path string) answer {
	t.Helper()
	resp, err := ts.srv.Client().Get(ts.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{Code: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var doc struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
		Items    []struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	switch {
	case doc.Kind == "Status":
		a.Status = &metav1.Status{}
		_ = json.Unmarshal(body, a.Status)
	case doc.Items != nil || doc.Kind == "ConfigMapList":
		var lm struct {
			Metadata metav1.ListMeta `json:"metadata"`
		}
		_ = json.Unmarshal(body, &lm)
		a.RV, a.Continue = lm.Metadata.ResourceVersion, lm.Metadata.Continue != ""
		a.Items = []string{}
		for _, it := range doc.Items {
			a.Items = append(a.Items, it.Metadata.Name)
		}
	default:
		a.RV, a.Items = doc.Metadata.ResourceVersion, []string{doc.Metadata.Name}
	}
	return a
}

func status(code int32, reason metav1.StatusReason, msg string) *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg}
}

// tooLarge is kube-apiserver's answer when a read needs a resourceVersion
// its watch cache has not reached within three seconds.
func tooLarge(rv, current uint64) *metav1.Status {
	st := status(504, metav1.StatusReasonTimeout, fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", rv, current))
	st.Details = &metav1.StatusDetails{
		Causes:            []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}},
		RetryAfterSeconds: 1,
	}
	return st
}

func invalidListOptions(msg string) *metav1.Status {
	return status(422, metav1.StatusReasonInvalid, `ListOptions.meta.k8s.io "" is invalid: `+msg)
}

// TestReadResourceVersions pins GET and LIST against the resourceVersion
// rules of https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
// with kube-apiserver v1.37's statuses.
func TestReadResourceVersions(t *testing.T) {
	t.Parallel()
	ts := newRVTestServer(t, storage.WithFreshTimeout(0))
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	a, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	first, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	cur := ts.store.ResourceVersion()
	rvA, future := a.ResourceVersion, strconv.FormatUint(cur+100, 10)
	now := strconv.FormatUint(cur, 10)
	const obj, list = "/api/v1/namespaces/default/configmaps/a", "/api/v1/namespaces/default/configmaps"
	cont := url.QueryEscape(first.Continue)
	invalidRV := `resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax`
	tests := []struct {
		name string
		path string
		want answer
	}{
		{"get latest", obj, answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"get any", obj + "?resourceVersion=0", answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"get not older than now", obj + "?resourceVersion=" + now, answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"get not older than an old version", obj + "?resourceVersion=1", answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"get newer than the store", obj + "?resourceVersion=" + future, answer{Code: 504, RetryAfter: "1", Status: tooLarge(cur+100, cur)}},
		// kube-apiserver hands the versioner's error through unconverted.
		{"get bad version", obj + "?resourceVersion=x1", answer{Code: 500, Status: status(500, "", invalidRV)}},
		{"get missing at a version", list + "/zz?resourceVersion=" + now, answer{Code: 404,
			Status: &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Code: 404, Reason: metav1.StatusReasonNotFound,
				Message: `configmaps "zz" not found`, Details: &metav1.StatusDetails{Name: "zz", Kind: "configmaps"}}}},

		{"list latest", list, answer{Code: 200, RV: now, Items: []string{"a", "b"}}},
		{"list latest with limit", list + "?limit=1", answer{Code: 200, RV: now, Items: []string{"a"}, Continue: true}},
		{"list any ignores limit", list + "?resourceVersion=0&limit=1", answer{Code: 200, RV: now, Items: []string{"a", "b"}}},
		{"list not older than", list + "?resourceVersion=" + rvA, answer{Code: 200, RV: now, Items: []string{"a", "b"}}},
		{"list NotOlderThan", list + "?resourceVersionMatch=NotOlderThan&resourceVersion=" + rvA, answer{Code: 200, RV: now, Items: []string{"a", "b"}}},
		{"list NotOlderThan 0", list + "?resourceVersionMatch=NotOlderThan&resourceVersion=0", answer{Code: 200, RV: now, Items: []string{"a", "b"}}},
		{"list Exact", list + "?resourceVersionMatch=Exact&resourceVersion=" + rvA, answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"list legacy exact: a version with a limit", list + "?limit=5&resourceVersion=" + rvA, answer{Code: 200, RV: rvA, Items: []string{"a"}}},
		{"list newer than the store", list + "?resourceVersion=" + future, answer{Code: 504, RetryAfter: "1", Status: tooLarge(cur+100, cur)}},
		{"list NotOlderThan newer than the store", list + "?resourceVersionMatch=NotOlderThan&resourceVersion=" + future, answer{Code: 504, RetryAfter: "1", Status: tooLarge(cur+100, cur)}},
		{"list Exact newer than the store", list + "?resourceVersionMatch=Exact&resourceVersion=" + future, answer{Code: 504, RetryAfter: "1", Status: tooLarge(cur+100, cur)}},
		{"list bad version", list + "?resourceVersion=x1", answer{Code: 400, Status: status(400, metav1.StatusReasonBadRequest, "invalid resource version: "+invalidRV)}},
		{"list continue", list + "?limit=1&continue=" + cont, answer{Code: 200, RV: first.ResourceVersion, Items: []string{"b"}}},
		{"list continue with version 0", list + "?limit=1&resourceVersion=0&continue=" + cont, answer{Code: 200, RV: first.ResourceVersion, Items: []string{"b"}}},
		{"list continue with a version", list + "?limit=1&resourceVersion=" + rvA + "&continue=" + cont, answer{Code: 400,
			Status: status(400, metav1.StatusReasonBadRequest, "specifying resource version is not allowed when using continue")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, ts.read(t, tc.path)); diff != "" {
				t.Fatalf("GET %s (-want +got):\n%s", tc.path, diff)
			}
		})
	}

	invalid := []struct {
		name, query, msg string
	}{
		{"Exact without a version", "resourceVersionMatch=Exact", "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"},
		{"Exact at 0", "resourceVersionMatch=Exact&resourceVersion=0", `resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"`},
		{"unknown match", "resourceVersionMatch=Newest&resourceVersion=1", `resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""`},
		{"match with continue", "resourceVersionMatch=NotOlderThan&resourceVersion=1&continue=" + cont, "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"},
		{"sendInitialEvents on a list", "sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"},
		{"watch match without sendInitialEvents", "watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1",
			"resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"},
		{"watch sendInitialEvents without NotOlderThan", "watch=true&sendInitialEvents=true&resourceVersion=1",
			"resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ts.read(t, list+"?"+tc.query)
			if got.Status != nil {
				got.Status.Details = nil
			}
			if diff := cmp.Diff(answer{Code: 422, Status: invalidListOptions(tc.msg)}, got); diff != "" {
				t.Fatalf("GET %s (-want +got):\n%s", tc.query, diff)
			}
		})
	}
}

// A read that asks for a version the store reaches while it waits is
// answered, as the watch cache answers once it has caught up.
func TestReadWaitsForResourceVersion(t *testing.T) {
	t.Parallel()
	ts := newRVTestServer(t, storage.WithFreshTimeout(time.Minute))
	next := strconv.FormatUint(ts.store.ResourceVersion()+1, 10)
	paths := []string{
		"/api/v1/namespaces/default/configmaps/late?resourceVersion=" + next,
		"/api/v1/namespaces/default/configmaps?resourceVersion=" + next,
		"/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact&resourceVersion=" + next,
	}
	answers := make(chan answer, len(paths))
	for _, p := range paths {
		go func() { answers <- ts.read(t, p) }()
	}
	if _, err := ts.client.CoreV1().ConfigMaps("default").Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range paths {
		if got := <-answers; got.Code != 200 || got.RV != next || len(got.Items) != 1 || got.Items[0] != "late" {
			t.Errorf("read at a version reached while waiting: %+v", got)
		}
	}
}

// watchEvents opens a raw watch and returns its decoder.
func (ts *testServer) watchEvents(t *testing.T, path string) (int, *json.Decoder) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.srv.URL+path, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := ts.srv.Client().Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp.StatusCode, json.NewDecoder(resp.Body)
}

type rawEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func nextStatusEvent(t *testing.T, dec *json.Decoder) *metav1.Status {
	t.Helper()
	var ev rawEvent
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	st := &metav1.Status{}
	if err := json.Unmarshal(ev.Object, st); err != nil || ev.Type != "ERROR" {
		t.Fatalf("event %s %s, want ERROR", ev.Type, ev.Object)
	}
	return st
}

func TestWatchResourceVersions(t *testing.T) {
	t.Parallel()
	ts := newRVTestServer(t, storage.WithFreshTimeout(0))
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	cur := ts.store.ResourceVersion()

	t.Run("bad version", func(t *testing.T) {
		got := ts.read(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=x1")
		want := answer{Code: 500, Status: status(500, "", `resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax`)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("watch-list newer than the store", func(t *testing.T) {
		code, dec := ts.watchEvents(t, fmt.Sprintf("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=%d", cur+50))
		st := nextStatusEvent(t, dec)
		st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
		if diff := cmp.Diff(tooLarge(cur+50, cur), st); code != 200 || diff != "" {
			t.Fatalf("code %d, error event (-want +got):\n%s", code, diff)
		}
	})
	t.Run("from a future version", func(t *testing.T) {
		// kube-apiserver's watch cache accepts it and sends what follows.
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatUint(cur+2, 10)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		for _, n := range []string{"f1", "f2", "f3"} {
			if _, err := ts.store.Create(ctx, corev1.SchemeGroupVersion.WithResource("configmaps"),
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: n}}); err != nil {
				t.Fatal(err)
			}
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		ev := <-w.ResultChan()
		if cm, ok := ev.Object.(*corev1.ConfigMap); !ok || ev.Type != watch.Added || cm.Name != "f2" || cm.ResourceVersion != strconv.FormatUint(cur+4, 10) {
			t.Fatalf("first event %v %+v, want ADDED f2 at rv %d", ev.Type, ev.Object, cur+4)
		}
	})
}

// TestBurstOnOneResourceKeepsOthersWatchable: a burst of configmap writes
// larger than any history does not expire a roles watch, exact list or
// client-go RetryWatcher resuming from before it, while configmaps answer
// 410 as kube-apiserver does once its watch cache has moved on.
func TestBurstOnOneResourceKeepsOthersWatchable(t *testing.T) {
	t.Parallel()
	ts := newRVTestServer(t)
	ctx := context.Background()
	roles := ts.client.RbacV1().Roles("default")
	r1, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := r1.ResourceVersion
	cms := ts.client.CoreV1().ConfigMaps("default")
	for _, n := range []string{"a", "b"} {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}

	// A client-go RetryWatcher on roles, whose first connection we end
	// after the burst so that it resumes from the last version it saw.
	lw := &resumableWatcher{client: ts.client}
	rw, err := newRetryWatcher(before, lw)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Stop()

	burst(t, ts.store, "burst", 5000)
	lw.endFirst()

	if got := ts.read(t, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles?resourceVersionMatch=Exact&resourceVersion="+before); got.Code != 200 || got.RV != before {
		t.Fatalf("exact roles list from before the burst: %+v", got)
	}
	want := answer{Code: 410, Status: status(410, metav1.StatusReasonExpired, "The resourceVersion for the provided list is too old.")}
	if diff := cmp.Diff(want, ts.read(t, "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact&resourceVersion="+before)); diff != "" {
		t.Fatalf("exact configmaps list from before the burst (-want +got):\n%s", diff)
	}
	got := ts.read(t, "/api/v1/namespaces/default/configmaps?limit=1&continue="+url.QueryEscape(page.Continue))
	if got.Code != 410 || got.Status == nil || got.Status.Reason != metav1.StatusReasonExpired || got.Status.Continue == "" {
		t.Fatalf("continue from before the burst: %+v, want 410 with a continue token", got)
	}
	// That token goes on at the latest version.
	if rest := ts.read(t, "/api/v1/namespaces/default/configmaps?limit=1&continue="+url.QueryEscape(got.Status.Continue)); rest.Code != 200 || !cmp.Equal(rest.Items, []string{"b"}) {
		t.Fatalf("continue with the token of the 410: %+v", rest)
	}

	code, dec := ts.watchEvents(t, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="+before)
	if st := nextStatusEvent(t, dec); code != 200 || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Fatalf("configmaps watch from before the burst: %d %+v", code, st)
	}

	if _, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := roles.Watch(ctx, metav1.ListOptions{ResourceVersion: before})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := <-w.ResultChan(); ev.Type != watch.Added || ev.Object.(*rbacv1.Role).Name != "r2" {
		t.Fatalf("roles watch from before the burst: %v %+v", ev.Type, ev.Object)
	}
	for ev := range rw.ResultChan() {
		if ev.Type == watch.Error {
			t.Fatalf("RetryWatcher failed to resume: %+v", ev.Object)
		}
		if r, ok := ev.Object.(*rbacv1.Role); ok && r.Name == "r2" {
			if lw.calls() < 2 {
				t.Fatalf("the RetryWatcher never reconnected")
			}
			return
		}
	}
	t.Fatal("RetryWatcher ended")
}

func burst(t *testing.T, s storage.Interface, ns string, n int) {
	t.Helper()
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	for i := range n {
		if _, err := s.Create(context.Background(), gvr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c" + strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// resumableWatcher watches roles in default for a client-go RetryWatcher;
// endFirst ends the first connection from the client side, which makes
// the RetryWatcher reconnect from the last version it saw.
type resumableWatcher struct {
	client  kubernetes.Interface
	mu      sync.Mutex
	n       int
	cancel  context.CancelFunc
	started chan struct{}
}

func (r *resumableWatcher) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	r.mu.Lock()
	r.n++
	first := r.n == 1
	if first {
		ctx, r.cancel = context.WithCancel(ctx)
	}
	r.mu.Unlock()
	w, err := r.client.RbacV1().Roles("default").Watch(ctx, opts)
	if first {
		close(r.started)
	}
	return w, err
}

func (r *resumableWatcher) endFirst() {
	<-r.started
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancel()
}

func (r *resumableWatcher) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func newRetryWatcher(rv string, lw *resumableWatcher) (*watchtools.RetryWatcher, error) {
	lw.started = make(chan struct{})
	return watchtools.NewRetryWatcherWithContext(context.Background(), rv, lw)
}
