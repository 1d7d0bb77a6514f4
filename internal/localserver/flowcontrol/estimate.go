package flowcontrol

import (
	"context"
	"fmt"
	"time"

	apistorage "k8s.io/apiserver/pkg/storage"

	"github.com/kauth/kauth/internal/apf"
)

// ObjectCountPeriod is how often the object counts the work estimator
// reads are refreshed (kube-apiserver's --etcd-count-metric-poll-period
// default).
const ObjectCountPeriod = time.Minute

// ObjectCounter reads, from the server's storage, what the list work
// estimator needs.
type ObjectCounter interface {
	// ObjectStats returns per resource, keyed as
	// schema.GroupResource.String() ("configmaps",
	// "roles.rbac.authorization.k8s.io"), the number of stored objects
	// and their estimated average size in bytes as stored.
	ObjectStats(ctx context.Context) (map[string]apistorage.Stats, error)
}

// RefreshObjectCounts reads the storage's object counts into the work
// estimator, as kube-apiserver's stores report theirs every
// [ObjectCountPeriod]. Without an [ObjectCounter] it does nothing.
func (c *Controller) RefreshObjectCounts(ctx context.Context) error {
	if c.opts.Objects == nil {
		return nil
	}
	stats, err := c.opts.Objects.ObjectStats(ctx)
	if err != nil {
		return fmt.Errorf("counting stored objects for APF's work estimator: %w", err)
	}
	for key, s := range stats {
		c.counts.Set(key, s)
	}
	return nil
}

// run keeps the current limits and the object counts up to date until
// ctx ends: the limits every [apf.BorrowingPeriod], the counts every
// [ObjectCountPeriod], both at once first.
func (c *Controller) run(ctx context.Context, onError func(error)) {
	borrow := time.NewTicker(apf.BorrowingPeriod)
	defer borrow.Stop()
	count := time.NewTicker(ObjectCountPeriod)
	defer count.Stop()
	c.AdjustLimits()
	refresh := func() {
		if err := c.RefreshObjectCounts(ctx); err != nil && onError != nil {
			onError(err)
		}
	}
	refresh()
	for {
		select {
		case <-ctx.Done():
			return
		case <-borrow.C:
			c.AdjustLimits()
		case <-count.C:
			refresh()
		}
	}
}
