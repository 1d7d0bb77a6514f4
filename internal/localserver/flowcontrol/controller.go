package flowcontrol

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/endpoints/request"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"

	"github.com/kauth/kauth/internal/apf"
)

// Options configure the filter.
type Options struct {
	// ServerConcurrencyLimit is --max-requests-inflight plus
	// --max-mutating-requests-inflight, shared among the levels.
	ServerConcurrencyLimit int
	// RequestWaitLimit is how long a request may wait in a queue
	// (kube-apiserver: --request-timeout / 4).
	RequestWaitLimit time.Duration
	// LongRunning tells requests that are not limited (except watches).
	LongRunning request.LongRunningRequestCheck
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Controller holds the configuration in force and the state of every
// priority level. It is safe for concurrent use.
type Controller struct {
	opts    Options
	start   time.Time
	dropped utilflowcontrol.DroppedRequestsTracker

	mu         sync.RWMutex
	classifier *apf.Classifier
	fsUIDs     map[string]types.UID
	levels     map[string]*level
}

// New returns a controller with Kubernetes' built-in configuration until
// [Controller.SetConfig] gives it the stored one.
func New(opts Options) (*Controller, error) {
	if opts.ServerConcurrencyLimit <= 0 {
		return nil, fmt.Errorf("flowcontrol: server concurrency limit %d: must be positive", opts.ServerConcurrencyLimit)
	}
	if opts.RequestWaitLimit <= 0 {
		opts.RequestWaitLimit = 15 * time.Second
	}
	c := &Controller{opts: opts, dropped: utilflowcontrol.NewDroppedRequestsTracker(), levels: map[string]*level{}}
	c.start = c.now()
	def := apf.DefaultConfig()
	if err := c.SetConfig(def.FlowSchemas, def.PriorityLevels); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// nanos is the queue model's clock: nanoseconds since the controller
// started.
func (c *Controller) nanos(t time.Time) int64 { return int64(t.Sub(c.start)) }

// SetConfig digests a configuration as the APF controller does
// (defaults, mandatory objects added, dangling schemas ignored, limits
// from the server's total). A level whose queuing parameters are unchanged
// keeps its queues and requests and gets its new limit; a changed one
// starts afresh while requests already in the old one finish there.
func (c *Controller) SetConfig(fss []*flowcontrolv1.FlowSchema, pls []*flowcontrolv1.PriorityLevelConfiguration) error {
	cfg := apf.NewConfig(fss, pls, nil)
	limits := apf.Limits(cfg, c.opts.ServerConcurrencyLimit)
	uids := map[string]types.UID{}
	for _, pl := range cfg.PriorityLevels {
		uids[pl.Name] = pl.UID
	}
	fsUIDs := map[string]types.UID{}
	for _, fs := range cfg.FlowSchemas {
		fsUIDs[fs.Name] = fs.UID
	}
	now := c.nanos(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	levels := map[string]*level{}
	for _, l := range limits {
		qc := queueConfig(l)
		if old := c.levels[l.Name]; old != nil && old.cfg == qc {
			old.setLimit(now, l.NominalConcurrencyLimit, uids[l.Name])
			levels[l.Name] = old
			continue
		}
		lv, err := newLevel(qc, l.NominalConcurrencyLimit, uids[l.Name], c.now, now)
		if err != nil {
			return err
		}
		levels[l.Name] = lv
	}
	c.classifier, c.fsUIDs, c.levels = apf.NewClassifier(cfg), fsUIDs, levels
	return nil
}

// queueConfig is the queue model's view of a level.
func queueConfig(l apf.LevelLimits) apf.QueueConfig {
	qc := apf.QueueConfig{Name: l.Name, Queues: int(l.Queues), HandSize: int(l.HandSize), QueueLengthLimit: int(l.QueueLengthLimit)}
	switch {
	case l.Exempt():
		qc.Queues = -1
	case !l.Queuing():
		qc.Queues, qc.HandSize, qc.QueueLengthLimit = 0, 0, 0
	}
	return qc
}

// classified is where one request goes.
type classified struct {
	flowSchema, distinguisher string
	fsUID                     types.UID
	level                     *level
}

// classify matches a request; a request no schema matches goes to
// catch-all, as in kube-apiserver.
func (c *Controller) classify(r apf.Request) (classified, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cl, _ := c.classifier.Classify(r, false)
	lv := c.levels[cl.PriorityLevel]
	if lv == nil {
		return classified{}, false
	}
	return classified{flowSchema: cl.FlowSchema, distinguisher: cl.FlowDistinguisher, fsUID: c.fsUIDs[cl.FlowSchema], level: lv}, true
}

// sortedLevels returns the levels by name.
func (c *Controller) sortedLevels() []*level {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*level, 0, len(c.levels))
	for _, l := range c.levels {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Name < out[j].cfg.Name })
	return out
}

// hashFlowID is kube-apiserver's flow hash: SHA-256 of the schema name,
// a zero byte and the distinguisher, first 8 bytes little endian.
func hashFlowID(fs, distinguisher string) uint64 {
	h := sha256.New()
	h.Write([]byte(fs))
	h.Write([]byte{0})
	h.Write([]byte(distinguisher))
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}
