package flowcontrol

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	fcinformers "k8s.io/client-go/informers/flowcontrol/v1"
	"k8s.io/client-go/tools/cache"
)

// Watch registers informers for the stored FlowSchemas and
// PriorityLevelConfigurations on f; call it before f starts, then
// [ConfigWatch.Run].
func (c *Controller) Watch(f informers.SharedInformerFactory) *ConfigWatch {
	fc := f.Flowcontrol().V1()
	w := &ConfigWatch{c: c, changed: make(chan struct{}, 1)}
	w.fs, w.pl = fc.FlowSchemas(), fc.PriorityLevelConfigurations()
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.poke() },
		UpdateFunc: func(any, any) { w.poke() },
		DeleteFunc: func(any) { w.poke() },
	}
	_, _ = w.fs.Informer().AddEventHandler(notify)
	_, _ = w.pl.Informer().AddEventHandler(notify)
	return w
}

// ConfigWatch feeds the controller with the stored configuration.
type ConfigWatch struct {
	c       *Controller
	fs      fcinformers.FlowSchemaInformer
	pl      fcinformers.PriorityLevelConfigurationInformer
	changed chan struct{}
}

func (w *ConfigWatch) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// Run applies the stored configuration after the caches sync and after
// every change, and adjusts the current limits every
// [apf.BorrowingPeriod] and the work estimator's object counts every
// [ObjectCountPeriod], until ctx ends. onError hears what could not be
// applied or counted.
func (w *ConfigWatch) Run(ctx context.Context, onError func(error)) {
	if !cache.WaitForCacheSync(ctx.Done(), w.fs.Informer().HasSynced, w.pl.Informer().HasSynced) {
		return
	}
	if err := w.apply(); err != nil && onError != nil {
		onError(err)
	}
	// The periodic adjustment of current limits and the object counts
	// start once the stored configuration is in force, as the APF
	// controller's rebalancing starts after its caches sync.
	go w.c.run(ctx, onError)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.changed:
		}
		if err := w.apply(); err != nil && onError != nil {
			onError(err)
		}
	}
}

func (w *ConfigWatch) apply() error {
	fss, err := w.fs.Lister().List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing flow schemas: %w", err)
	}
	pls, err := w.pl.Lister().List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing priority levels: %w", err)
	}
	return w.c.SetConfig(fss, pls)
}
