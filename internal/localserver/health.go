package localserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/server/healthz"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// healthHandler serves /healthz, /livez and /readyz with kube-apiserver's
// handler (plain "ok", ?verbose lists the checks, /readyz/<check> asks
// one). Ready means the listener accepts requests and an RBAC index is in
// place.
func (s *Server) healthHandler() http.Handler {
	mux := http.NewServeMux()
	ping := healthz.PingHealthz
	started := healthz.NamedCheck("poststarthook/kauth-serve-ready", func(*http.Request) error {
		select {
		case <-s.ready:
			return nil
		default:
			return errors.New("not finished")
		}
	})
	rbacIndex := healthz.NamedCheck("poststarthook/rbac/bootstrap-roles", func(*http.Request) error {
		if s.keeper.current() == nil {
			return errNoIndex
		}
		return nil
	})
	healthz.InstallHandler(mux, ping, rbacIndex)
	healthz.InstallLivezHandler(mux, ping)
	healthz.InstallReadyzHandler(mux, append([]healthz.HealthChecker{ping, started, rbacIndex}, s.breakers...)...)
	return mux
}

// storeGetter reads the objects the authenticators check from the store.
type storeGetter struct{ s storage.Interface }

func (g storeGetter) GetServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return getTyped[*corev1.ServiceAccount](ctx, g.s, gvrServiceAccounts, ns, name)
}

func (g storeGetter) GetSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return getTyped[*corev1.Secret](ctx, g.s, gvrSecrets, ns, name)
}

func (g storeGetter) GetPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return getTyped[*corev1.Pod](ctx, g.s, gvrPods, ns, name)
}

func getTyped[T runtime.Object](ctx context.Context, s storage.Interface, gvr schema.GroupVersionResource, ns, name string) (T, error) {
	var zero T
	obj, err := s.Get(ctx, gvr, ns, name)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("%s %s/%s: store returned %T", gvr.Resource, ns, name, obj)
	}
	return t, nil
}
