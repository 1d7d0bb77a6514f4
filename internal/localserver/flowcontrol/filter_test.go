package flowcontrol

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/utils/ptr"
)

// testConfig: alice's flow goes to "tight" (rejects when full), bob's to
// "roomy", carol's to "queued" (one queue of length one).
func testConfig() ([]*flowcontrolv1.FlowSchema, []*flowcontrolv1.PriorityLevelConfiguration) {
	pl := func(name string, shares int32, queuing *flowcontrolv1.QueuingConfiguration) *flowcontrolv1.PriorityLevelConfiguration {
		lr := flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}
		if queuing != nil {
			lr = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: queuing}
		}
		return &flowcontrolv1.PriorityLevelConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("pl-" + name)},
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
				Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To(shares), LimitResponse: lr}},
		}
	}
	fs := func(name, userName, level string, precedence int32) *flowcontrolv1.FlowSchema {
		return &flowcontrolv1.FlowSchema{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("fs-" + name)},
			Spec: flowcontrolv1.FlowSchemaSpec{
				PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: level},
				MatchingPrecedence:         precedence,
				DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
				Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
					Subjects:         []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: userName}}},
					ResourceRules:    []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, Namespaces: []string{"*"}, ClusterScope: true}},
					NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
				}},
			},
		}
	}
	return []*flowcontrolv1.FlowSchema{fs("flow-a", "alice", "tight", 100), fs("flow-b", "bob", "roomy", 200), fs("flow-c", "carol", "queued", 300)},
		[]*flowcontrolv1.PriorityLevelConfiguration{
			pl("tight", 1, nil),
			pl("roomy", 10, &flowcontrolv1.QueuingConfiguration{Queues: 4, HandSize: 2, QueueLengthLimit: 2}),
			pl("queued", 1, &flowcontrolv1.QueuingConfiguration{Queues: 1, HandSize: 1, QueueLengthLimit: 1}),
		}
}

// gate is a handler that blocks every request until its user's channel
// releases it and says when each one has entered.
type gate struct {
	entered chan string
	release map[string]chan struct{}
}

func newGate() *gate {
	g := &gate{entered: make(chan string, 64), release: map[string]chan struct{}{}}
	for _, u := range []string{"alice", "bob", "carol", "admin"} {
		g.release[u] = make(chan struct{})
	}
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, _ := request.UserFrom(r.Context())
	g.entered <- u.GetName()
	<-g.release[u.GetName()]
	w.WriteHeader(http.StatusOK)
}

// releaseAll lets every held and future request through.
func (g *gate) releaseAll() {
	for _, ch := range g.release {
		close(ch)
	}
}

func newTestController(t *testing.T) *Controller {
	t.Helper()
	c, err := New(Options{ServerConcurrencyLimit: 20, RequestWaitLimit: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	fss, pls := testConfig()
	if err := c.SetConfig(fss, pls); err != nil {
		t.Fatal(err)
	}
	return c
}

// do sends a GET of /api/v1/namespaces/default/pods as u through h.
func do(h http.Handler, u user.Info) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods", nil)
	ctx := request.WithUser(r.Context(), u)
	ctx = request.WithRequestInfo(ctx, &request.RequestInfo{IsResourceRequest: true, Path: r.URL.Path, Verb: "list", APIVersion: "v1", Namespace: "default", Resource: "pods"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

func limitOf(c *Controller, name string) int {
	l := c.levels[name]
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.qs.ConcurrencyLimit()
}

var (
	alice = &user.DefaultInfo{Name: "alice", Groups: []string{user.AllAuthenticated}}
	bob   = &user.DefaultInfo{Name: "bob", Groups: []string{user.AllAuthenticated}}
	carol = &user.DefaultInfo{Name: "carol", Groups: []string{user.AllAuthenticated}}
	admin = &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}}
)

func TestBurstFromOneFlowIsRejectedWhileAnotherFlowProceeds(t *testing.T) {
	t.Parallel()
	c := newTestController(t)
	g := newGate()
	h := c.WithPriorityAndFairness(g)

	limit := limitOf(c, "tight")
	var wg sync.WaitGroup
	codes := make(chan int, limit)
	for range limit {
		wg.Add(1)
		go func() { defer wg.Done(); codes <- do(h, alice).Code }()
		<-g.entered
	}
	// alice's level is full: the burst is refused at once.
	for range 3 {
		w := do(h, alice)
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("alice's extra request: status %d, want 429", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
		if got := w.Header().Get("X-Kubernetes-PF-FlowSchema-UID"); got != "fs-flow-a" {
			t.Errorf("X-Kubernetes-PF-FlowSchema-UID = %q, want fs-flow-a", got)
		}
		if got := w.Body.String(); got != "Too many requests, please try again later.\n" {
			t.Errorf("body = %q", got)
		}
	}
	// bob's and the admin's requests still go through.
	for _, u := range []user.Info{bob, admin} {
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- do(h, u) }()
		if got := <-g.entered; got != u.GetName() {
			t.Fatalf("entered %s, want %s", got, u.GetName())
		}
		g.release[u.GetName()] <- struct{}{}
		w := <-done
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", u.GetName(), w.Code)
		}
		wantPL := map[string]string{"bob": "pl-roomy", "admin": ""}[u.GetName()]
		if got := w.Header().Get("X-Kubernetes-PF-PriorityLevel-UID"); got != wantPL {
			t.Errorf("%s: X-Kubernetes-PF-PriorityLevel-UID = %q, want %q", u.GetName(), got, wantPL)
		}
	}
	g.releaseAll()
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a held request of alice ended with %d, want 200", code)
		}
	}
	if w := do(h, alice); w.Code != http.StatusOK {
		t.Errorf("alice after the release: status %d, want 200", w.Code)
	}
	l := c.levels["tight"]
	if l.rejected != 3 || l.dispatched != limit+1 {
		t.Errorf("tight counted %d rejected and %d dispatched, want 3 and %d", l.rejected, l.dispatched, limit+1)
	}
}

func TestQueuedRequestRunsWhenASeatFrees(t *testing.T) {
	t.Parallel()
	c := newTestController(t)
	g := newGate()
	h := c.WithPriorityAndFairness(g)
	limit := limitOf(c, "queued")
	results := make(chan int, limit+1)
	for range limit {
		go func() { results <- do(h, carol).Code }()
		<-g.entered
	}
	lv := c.levels["queued"]
	enqueued := make(chan struct{})
	lv.mu.Lock()
	lv.onEnqueue = func() { close(enqueued) }
	lv.mu.Unlock()
	go func() { results <- do(h, carol).Code }()
	<-enqueued
	// The one queue is at its length limit: the next is rejected.
	if w := do(h, carol); w.Code != http.StatusTooManyRequests {
		t.Fatalf("request beyond the queue: status %d, want 429", w.Code)
	}
	dump := squash(dumpString(c, PathDumpPriorityLevels))
	want := "queued, 1, false, false, 1, " + itoa(limit) + ", " + itoa(limit) + ", 1, 0, 0\n"
	if !contains(dump, want) {
		t.Errorf("dump_priority_levels lacks %q:\n%s", want, dump)
	}
	g.release["carol"] <- struct{}{}
	if got := <-g.entered; got != "carol" {
		t.Fatalf("entered %s, want the queued carol", got)
	}
	g.releaseAll()
	for range limit + 1 {
		if code := <-results; code != http.StatusOK {
			t.Errorf("status %d, want 200", code)
		}
	}
}

func TestDumps(t *testing.T) {
	t.Parallel()
	c := newTestController(t)
	g := newGate()
	h := c.WithPriorityAndFairness(g)
	done := make(chan struct{})
	go func() { do(h, bob); close(done) }()
	<-g.entered

	levels := dumpString(c, PathDumpPriorityLevels)
	wantLevels := `PriorityLevelName, ActiveQueues, IsIdle, IsQuiescing, WaitingRequests, ExecutingRequests, DispatchedRequests, RejectedRequests, TimedoutRequests, CancelledRequests
catch-all,         0,            true,   false,       0,               0,                 0,                  0,                0,                0
exempt,            0,            true,   false,       0,               0,                 0,                  0,                0,                0
queued,            0,            true,   false,       0,               0,                 0,                  0,                0,                0
roomy,             0,            false,  false,       0,               1,                 1,                  0,                0,                0
tight,             0,            true,   false,       0,               0,                 0,                  0,                0,                0
`
	if diff := cmp.Diff(wantLevels, levels); diff != "" {
		t.Errorf("dump_priority_levels (-want +got):\n%s", diff)
	}
	queues := squash(dumpString(c, PathDumpQueues))
	if !contains(queues, "PriorityLevelName, Index, PendingRequests, ExecutingRequests, SeatsInUse, NextDispatchR, InitialSeatsSum, MaxSeatsSum, TotalWorkSum\n") ||
		!contains(queues, "roomy, 0, 0, 1, 1, 0.00300000ss, 0, 0, 0.00000000ss\n") {
		t.Errorf("dump_queues header:\n%s", queues)
	}
	if n := countLines(queues, "roomy,"); n != 4 {
		t.Errorf("dump_queues has %d rows for roomy, want its 4 queues:\n%s", n, queues)
	}
	reqs := squash(dumpString(c, PathDumpRequests+"?includeRequestDetails=1"))
	if !contains(reqs, "PriorityLevelName, FlowSchemaName, QueueIndex, RequestIndexInQueue, FlowDistingsher, ArriveTime,") ||
		!contains(reqs, "UserName, Verb, APIPath,") || !contains(reqs, ", 1, 0, 0s, ") ||
		!contains(reqs, "roomy, flow-b, 0, -1, bob, ") || !contains(reqs, "bob, list, /api/v1/namespaces/default/pods, default, , v1, pods, \n") {
		t.Errorf("dump_requests:\n%s", reqs)
	}
	g.releaseAll()
	<-done
}
