package admission

import (
	"context"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/kauth/kauth/internal/quota"
)

// Controllers are the background loops that go with the plugins.
type Controllers struct {
	cfg    Config
	queues []func(ctx context.Context, synced func())
	synced chan struct{}
}

// NewControllers registers the quota status controller and, when
// namespaceCreator is true, the namespace-creator controller on cfg's
// informers. Call it before starting the informers, then [Controllers.Run].
func NewControllers(cfg Config, namespaceCreator bool) *Controllers {
	c := &Controllers{cfg: cfg, synced: make(chan struct{})}
	c.queues = append(c.queues, newQuotaStatus(cfg).run)
	if namespaceCreator {
		c.queues = append(c.queues, newCreatorBindings(cfg).run)
	}
	return c
}

// Run runs the controllers until ctx ends.
func (c *Controllers) Run(ctx context.Context) {
	var pending sync.WaitGroup
	for _, run := range c.queues {
		pending.Add(1)
		go run(ctx, sync.OnceFunc(pending.Done))
	}
	go func() { pending.Wait(); close(c.synced) }()
	<-ctx.Done()
}

// Synced is closed once every controller has synced its caches and made
// one pass over the objects that were there: quotas have their
// status.used, creators their bindings. A sandbox that runs a command
// once ready waits for it, so the command sees what a settled cluster
// shows.
func (c *Controllers) Synced() <-chan struct{} { return c.synced }

// namespaceKeyed enqueues the namespace of every object an informer sees.
func namespaceKeyed(q workqueue.TypedInterface[string], name func(metav1.Object) string) cache.ResourceEventHandler {
	add := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if m, err := meta.Accessor(obj); err == nil {
			q.Add(name(m))
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, n any) { add(n) }, DeleteFunc: add}
}

// drain processes keys until the queue shuts down.
func drain(ctx context.Context, q workqueue.TypedRateLimitingInterface[string], sync func(context.Context, string) error) {
	go func() { <-ctx.Done(); q.ShutDown() }()
	for {
		key, quit := q.Get()
		if quit {
			return
		}
		if err := sync(ctx, key); err != nil && ctx.Err() == nil {
			q.AddRateLimited(key)
		} else {
			q.Forget(key)
		}
		q.Done(key)
	}
}

// quotaStatus is kube-controller-manager's resource quota controller:
// status.hard follows spec.hard and status.used is recomputed from the
// namespace's objects whenever one of them or a quota changes.
type quotaStatus struct {
	cfg      Config
	queue    workqueue.TypedRateLimitingInterface[string]
	listers  map[schema.GroupResource]cache.GenericLister
	synced   []cache.InformerSynced
	registry *quota.Registry
}

// quotaTracked are the namespaced resources whose objects the controller
// counts, as kube-controller-manager counts every quotable resource it
// discovers; the ones the server does not serve are left out. A
// count/<resource>.<group> of any other resource keeps what admission
// charged.
var quotaTracked = []schema.GroupVersionResource{
	corev1.SchemeGroupVersion.WithResource("pods"),
	corev1.SchemeGroupVersion.WithResource("services"),
	corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"),
	corev1.SchemeGroupVersion.WithResource("configmaps"),
	corev1.SchemeGroupVersion.WithResource("secrets"),
	corev1.SchemeGroupVersion.WithResource("replicationcontrollers"),
	corev1.SchemeGroupVersion.WithResource("resourcequotas"),
	corev1.SchemeGroupVersion.WithResource("serviceaccounts"),
	corev1.SchemeGroupVersion.WithResource("limitranges"),
	corev1.SchemeGroupVersion.WithResource("events"),
	rbacv1.SchemeGroupVersion.WithResource("roles"),
	rbacv1.SchemeGroupVersion.WithResource("rolebindings"),
}

func newQuotaStatus(cfg Config) *quotaStatus {
	q := &quotaStatus{
		cfg:      cfg,
		queue:    workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		listers:  map[schema.GroupResource]cache.GenericLister{},
		registry: quota.NewRegistry(cfg.Now),
	}
	for _, gvr := range quotaTracked {
		if cfg.Serves != nil && !cfg.Serves(gvr) {
			continue
		}
		inf, err := cfg.Informers.ForResource(gvr)
		if err != nil {
			continue
		}
		_, _ = inf.Informer().AddEventHandler(namespaceKeyed(q.queue, metav1.Object.GetNamespace))
		q.listers[gvr.GroupResource()] = inf.Lister()
		q.synced = append(q.synced, inf.Informer().HasSynced)
	}
	return q
}

func (q *quotaStatus) run(ctx context.Context, synced func()) {
	if !cache.WaitForCacheSync(ctx.Done(), q.synced...) {
		return
	}
	// One pass over the namespaces that have quotas before the queue,
	// which holds them too: the repeat finds nothing to change.
	if quotas, ok := q.listers[corev1.Resource("resourcequotas")]; ok {
		objs, _ := quotas.List(labels.Everything())
		seen := map[string]bool{}
		for _, o := range objs {
			if m, err := meta.Accessor(o); err == nil && !seen[m.GetNamespace()] {
				seen[m.GetNamespace()] = true
				if err := q.sync(ctx, m.GetNamespace()); err != nil {
					q.queue.AddRateLimited(m.GetNamespace())
				}
			}
		}
	}
	synced()
	drain(ctx, q.queue, q.sync)
}

// sync recomputes every quota of one namespace.
func (q *quotaStatus) sync(ctx context.Context, ns string) error {
	quotas, ok := q.listers[corev1.Resource("resourcequotas")]
	if !ok {
		return nil
	}
	objs, err := quotas.ByNamespace(ns).List(labels.Everything())
	if err != nil {
		return err
	}
	for _, o := range objs {
		rq, ok := o.(*corev1.ResourceQuota)
		if !ok {
			continue
		}
		if err := q.syncQuota(ctx, rq); err != nil {
			return err
		}
	}
	return nil
}

func (q *quotaStatus) syncQuota(ctx context.Context, rq *corev1.ResourceQuota) error {
	hard := quotav1.ResourceNames(rq.Spec.Hard)
	used := corev1.ResourceList{}
	for name := range rq.Spec.Hard {
		if v, ok := rq.Status.Used[name]; ok {
			used[name] = v
		}
	}
	for gr, lister := range q.listers {
		e := q.registry.Get(gr)
		names := e.MatchingResources(hard)
		if len(names) == 0 {
			continue
		}
		u, err := q.usage(rq, e, names, lister)
		if err != nil {
			return err
		}
		for _, n := range names {
			used[n] = u[n]
		}
	}
	next := rq.DeepCopy()
	next.Status.Hard = rq.Spec.Hard
	next.Status.Used = used
	if apiequality.Semantic.DeepEqual(next.Status, rq.Status) {
		return nil
	}
	_, err := q.cfg.Client.CoreV1().ResourceQuotas(rq.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // a newer version is on its way through the informer
	}
	return err
}

// usage sums what the evaluator measures for the quota's resources over
// the namespace's matching objects.
func (q *quotaStatus) usage(rq *corev1.ResourceQuota, e quotav1.Evaluator, names []corev1.ResourceName, l cache.GenericLister) (corev1.ResourceList, error) {
	objs, err := l.ByNamespace(rq.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	total := corev1.ResourceList{}
	for _, n := range names {
		total[n] = zeroFor(rq.Spec.Hard[n])
	}
	// The evaluators match against status.hard, which may not be set yet.
	withHard := rq.DeepCopy()
	withHard.Status.Hard = rq.Spec.Hard
	for _, o := range objs {
		ok, err := e.Matches(withHard, o)
		if err != nil || !ok {
			continue
		}
		u, err := e.Usage(o)
		if err != nil {
			return nil, err
		}
		total = quotav1.Add(total, quotav1.Mask(u, names))
	}
	return total, nil
}

func zeroFor(hard resource.Quantity) resource.Quantity {
	z := hard.DeepCopy()
	z.Set(0)
	return z
}

// creatorBindingName is the RoleBinding the namespace-creator controller
// keeps in each namespace it hands over.
const creatorBindingName = "kauth:namespace-creator"

// NamespaceCreatorRole is the ClusterRole that lets its subjects create
// namespaces, and nothing else; the NamespaceCreator plugin and its
// controller make them admins of the namespaces they create.
const NamespaceCreatorRole = "namespace-creator"

// creatorBindings is the namespace-creator controller: it keeps the
// namespace-creator ClusterRole, and binds the user recorded in a
// namespace's [CreatedByAnnotation] to the admin ClusterRole in that
// namespace.
type creatorBindings struct {
	cfg    Config
	queue  workqueue.TypedRateLimitingInterface[string]
	ns     cache.SharedIndexInformer
	synced []cache.InformerSynced
}

func newCreatorBindings(cfg Config) *creatorBindings {
	c := &creatorBindings{cfg: cfg, queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())}
	c.ns = cfg.Informers.Core().V1().Namespaces().Informer()
	_, _ = c.ns.AddEventHandler(namespaceKeyed(c.queue, metav1.Object.GetName))
	rb := cfg.Informers.Rbac().V1().RoleBindings().Informer()
	_, _ = rb.AddEventHandler(namespaceKeyed(c.queue, metav1.Object.GetNamespace))
	c.synced = []cache.InformerSynced{c.ns.HasSynced, rb.HasSynced}
	return c
}

func (c *creatorBindings) run(ctx context.Context, synced func()) {
	if err := c.ensureRole(ctx); err != nil && ctx.Err() == nil {
		// The role is recreated by the next namespace event's sync.
		c.queue.Add("")
	}
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	for _, name := range c.ns.GetStore().ListKeys() {
		if err := c.sync(ctx, name); err != nil {
			c.queue.AddRateLimited(name)
		}
	}
	synced()
	drain(ctx, c.queue, c.sync)
}

// ensureRole creates the namespace-creator ClusterRole when missing.
func (c *creatorBindings) ensureRole(ctx context.Context) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: NamespaceCreatorRole, Labels: map[string]string{"app.kubernetes.io/managed-by": "kauth"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create"}}},
	}
	_, err := c.cfg.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (c *creatorBindings) sync(ctx context.Context, name string) error {
	if name == "" {
		return c.ensureRole(ctx)
	}
	obj, ok, err := c.ns.GetStore().GetByKey(name)
	if err != nil || !ok {
		return err
	}
	ns := obj.(*corev1.Namespace)
	creator := ns.Annotations[CreatedByAnnotation]
	if creator == "" || ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	want := creatorBinding(ns, creator)
	cur, err := c.cfg.Client.RbacV1().RoleBindings(ns.Name).Get(ctx, creatorBindingName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = c.cfg.Client.RbacV1().RoleBindings(ns.Name).Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	case err != nil:
		return err
	case apiequality.Semantic.DeepEqual(cur.Subjects, want.Subjects) && cur.RoleRef == want.RoleRef:
		return nil
	}
	// The role reference is immutable: replace the binding.
	if err := c.cfg.Client.RbacV1().RoleBindings(ns.Name).Delete(ctx, creatorBindingName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	_, err = c.cfg.Client.RbacV1().RoleBindings(ns.Name).Create(ctx, want, metav1.CreateOptions{})
	return err
}

// creatorBinding binds the creator (a user, or a service account by its
// system:serviceaccount:NS:NAME username) to admin in the namespace.
func creatorBinding(ns *corev1.Namespace, creator string) *rbacv1.RoleBinding {
	subject := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: creator}
	if rest, ok := strings.CutPrefix(creator, "system:serviceaccount:"); ok {
		if saNS, saName, ok := strings.Cut(rest, ":"); ok {
			subject = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: saNS, Name: saName}
		}
	}
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name: creatorBindingName, Namespace: ns.Name,
			Annotations: map[string]string{CreatedByAnnotation: creator},
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "kauth"},
		},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{subject},
	}
}
