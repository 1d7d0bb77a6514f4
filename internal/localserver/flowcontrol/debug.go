package flowcontrol

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Debug paths, as kube-apiserver serves them.
const (
	PathDumpPriorityLevels = "/debug/api_priority_and_fairness/dump_priority_levels"
	PathDumpQueues         = "/debug/api_priority_and_fairness/dump_queues"
	PathDumpRequests       = "/debug/api_priority_and_fairness/dump_requests"
)

// DebugHandler serves the three dump endpoints and, at [PathMetrics],
// the gauges of the levels' limits; other paths get 404.
func (c *Controller) DebugHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch r.URL.Path {
		case PathDumpPriorityLevels:
			c.dumpPriorityLevels(w)
		case PathDumpQueues:
			c.dumpQueues(w)
		case PathDumpRequests:
			c.dumpRequests(w, r.URL.Query().Get("includeRequestDetails") != "")
		case PathMetrics:
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			c.writeMetrics(w)
		default:
			http.NotFound(w, r)
		}
	})
}

// row joins columns as kube-apiserver's debug tables do.
func row(cols ...string) string { return strings.Join(cols, ",\t") }

func newTab(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 8, 0, 1, ' ', 0) }

func (c *Controller) dumpPriorityLevels(w io.Writer) {
	tw := newTab(w)
	fmt.Fprint(tw, row("PriorityLevelName", "ActiveQueues", "IsIdle", "IsQuiescing", "WaitingRequests", "ExecutingRequests", "DispatchedRequests", "RejectedRequests", "TimedoutRequests", "CancelledRequests"), "\n")
	for _, l := range c.sortedLevels() {
		l.mu.Lock()
		active := 0
		for _, q := range l.qs.QueueStates() {
			if q.Waiting > 0 {
				active++
			}
		}
		idle := l.qs.Waiting() == 0 && l.executing() == 0
		fmt.Fprint(tw, row(l.cfg.Name, strconv.Itoa(active), strconv.FormatBool(idle), "false",
			strconv.Itoa(l.qs.Waiting()), strconv.Itoa(l.executing()), strconv.Itoa(l.dispatched),
			strconv.Itoa(l.rejected), strconv.Itoa(l.timedout), strconv.Itoa(l.cancelled)), "\n")
		l.mu.Unlock()
	}
	_ = tw.Flush()
}

func (c *Controller) dumpQueues(w io.Writer) {
	tw := newTab(w)
	fmt.Fprint(tw, row("PriorityLevelName", "Index", "PendingRequests", "ExecutingRequests", "SeatsInUse", "NextDispatchR", "InitialSeatsSum", "MaxSeatsSum", "TotalWorkSum"), "\n")
	for _, l := range c.sortedLevels() {
		l.mu.Lock()
		// The model reserves a request's max seats; the initial seats of
		// the waiting requests come from their estimates.
		initial := map[int]int{}
		for _, t := range l.requests {
			if !t.executing {
				initial[t.queue] += int(t.work.InitialSeats)
			}
		}
		for i, q := range l.qs.QueueStates() {
			fmt.Fprint(tw, row(l.cfg.Name, strconv.Itoa(i), strconv.Itoa(q.Waiting), strconv.Itoa(q.Executing),
				strconv.Itoa(q.SeatsInUse), q.NextDispatchR.String(), strconv.Itoa(initial[i]),
				strconv.Itoa(q.WaitingSeats), q.WaitingWork.String()), "\n")
		}
		l.mu.Unlock()
	}
	_ = tw.Flush()
}

func (c *Controller) dumpRequests(w io.Writer, details bool) {
	tw := newTab(w)
	fmt.Fprint(tw, row("PriorityLevelName", "FlowSchemaName", "QueueIndex", "RequestIndexInQueue", "FlowDistingsher", "ArriveTime", "InitialSeats", "FinalSeats", "AdditionalLatency", "StartTime"))
	if details {
		fmt.Fprint(tw, ",\t", row("UserName", "Verb", "APIPath", "Namespace", "Name", "APIVersion", "Resource", "SubResource"))
	}
	fmt.Fprint(tw, "\n")
	for _, l := range c.sortedLevels() {
		l.mu.Lock()
		for _, d := range l.requestRows() {
			fmt.Fprint(tw, row(l.cfg.Name, d.t.flowSchema, strconv.Itoa(d.queue), strconv.Itoa(d.index), d.t.distinguisher,
				d.t.arrive.UTC().Format(time.RFC3339Nano), strconv.FormatUint(d.t.work.InitialSeats, 10),
				strconv.FormatUint(d.t.work.FinalSeats, 10), d.t.work.AdditionalLatency.String(), d.t.start.UTC().Format(time.RFC3339Nano)))
			if details {
				i := d.t.info
				fmt.Fprint(tw, ",\t", row(d.t.user, i.Verb, i.Path, i.Namespace, i.Name,
					schema.GroupVersion{Group: i.APIGroup, Version: i.APIVersion}.String(), i.Resource, i.Subresource))
			}
			fmt.Fprint(tw, "\n")
		}
		l.mu.Unlock()
	}
	_ = tw.Flush()
}

type requestRow struct {
	t            *ticket
	queue, index int
}

// requestRows lists a level's requests in kube-apiserver's order: per
// queue, the waiting ones by position then the executing ones (index
// -1), then those executing without a queue (queue -1). Called under
// l.mu.
func (l *level) requestRows() []requestRow {
	var ts []*ticket
	for _, t := range l.requests {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *ticket) int {
		if a.queue != b.queue {
			if a.queue < 0 {
				return 1
			}
			if b.queue < 0 {
				return -1
			}
			return a.queue - b.queue
		}
		if a.executing != b.executing {
			if a.executing {
				return 1
			}
			return -1
		}
		return int(a.seq) - int(b.seq)
	})
	out := make([]requestRow, 0, len(ts))
	pos := map[int]int{}
	for _, t := range ts {
		r := requestRow{t: t, queue: t.queue, index: -1}
		if !t.executing {
			r.index = pos[t.queue]
			pos[t.queue]++
		}
		out = append(out, r)
	}
	return out
}
