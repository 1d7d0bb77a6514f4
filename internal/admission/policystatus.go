package admission

import (
	"context"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	listersv1 "k8s.io/client-go/listers/admissionregistration/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// policyStatusController is kube-controller-manager's
// validatingadmissionpolicy-status controller: it type-checks every
// ValidatingAdmissionPolicy's expressions against the schemas of the
// kinds it matches and of its paramKind (read from the server's
// /openapi/v3, as that controller's discovery resolver does) and writes
// the warnings to status.typeChecking with status.observedGeneration.
type policyStatusController struct {
	cfg     Config
	queue   workqueue.TypedRateLimitingInterface[string]
	lister  listersv1.ValidatingAdmissionPolicyLister
	synced  cache.InformerSynced
	checker *validatingpolicy.TypeChecker
}

// AddPolicyStatus registers the ValidatingAdmissionPolicy status
// controller (type checking) on cfg's informers; cfg needs a RESTMapper.
// Call it before starting the informers and [Controllers.Run].
func (c *Controllers) AddPolicyStatus() {
	inf := c.cfg.Informers.Admissionregistration().V1().ValidatingAdmissionPolicies()
	p := &policyStatusController{
		cfg:    c.cfg,
		queue:  workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		lister: inf.Lister(),
		checker: &validatingpolicy.TypeChecker{
			SchemaResolver: &resolver.ClientDiscoveryResolver{Discovery: c.cfg.Client.Discovery()},
			RestMapper:     c.cfg.RESTMapper,
		},
	}
	add := func(obj any) {
		if vap, ok := obj.(*admissionregistrationv1.ValidatingAdmissionPolicy); ok {
			p.queue.Add(vap.Name)
		}
	}
	reg, _ := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, n any) { add(n) }})
	p.synced = reg.HasSynced
	c.queues = append(c.queues, p.run)
}

func (p *policyStatusController) run(ctx context.Context, synced func()) {
	if !cache.WaitForCacheSync(ctx.Done(), p.synced) {
		return
	}
	synced()
	drain(ctx, p.queue, p.sync)
}

// sync type-checks one policy when its generation is newer than the one
// its status describes.
func (p *policyStatusController) sync(ctx context.Context, name string) error {
	vap, err := p.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if vap.Generation <= vap.Status.ObservedGeneration {
		return nil
	}
	warnings := p.checker.Check(vap)
	up := vap.DeepCopy()
	up.Status.ObservedGeneration = vap.Generation
	up.Status.TypeChecking = &admissionregistrationv1.TypeChecking{ExpressionWarnings: warnings}
	_, err = p.cfg.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().UpdateStatus(ctx, up, metav1.UpdateOptions{FieldManager: "validatingadmissionpolicy-status"})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
