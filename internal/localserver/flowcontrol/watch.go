package flowcontrol

import (
	"context"
	"errors"
	"fmt"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	fcapply "k8s.io/client-go/applyconfigurations/flowcontrol/v1"
	"k8s.io/client-go/informers"
	fcinformers "k8s.io/client-go/informers/flowcontrol/v1"
	fcclient "k8s.io/client-go/kubernetes/typed/flowcontrol/v1"
	"k8s.io/client-go/tools/cache"
)

// StatusFieldManager is the field manager of the FlowSchema conditions
// the configuration consumer writes (k8s.io/apiserver's
// ConfigConsumerAsFieldManager).
const StatusFieldManager = "api-priority-and-fairness-config-consumer-v1"

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
	status  fcclient.FlowSchemasGetter
	// written is, per FlowSchema, the resourceVersion it had when its
	// condition was last written and what was written: until the write
	// reaches the informer, a pass writes the same condition only once.
	written map[string]writtenStatus
}

type writtenStatus struct {
	resourceVersion string
	condition       flowcontrolv1.FlowSchemaCondition
}

// WriteStatus makes the watch keep each FlowSchema's Dangling condition
// current through client, as kube-apiserver's configuration consumer
// does (kubectl shows it as MISSINGPL). Call it before [ConfigWatch.Run].
func (w *ConfigWatch) WriteStatus(client fcclient.FlowSchemasGetter) { w.status = client }

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
	if err := w.apply(ctx); err != nil && onError != nil {
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
		if err := w.apply(ctx); err != nil && onError != nil {
			onError(err)
		}
	}
}

func (w *ConfigWatch) apply(ctx context.Context) error {
	fss, err := w.fs.Lister().List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing flow schemas: %w", err)
	}
	pls, err := w.pl.Lister().List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing priority levels: %w", err)
	}
	if err := w.c.SetConfig(fss, pls); err != nil {
		return err
	}
	return w.writeStatus(ctx, fss, pls)
}

// writeStatus sets the Dangling condition of every FlowSchema whose
// condition differs from what the stored priority levels say, with
// upstream's reasons and messages. The write comes back through the
// informer as a change; the next pass finds nothing to do.
func (w *ConfigWatch) writeStatus(ctx context.Context, fss []*flowcontrolv1.FlowSchema, pls []*flowcontrolv1.PriorityLevelConfiguration) error {
	if w.status == nil {
		return nil
	}
	have := map[string]bool{}
	for _, pl := range pls {
		have[pl.Name] = true
	}
	var errs []error
	for _, fs := range fss {
		want := danglingCondition(fs.Spec.PriorityLevelConfiguration.Name, !have[fs.Spec.PriorityLevelConfiguration.Name])
		if cur := findDangling(fs); cur != nil && cur.Status == want.Status && cur.Reason == want.Reason && cur.Message == want.Message {
			continue
		}
		if w.written[fs.Name] == (writtenStatus{fs.ResourceVersion, want}) {
			continue
		}
		cond := fcapply.FlowSchemaCondition().WithType(want.Type).WithStatus(want.Status).WithReason(want.Reason).
			WithMessage(want.Message).WithLastTransitionTime(metav1.NewTime(w.c.now()))
		ac := fcapply.FlowSchema(fs.Name).WithStatus(fcapply.FlowSchemaStatus().WithConditions(cond))
		_, err := w.status.FlowSchemas().ApplyStatus(ctx, ac, metav1.ApplyOptions{FieldManager: StatusFieldManager, Force: true})
		switch {
		case err == nil:
			if w.written == nil {
				w.written = map[string]writtenStatus{}
			}
			w.written[fs.Name] = writtenStatus{fs.ResourceVersion, want}
		case !apierrors.IsNotFound(err):
			errs = append(errs, fmt.Errorf("setting the Dangling condition of FlowSchema %s: %w", fs.Name, err))
		}
	}
	return errors.Join(errs...)
}

func danglingCondition(plName string, dangling bool) flowcontrolv1.FlowSchemaCondition {
	if dangling {
		return flowcontrolv1.FlowSchemaCondition{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionTrue, Reason: "NotFound",
			Message: fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q but there is no such object", plName)}
	}
	return flowcontrolv1.FlowSchemaCondition{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse, Reason: "Found",
		Message: fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q and it exists", plName)}
}

func findDangling(fs *flowcontrolv1.FlowSchema) *flowcontrolv1.FlowSchemaCondition {
	for i := range fs.Status.Conditions {
		if fs.Status.Conditions[i].Type == flowcontrolv1.FlowSchemaConditionDangling {
			return &fs.Status.Conditions[i]
		}
	}
	return nil
}
