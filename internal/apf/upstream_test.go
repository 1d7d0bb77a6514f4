package apf

import (
	"context"
	"math/rand"
	"time"

	fq "k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing"
	"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset"
	testeventclock "k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/testing/eventclock"
	"k8s.io/apiserver/pkg/util/flowcontrol/metrics"
	fcrequest "k8s.io/apiserver/pkg/util/flowcontrol/request"
)

// upstreamModel drives k8s.io/apiserver's own queueset (with its fake
// event clock and its seat-demand integrator) behind the simulator's
// levelModel interface, so the same event loop can run kauth's model and
// the upstream code on the same arrivals.
type upstreamModel struct {
	clock      *testeventclock.Fake
	t0         time.Time
	cfg        QueueConfig
	cl         int
	qs         fq.QueueSet
	integ      fq.Integrator
	onDispatch func(*QRequest, int64)
	reqs       map[*QRequest]*upstreamReq
	now        int64
	waiting    int
	seats      int
	cancelling bool
}

type upstreamReq struct {
	req    fq.Request
	cancel context.CancelFunc
}

var upstreamT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newUpstreamFactory returns a modelFactory whose levels share one fake
// clock, as the levels of one apiserver share the controller's clock.
func newUpstreamFactory() modelFactory {
	clock, _ := testeventclock.NewFake(upstreamT0, 0, rand.New(rand.NewSource(1)))
	qsf := queueset.NewQueueSetFactory(clock)
	return func(cfg QueueConfig, cl int, onDispatch func(*QRequest, int64)) (levelModel, error) {
		m := &upstreamModel{clock: clock, t0: upstreamT0, cfg: cfg, cl: cl, onDispatch: onDispatch, reqs: map[*QRequest]*upstreamReq{}}
		m.integ = fq.NewNamedIntegrator(clock, cfg.Name)
		c, err := qsf.BeginConstruction(m.qcfg(), metrics.RatioedGaugePair{RequestsWaiting: nopGauge{}, RequestsExecuting: nopGauge{}}, nopGauge{}, m.integ)
		if err != nil {
			return nil, err
		}
		m.qs = c.Complete(fq.DispatchingConfig{ConcurrencyLimit: cl})
		return m, nil
	}
}

func (m *upstreamModel) qcfg() fq.QueuingConfig {
	return fq.QueuingConfig{Name: m.cfg.Name, DesiredNumQueues: m.cfg.Queues, QueueLengthLimit: m.cfg.QueueLengthLimit, HandSize: m.cfg.HandSize}
}

func (m *upstreamModel) setTime(now int64) {
	m.now = now
	m.clock.SetTime(m.t0.Add(time.Duration(now)))
}

func (m *upstreamModel) Arrive(now int64, r *QRequest, hash uint64) Outcome {
	m.setTime(now)
	r.Arrival = now
	ctx, cancel := context.WithCancel(context.Background())
	note := func(inQueue bool) {
		switch {
		case inQueue:
			r.state = stateWaiting
			m.waiting++
		case m.cancelling:
			m.waiting--
		default:
			m.waiting--
			r.state, r.Start = stateExecuting, m.now
			m.seats += r.Seats
			m.onDispatch(r, m.now)
		}
	}
	req, _ := m.qs.StartRequest(ctx, &fcrequest.WorkEstimate{InitialSeats: uint64(r.Seats), FinalSeats: uint64(r.FinalSeats), AdditionalLatency: time.Duration(r.AdditionalLatency)}, hash, "", m.cfg.Name, nil, nil, note)
	if req == nil {
		cancel()
		r.state = stateDone
		if m.cfg.Queues > 0 {
			return RejectedQueueFull
		}
		return RejectedConcurrencyLimit
	}
	m.reqs[r] = &upstreamReq{req: req, cancel: cancel}
	if m.cfg.Queues <= 0 {
		r.state, r.Start = stateExecuting, now
		m.seats += r.Seats
		return Dispatched
	}
	return Enqueued
}

func (m *upstreamModel) Finish(now int64, r *QRequest) {
	m.setTime(now)
	ur := m.reqs[r]
	delete(m.reqs, r)
	m.seats -= r.Seats
	r.state = stateDone
	ur.req.Finish(func() {})
	ur.cancel()
}

func (m *upstreamModel) Cancel(now int64, r *QRequest) bool {
	if r.state != stateWaiting {
		return false
	}
	m.setTime(now)
	ur := m.reqs[r]
	delete(m.reqs, r)
	m.cancelling = true
	ur.cancel()
	ur.req.Finish(func() { panic("a cancelled request executed") })
	m.cancelling = false
	r.state = stateDone
	return true
}

func (m *upstreamModel) SetConcurrencyLimit(now int64, cl int) {
	m.setTime(now)
	m.cl = cl
	c, err := m.qs.BeginConfigChange(m.qcfg())
	if err != nil {
		panic(err)
	}
	m.qs = c.Complete(fq.DispatchingConfig{ConcurrencyLimit: cl})
}

func (m *upstreamModel) resetDemand(now int64) demandStats {
	m.setTime(now)
	r := m.integ.Reset()
	return demandStats{duration: r.Duration, avg: r.Average, stdDev: r.Deviation, max: r.Max}
}

func (m *upstreamModel) Waiting() int          { return m.waiting }
func (m *upstreamModel) SeatsInUse() int       { return m.seats }
func (m *upstreamModel) ConcurrencyLimit() int { return m.cl }

type nopGauge struct{}

func (nopGauge) Set(float64)            {}
func (nopGauge) Inc()                   {}
func (nopGauge) Dec()                   {}
func (nopGauge) Add(float64)            {}
func (nopGauge) SetToCurrentTime()      {}
func (nopGauge) SetDenominator(float64) {}
