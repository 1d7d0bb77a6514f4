package apf

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strings"
)

// SimulateOptions tune a simulation.
type SimulateOptions struct {
	// Series collects figures over time for charts.
	Series bool
	// CompareMaxInflight also runs the max-in-flight limiter with these
	// limits (both zero: 2/3 and 1/3 of the server's limit, the ratio of
	// kube-apiserver's defaults 400 and 200).
	CompareMaxInflight          bool
	MaxRequestsInflight         int
	MaxMutatingRequestsInflight int
}

// levelModel is what the simulator needs of a priority level's queues.
// [QueueSet] is the model; the fidelity test plugs in k8s.io/apiserver's
// own queueset behind the same interface.
type levelModel interface {
	Arrive(now int64, r *QRequest, hash uint64) Outcome
	Finish(now int64, r *QRequest)
	Cancel(now int64, r *QRequest) bool
	SetConcurrencyLimit(now int64, cl int)
	resetDemand(now int64) demandStats
	Waiting() int
	SeatsInUse() int
	ConcurrencyLimit() int
}

// modelFactory builds a level's model at time 0.
type modelFactory func(cfg QueueConfig, cl int, onDispatch func(*QRequest, int64)) (levelModel, error)

func newQueueSetModel(cfg QueueConfig, cl int, onDispatch func(*QRequest, int64)) (levelModel, error) {
	qs, err := NewQueueSet(cfg, cl, 0)
	if err != nil {
		return nil, err
	}
	qs.OnDispatch = onDispatch
	return qs, nil
}

type simLevel struct {
	limits LevelLimits
	qs     levelModel
	rep    *LevelReport
	series *LevelSeries
}

type simClient struct {
	c      *Client
	level  *simLevel
	hash   uint64
	arr    *arrivals
	rep    ClientReport
	waits  []int64
	series *ClientSeries
	svc    int64
	idx    int
}

type completion struct {
	t   int64
	seq uint64
	r   *QRequest
}

type sim struct {
	w        *Workload
	levels   []*simLevel
	clients  []*simClient
	alloc    *allocator
	comps    []completion // min-heap by (t, seq)
	seq      uint64
	timeouts []*QRequest // FIFO; deadlines ascending
	thead    int
	arrHeap  []*simClient // min-heap by (next, index)
	slab     []QRequest
	free     []*QRequest
	bucket   int64
	series   *Series
	now      int64
	wait     int64
}

// Simulate replays w against cfg and reports per level and per client.
func Simulate(w *Workload, cfg *Config, opts SimulateOptions) (*Report, error) {
	return simulate(w, cfg, opts, newQueueSetModel)
}

func simulate(w *Workload, cfg *Config, opts SimulateOptions, factory modelFactory) (*Report, error) {
	s, err := newSim(w, cfg, opts, factory)
	if err != nil {
		return nil, err
	}
	s.run()
	rep := s.report()
	if opts.CompareMaxInflight {
		rep.Compare = &CompareReport{MaxInflight: simulateMaxInflight(w, opts.MaxRequestsInflight, opts.MaxMutatingRequestsInflight)}
	}
	return rep, nil
}

func newSim(w *Workload, cfg *Config, opts SimulateOptions, factory modelFactory) (*sim, error) {
	s := &sim{w: w, wait: int64(w.QueueWaitLimit.Duration)}
	limits := Limits(cfg, w.ServerConcurrencyLimit)
	s.alloc = newAllocator(limits)
	copy(s.alloc.current, initialCLs(limits))
	if opts.Series {
		s.bucket = max(int64(1e9), int64(w.Duration.Duration)/120)
		s.series = &Series{BucketSeconds: float64(s.bucket) / 1e9,
			Levels: make([]LevelSeries, len(limits)), Clients: make([]ClientSeries, len(w.Clients))}
	}
	if err := s.addLevels(limits, factory); err != nil {
		return nil, err
	}
	if err := s.addClients(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sim) addLevels(limits []LevelLimits, factory modelFactory) error {
	for i, l := range limits {
		qc := QueueConfig{Name: l.Name, Queues: int(l.Queues), HandSize: int(l.HandSize), QueueLengthLimit: int(l.QueueLengthLimit)}
		if l.Exempt() {
			qc.Queues = -1
		}
		qs, err := factory(qc, l.InitialConcurrencyLimit, s.onDispatch)
		if err != nil {
			return err
		}
		cl := l.InitialConcurrencyLimit
		lv := &simLevel{limits: l, qs: qs, rep: &LevelReport{
			Name: l.Name, Type: l.Type, LimitResponse: l.LimitResponse,
			NominalConcurrencyLimit: l.NominalConcurrencyLimit, LendableConcurrencyLimit: l.LendableConcurrencyLimit,
			BorrowingConcurrencyLimit: l.BorrowingConcurrencyLimit, Queues: l.Queues, HandSize: l.HandSize,
			QueueLengthLimit: l.QueueLengthLimit, MaxSeats: l.MaxSeats, CurrentConcurrencyLimit: CLRange{cl, cl, cl, cl},
		}}
		if s.series != nil {
			lv.series = &s.series.Levels[i]
			lv.series.Name = l.Name
		}
		s.levels = append(s.levels, lv)
	}
	return nil
}

// addClients classifies every client; a client no FlowSchema matches is
// an error, as the workload contract says.
func (s *sim) addClients(cfg *Config) error {
	w := s.w
	byName := map[string]*simLevel{}
	for _, lv := range s.levels {
		byName[lv.limits.Name] = lv
	}
	cls := NewClassifier(cfg)
	for i := range w.Clients {
		c := &w.Clients[i]
		cl, ok := cls.Classify(c.Request(), false)
		if !ok {
			return w.clientErr(i, "user", "no FlowSchema matches %s (user %q, groups [%s]); kube-apiserver would fall back to catch-all", describe(c.Request()), c.User, strings.Join(c.Groups, " "))
		}
		sc := &simClient{c: c, idx: i, level: byName[cl.PriorityLevel], svc: int64(c.ServiceTime.Duration)}
		sc.rep = ClientReport{Name: c.Name, FlowSchema: cl.FlowSchema, PriorityLevel: cl.PriorityLevel, FlowDistinguisher: cl.FlowDistinguisher, Seats: c.Seats}
		if sc.level.limits.Queues > 1 {
			sc.hash = HashFlowID(cl.FlowSchema, cl.FlowDistinguisher)
		}
		if s.series != nil {
			sc.series = &s.series.Clients[i]
			sc.series.Name = c.Name
		}
		sc.arr = newArrivals(c, w.Seed, w.Duration.Duration)
		s.clients = append(s.clients, sc)
	}
	for _, sc := range s.clients {
		if !sc.arr.done {
			s.pushArrival(sc)
		}
	}
	return nil
}

func initialCLs(ls []LevelLimits) []int {
	out := make([]int, len(ls))
	for i, l := range ls {
		out[i] = l.InitialConcurrencyLimit
	}
	return out
}

// HashFlowID is the APF controller's flow hash: the first 8 bytes,
// little endian, of SHA-256 over schema name, a zero byte and the
// distinguisher.
func HashFlowID(schema, distinguisher string) uint64 {
	h := sha256.New()
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(distinguisher))
	var sum [32]byte
	return binary.LittleEndian.Uint64(h.Sum(sum[:0])[:8])
}

func (s *sim) newRequest() *QRequest {
	if n := len(s.free); n > 0 {
		r := s.free[n-1]
		s.free = s.free[:n-1]
		*r = QRequest{}
		return r
	}
	if len(s.slab) == 0 {
		s.slab = make([]QRequest, 4096)
	}
	r := &s.slab[0]
	s.slab = s.slab[1:]
	return r
}

// run is the event loop. At one instant: completions, then queue-wait
// time-outs, then the borrowing adjustment, then arrivals.
func (s *sim) run() {
	nextBorrow := borrowingPeriodNanos
	for {
		const inf = math.MaxInt64
		tc, tt, ta := int64(inf), int64(inf), int64(inf)
		if len(s.comps) > 0 {
			tc = s.comps[0].t
		}
		for s.thead < len(s.timeouts) && !s.timeouts[s.thead].Waiting() {
			r := s.timeouts[s.thead]
			r.InTimeouts = false
			s.recycle(r)
			s.timeouts[s.thead] = nil
			s.thead++
		}
		if s.thead < len(s.timeouts) {
			tt = s.timeouts[s.thead].Deadline
		}
		if len(s.arrHeap) > 0 {
			ta = s.arrHeap[0].arr.next
		}
		t := min(tc, tt, ta)
		if t == inf {
			break
		}
		switch {
		case nextBorrow < t || nextBorrow == t && tc != t && tt != t:
			s.now = nextBorrow
			s.borrow()
			nextBorrow += borrowingPeriodNanos
		case tc == t:
			s.now = t
			s.complete()
		case tt == t:
			s.now = t
			s.timeout()
		default:
			s.now = t
			s.arrive()
		}
	}
	if s.thead > 0 || len(s.timeouts) > 0 {
		s.timeouts = nil
	}
}

func (s *sim) complete() {
	c := s.popCompletion()
	lv := s.clients[c.r.Client].level
	lv.qs.Finish(s.now, c.r)
	s.recycle(c.r)
	s.sample(lv)
}

// recycle keeps a finished request for reuse once nothing refers to it,
// which spares the garbage collector a million objects.
func (s *sim) recycle(r *QRequest) {
	if r.Recyclable() {
		s.free = append(s.free, r)
	}
}

func (s *sim) timeout() {
	r := s.timeouts[s.thead]
	s.timeouts[s.thead] = nil
	s.thead++
	r.InTimeouts = false
	sc := s.clients[r.Client]
	sc.level.qs.Cancel(s.now, r)
	defer s.recycle(r)
	sc.rep.RejectReasons.TimeOut++
	sc.level.rep.Rejected++
	s.noteReject(sc)
	s.sample(sc.level)
}

func (s *sim) borrow() {
	obs := make([]demandStats, len(s.levels))
	for i, lv := range s.levels {
		obs[i] = lv.qs.resetDemand(s.now)
	}
	cls := s.alloc.adjust(obs)
	for i, lv := range s.levels {
		lv.qs.SetConcurrencyLimit(s.now, cls[i])
		lv.rep.CurrentConcurrencyLimit.note(cls[i])
	}
	for _, lv := range s.levels {
		s.sample(lv)
	}
}

func (s *sim) arrive() {
	sc := s.arrHeap[0]
	idx := sc.idx
	r := s.newRequest()
	r.Seats, r.Client, r.Deadline = sc.c.Seats, idx, s.now+s.wait
	sc.rep.Arrived++
	lv := sc.level
	switch lv.qs.Arrive(s.now, r, sc.hash) {
	case Dispatched:
		s.onDispatch(r, s.now)
	case Enqueued:
		if r.Waiting() {
			r.InTimeouts = true
			s.timeouts = append(s.timeouts, r)
		}
	case RejectedQueueFull:
		r.state = stateDone
		s.recycle(r)
		sc.rep.RejectReasons.QueueFull++
		lv.rep.Rejected++
		s.noteReject(sc)
	case RejectedConcurrencyLimit:
		r.state = stateDone
		s.recycle(r)
		sc.rep.RejectReasons.ConcurrencyLimit++
		lv.rep.Rejected++
		s.noteReject(sc)
	}
	sc.arr.advance()
	if sc.arr.done {
		s.popArrival()
	} else {
		s.fixArrival()
	}
	s.sample(lv)
}

func (s *sim) onDispatch(r *QRequest, now int64) {
	sc := s.clients[r.Client]
	w := now - r.Arrival
	sc.rep.Dispatched++
	sc.level.rep.Dispatched++
	sc.waits = append(sc.waits, w)
	if w == s.wait {
		sc.rep.DispatchedAtWaitLimit++
	}
	s.pushCompletion(completion{t: now + sc.svc, r: r})
	if s.series != nil {
		b := s.bucketOf(now)
		grow(&sc.series.Dispatched, b)[b]++
		grow(&sc.series.WaitSum, b)[b] += float64(w) / 1e9
		grow(&sc.level.series.Dispatched, b)[b]++
		grow(&sc.level.series.WaitSum, b)[b] += float64(w) / 1e9
	}
}

func (s *sim) noteReject(sc *simClient) {
	if s.series == nil {
		return
	}
	b := s.bucketOf(s.now)
	grow(&sc.series.Rejected, b)[b]++
	grow(&sc.level.series.Rejected, b)[b]++
}

// sample records the level's high-water marks after an event.
func (s *sim) sample(lv *simLevel) {
	lv.rep.MaxQueued = max(lv.rep.MaxQueued, lv.qs.Waiting())
	lv.rep.MaxSeatsInUse = max(lv.rep.MaxSeatsInUse, lv.qs.SeatsInUse())
	if s.series != nil {
		b := s.bucketOf(s.now)
		q := grow(&lv.series.Queued, b)
		q[b] = max(q[b], lv.qs.Waiting())
		u := grow(&lv.series.SeatsInUse, b)
		u[b] = max(u[b], lv.qs.SeatsInUse())
		l := grow(&lv.series.Limit, b)
		l[b] = lv.qs.ConcurrencyLimit()
	}
}

func (s *sim) bucketOf(t int64) int { return int(t / s.bucket) }

func grow[T any](p *[]T, i int) []T {
	for len(*p) <= i {
		*p = append(*p, *new(T))
	}
	return *p
}

func (s *sim) report() *Report {
	rep := &Report{
		ServerConcurrencyLimit: s.w.ServerConcurrencyLimit,
		Duration:               s.w.Duration.String(),
		QueueWaitLimit:         s.w.QueueWaitLimit.String(),
		Seed:                   s.w.Seed,
		Borrowing:              true,
		SimulatedSeconds:       float64(s.now) / 1e9,
		Series:                 s.series,
	}
	for _, lv := range s.levels {
		rep.PriorityLevels = append(rep.PriorityLevels, *lv.rep)
	}
	for _, sc := range s.clients {
		sc.rep.Rejected = sc.rep.RejectReasons.Total()
		sc.rep.WaitSeconds = waitStats(sc.waits)
		rep.Clients = append(rep.Clients, sc.rep)
	}
	if s.series != nil {
		fillSeries(s.series, s.bucketOf(s.now)+1)
	}
	return rep
}

// fillSeries pads every series to n buckets; a limit with no sample
// keeps the previous bucket's value.
func fillSeries(sr *Series, n int) {
	for i := range sr.Levels {
		l := &sr.Levels[i]
		for _, p := range []*[]int{&l.SeatsInUse, &l.Queued, &l.Rejected, &l.Dispatched} {
			grow(p, n-1)
		}
		grow(&l.WaitSum, n-1)
		for len(l.Limit) < n {
			l.Limit = append(l.Limit, 0)
		}
		for b := 1; b < n; b++ {
			if l.Limit[b] == 0 {
				l.Limit[b] = l.Limit[b-1]
			}
		}
	}
	for i := range sr.Clients {
		c := &sr.Clients[i]
		grow(&c.Dispatched, n-1)
		grow(&c.Rejected, n-1)
		grow(&c.WaitSum, n-1)
	}
}
