package localserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/localserver/storage"
	"github.com/kauth/kauth/internal/rbac"
)

// The resources of the four RBAC kinds, as the store keys them.
var (
	gvrRoles               = rbacv1.SchemeGroupVersion.WithResource("roles")
	gvrClusterRoles        = rbacv1.SchemeGroupVersion.WithResource("clusterroles")
	gvrRoleBindings        = rbacv1.SchemeGroupVersion.WithResource("rolebindings")
	gvrClusterRoleBindings = rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")
)

func rbacResources() []schema.GroupVersionResource {
	return []schema.GroupVersionResource{gvrClusterRoles, gvrRoles, gvrClusterRoleBindings, gvrRoleBindings}
}

// indexAuthorizer is what the server needs of an rbac.Index.
type indexAuthorizer interface {
	authorizer.UnconditionalAuthorizer
	authorizer.RuleResolver
}

// rbacKeeper keeps an RBAC index current from the store: every change to
// an RBAC object kicks a rebuild; kicks that arrive during a rebuild
// coalesce into one more, and requests always see a complete index,
// swapped in atomically. Like kube-controller-manager's clusterrole
// aggregation controller, it writes aggregated rules back to the store.
type rbacKeeper struct {
	store storage.Interface
	log   *slog.Logger
	idx   atomic.Pointer[indexAuthorizer]
	kick  chan struct{}

	mu      sync.Mutex
	builtRV uint64        // every change at or below builtRV is in the index
	built   chan struct{} // closed and replaced after each rebuild
}

func newRBACKeeper(store storage.Interface, log *slog.Logger) *rbacKeeper {
	return &rbacKeeper{store: store, log: log, kick: make(chan struct{}, 1), built: make(chan struct{})}
}

func (k *rbacKeeper) current() indexAuthorizer {
	p := k.idx.Load()
	if p == nil {
		return nil
	}
	return *p
}

// rebuild lists the four kinds, aggregates and indexes them, and swaps the
// index in.
func (k *rbacKeeper) rebuild(ctx context.Context) error {
	rv := k.store.ResourceVersion()
	p := &rbac.Policy{}
	for _, gvr := range rbacResources() {
		res, err := k.store.List(ctx, gvr, "", storage.ListOptions{})
		if err != nil {
			return fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
		for _, obj := range res.Items {
			addToPolicy(p, obj)
		}
	}
	changed := rbac.Aggregate(p)
	var idx any = rbac.NewIndex(p)
	ia, ok := idx.(indexAuthorizer)
	if !ok {
		return errors.New("rbac.Index does not implement authorizer.Authorizer and RuleResolver")
	}
	k.idx.Store(&ia)
	k.mu.Lock()
	k.builtRV = rv
	close(k.built)
	k.built = make(chan struct{})
	k.mu.Unlock()
	return k.writeAggregated(ctx, p, changed)
}

func addToPolicy(p *rbac.Policy, obj runtime.Object) {
	switch o := obj.(type) {
	case *rbacv1.ClusterRole:
		p.ClusterRoles = append(p.ClusterRoles, o)
	case *rbacv1.Role:
		p.Roles = append(p.Roles, o)
	case *rbacv1.ClusterRoleBinding:
		p.ClusterRoleBindings = append(p.ClusterRoleBindings, o)
	case *rbacv1.RoleBinding:
		p.RoleBindings = append(p.RoleBindings, o)
	}
}

// writeAggregated stores the aggregated rules of the ClusterRoles whose
// rules changed, so that reads show what kube-controller-manager would
// have written. The write kicks one more rebuild, which finds nothing new.
func (k *rbacKeeper) writeAggregated(ctx context.Context, p *rbac.Policy, changed []string) error {
	rules := map[string][]rbacv1.PolicyRule{}
	for _, cr := range p.ClusterRoles {
		rules[cr.Name] = cr.Rules
	}
	for _, name := range changed {
		_, err := k.store.GuaranteedUpdate(ctx, gvrClusterRoles, "", name, func(cur runtime.Object) (runtime.Object, error) {
			cr, ok := cur.(*rbacv1.ClusterRole)
			if !ok {
				return nil, fmt.Errorf("clusterroles/%s: unexpected %T", name, cur)
			}
			cr.Rules = rules[name]
			return cr, nil
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("writing aggregated rules of clusterrole %s: %w", name, err)
		}
	}
	return nil
}

// run watches the RBAC kinds from rv and rebuilds on every change until ctx
// ends.
func (k *rbacKeeper) run(ctx context.Context, rv uint64) {
	for _, gvr := range rbacResources() {
		go k.watch(ctx, gvr, rv)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.kick:
			if err := k.rebuild(ctx); err != nil && ctx.Err() == nil {
				k.log.Error("rebuilding the RBAC index", "err", err)
			}
		}
	}
}

func (k *rbacKeeper) trigger() {
	select {
	case k.kick <- struct{}{}:
	default: // a rebuild is already pending; it will see this change too
	}
}

// watch forwards changes of one resource as kicks. When a watch ends it
// restarts after a rebuild, from the version that rebuild saw, so no
// change is missed.
func (k *rbacKeeper) watch(ctx context.Context, gvr schema.GroupVersionResource, rv uint64) {
	for ctx.Err() == nil {
		w, err := k.store.Watch(ctx, gvr, "", storage.WatchOptions{ResourceVersion: strconv.FormatUint(rv, 10)})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			k.log.Error("watching RBAC objects", "resource", gvr.Resource, "err", err)
			rv = k.store.ResourceVersion()
			k.trigger()
			continue
		}
		rv = k.drain(ctx, w, rv)
		w.Stop()
	}
}

func (k *rbacKeeper) drain(ctx context.Context, w watch.Interface, rv uint64) uint64 {
	for {
		select {
		case <-ctx.Done():
			return rv
		case ev, ok := <-w.ResultChan():
			if !ok {
				// Restart from now and rebuild, covering whatever the
				// closed watch did not deliver.
				rv = k.store.ResourceVersion()
				k.trigger()
				return rv
			}
			if ev.Type == watch.Error {
				rv = k.store.ResourceVersion()
				k.trigger()
				return rv
			}
			if m, ok := ev.Object.(interface{ GetResourceVersion() string }); ok {
				if n, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64); err == nil {
					rv = n
				}
			}
			k.trigger()
		}
	}
}

// waitFor blocks until the index includes every change up to rv, or ctx
// ends; it asks for a rebuild if the index is older. Tests and the readiness check use it instead of sleeping.
func (k *rbacKeeper) waitFor(ctx context.Context, rv uint64) error {
	for {
		k.mu.Lock()
		done, ch := k.builtRV >= rv, k.built
		k.mu.Unlock()
		if done {
			return nil
		}
		// A rebuild reads the store's current version, which is >= rv.
		k.trigger()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
