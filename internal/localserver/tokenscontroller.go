package localserver

import (
	"bytes"
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// tokensController is kube-controller-manager's service-account tokens
// controller: a Secret of type kubernetes.io/service-account-token that
// names a live ServiceAccount gets a legacy token, the root CA and the
// namespace; one whose ServiceAccount is gone (or has another uid) is
// deleted, also when the ServiceAccount is deleted later.
type tokensController struct {
	client  kubernetes.Interface
	secrets corelisters.SecretLister
	sas     corelisters.ServiceAccountLister
	synced  []cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]
	sign    func(*corev1.ServiceAccount, *corev1.Secret) (string, error)
	rootCA  []byte
	done    chan struct{} // closed after the first pass
	once    sync.Once
}

func newTokensController(client kubernetes.Interface, f informers.SharedInformerFactory, sa *saTokens, rootCA []byte) *tokensController {
	c := &tokensController{
		client: client,
		queue:  workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		sign:   sa.legacyToken,
		rootCA: rootCA,
		done:   make(chan struct{}),
	}
	secrets := f.Core().V1().Secrets()
	sas := f.Core().V1().ServiceAccounts()
	c.secrets, c.sas = secrets.Lister(), sas.Lister()
	enqueueSecret := func(obj any) {
		if s, ok := obj.(*corev1.Secret); ok && s.Type == corev1.SecretTypeServiceAccountToken {
			if key, err := cache.MetaNamespaceKeyFunc(s); err == nil {
				c.queue.Add(key)
			}
		}
	}
	_, _ = secrets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueSecret,
		UpdateFunc: func(_, n any) { enqueueSecret(n) },
	})
	// A ServiceAccount that goes (or comes back with a new uid) takes its
	// tokens with it.
	enqueueTokensOf := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		sa, ok := obj.(*corev1.ServiceAccount)
		if !ok {
			return
		}
		list, _ := c.secrets.Secrets(sa.Namespace).List(labels.Everything())
		for _, s := range list {
			if s.Type == corev1.SecretTypeServiceAccountToken && s.Annotations[corev1.ServiceAccountNameKey] == sa.Name {
				c.queue.Add(s.Namespace + "/" + s.Name)
			}
		}
	}
	_, _ = sas.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueTokensOf,
		UpdateFunc: func(_, n any) { enqueueTokensOf(n) },
		DeleteFunc: enqueueTokensOf,
	})
	c.synced = []cache.InformerSynced{secrets.Informer().HasSynced, sas.Informer().HasSynced}
	return c
}

// Synced is closed once the Secrets that were there at start are settled.
func (c *tokensController) Synced() <-chan struct{} { return c.done }

// run works until ctx ends.
func (c *tokensController) run(ctx context.Context) {
	defer c.once.Do(func() { close(c.done) })
	go func() { <-ctx.Done(); c.queue.ShutDown() }()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return
	}
	list, _ := c.secrets.List(labels.Everything())
	for _, s := range list {
		if s.Type != corev1.SecretTypeServiceAccountToken {
			continue
		}
		if err := c.sync(ctx, s.Namespace, s.Name); err != nil {
			c.queue.AddRateLimited(s.Namespace + "/" + s.Name)
		}
	}
	c.once.Do(func() { close(c.done) })
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		ns, name, _ := cache.SplitMetaNamespaceKey(key)
		if err := c.sync(ctx, ns, name); err != nil && ctx.Err() == nil {
			c.queue.AddRateLimited(key)
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func (c *tokensController) sync(ctx context.Context, ns, name string) error {
	secret, err := c.secrets.Secrets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || secret.Type != corev1.SecretTypeServiceAccountToken || secret.DeletionTimestamp != nil {
		return err
	}
	if secret.Annotations[corev1.ServiceAccountNameKey] == "" {
		return nil // validation requires the name: such a Secret was never admitted
	}
	sa, err := c.serviceAccount(ctx, secret)
	if err != nil {
		return err
	}
	if sa == nil {
		err := c.client.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &secret.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if !c.needsUpdate(secret) {
		return nil
	}
	// Fill in the live copy, and only if the cache has seen its latest
	// version: an older one means an update is on its way.
	live, err := c.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil || live.ResourceVersion != secret.ResourceVersion || !c.needsUpdate(live) {
		return err
	}
	if live.Data == nil {
		live.Data = map[string][]byte{}
	}
	if live.Annotations == nil {
		live.Annotations = map[string]string{}
	}
	if len(c.rootCA) > 0 {
		live.Data[corev1.ServiceAccountRootCAKey] = c.rootCA
	}
	if len(live.Data[corev1.ServiceAccountNamespaceKey]) == 0 {
		live.Data[corev1.ServiceAccountNamespaceKey] = []byte(ns)
	}
	if len(live.Data[corev1.ServiceAccountTokenKey]) == 0 {
		token, err := c.sign(sa, live)
		if err != nil {
			return err
		}
		live.Data[corev1.ServiceAccountTokenKey] = []byte(token)
	}
	live.Annotations[corev1.ServiceAccountNameKey] = sa.Name
	live.Annotations[corev1.ServiceAccountUIDKey] = string(sa.UID)
	_, err = c.client.CoreV1().Secrets(ns).Update(ctx, live, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// needsUpdate is kube-controller-manager's test: a different root CA, no
// namespace, or no token.
func (c *tokensController) needsUpdate(s *corev1.Secret) bool {
	return (len(c.rootCA) > 0 && !bytes.Equal(s.Data[corev1.ServiceAccountRootCAKey], c.rootCA)) ||
		len(s.Data[corev1.ServiceAccountNamespaceKey]) == 0 ||
		len(s.Data[corev1.ServiceAccountTokenKey]) == 0
}

// serviceAccount is the ServiceAccount the Secret names, with the uid it
// names if any, from the cache and then the server; nil when there is
// none.
func (c *tokensController) serviceAccount(ctx context.Context, s *corev1.Secret) (*corev1.ServiceAccount, error) {
	name, uid := s.Annotations[corev1.ServiceAccountNameKey], s.Annotations[corev1.ServiceAccountUIDKey]
	if sa, err := c.sas.ServiceAccounts(s.Namespace).Get(name); err == nil && (uid == "" || uid == string(sa.UID)) {
		return sa, nil
	}
	sa, err := c.client.CoreV1().ServiceAccounts(s.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if uid == "" || uid == string(sa.UID) {
		return sa, nil
	}
	return nil, nil
}
