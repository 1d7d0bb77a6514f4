package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/kauth/kauth/internal/localserver/registry"
	"github.com/kauth/kauth/internal/localserver/storage"
)

// maxBodyBytes is kube-apiserver's limit on a request body (3 MiB).
const maxBodyBytes = 3 * 1024 * 1024

// Hooks connect the REST layer to the server's engines. Every field is
// optional: a review or subresource whose hook is nil answers 503
// ServiceUnavailable naming what is not configured.
type Hooks struct {
	// Authorizer answers SubjectAccessReview, LocalSubjectAccessReview and
	// SelfSubjectAccessReview. If it also implements
	// authorizer.RuleResolver it answers SelfSubjectRulesReview.
	Authorizer authorizer.Authorizer
	// TokenAuthenticator answers TokenReview.
	TokenAuthenticator authenticator.Token
	// IssueToken answers the serviceaccounts/token subresource. sa is the
	// live ServiceAccount; req has its spec defaulted (audiences,
	// expirationSeconds) and validated.
	IssueToken func(ctx context.Context, sa *corev1.ServiceAccount, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)
	// SignCSR signs an approved CertificateSigningRequest for the
	// kubernetes.io/kube-apiserver-client signer and returns the PEM
	// certificate to put in its status.
	SignCSR func(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) ([]byte, error)
	// Admission, when set, is called for create, update, patch and delete:
	// mutating first (if it implements admission.MutationInterface), then
	// validating (admission.ValidationInterface).
	Admission admission.Interface
}

// API is the REST layer. It is safe for concurrent use.
type API struct {
	store       storage.Interface
	hooks       Hooks
	reg         *registry.Registry
	scheme      *runtime.Scheme
	codecs      serializer.CodecFactory
	openapiOnce sync.Once
	openapi     *openapi
	openapiErr  error
	infos       *request.RequestInfoFactory
	now         func() time.Time
	handler     http.Handler
	objIface    admission.ObjectInterfaces

	fmMu          sync.Mutex
	fieldManagers map[fieldManagerKey]*managedfields.FieldManager
}

type fieldManagerKey struct {
	gvk         schema.GroupVersionKind
	subresource string
}

// New builds the REST layer over store.
func New(store storage.Interface, hooks Hooks) (*API, error) {
	if store == nil {
		return nil, fmt.Errorf("new api: store is nil")
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	// Build server-side apply's schema in the background: New stays fast
	// (kauth serve's time to ready) and the first write waits for it.
	go func() { _, _ = typeConverter() }()
	a := &API{
		store: store, hooks: hooks, reg: registry.New(), scheme: scheme,
		codecs: serializer.NewCodecFactory(scheme),
		infos: &request.RequestInfoFactory{
			APIPrefixes:          sets.NewString("api", "apis"),
			GrouplessAPIPrefixes: sets.NewString("api"),
		},
		now:           time.Now,
		objIface:      admission.NewObjectInterfacesFromScheme(scheme),
		fieldManagers: map[fieldManagerKey]*managedfields.FieldManager{},
	}
	a.handler = http.HandlerFunc(a.serveHTTP)
	return a, nil
}

// openapiDocs loads the OpenAPI documents on their first request.
func (a *API) openapiDocs() (*openapi, error) {
	a.openapiOnce.Do(func() {
		if a.openapi, a.openapiErr = loadOpenAPI(); a.openapiErr != nil {
			a.openapiErr = apierrors.NewInternalError(a.openapiErr)
		}
	})
	return a.openapi, a.openapiErr
}

// Registry returns the served kinds, for callers (seeding, controllers)
// that need the resource of a kind.
func (a *API) Registry() *registry.Registry { return a.reg }

// Handler returns the http.Handler serving the API. It expects
// request.RequestInfo and user.Info in the request context; without a
// RequestInfo it derives one from the request as kube-apiserver does.
func (a *API) Handler() http.Handler { return a.handler }

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, metav1.AddMetaToScheme, apidiscoveryv2.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return s, nil
}

func (a *API) serveHTTP(w http.ResponseWriter, req *http.Request) {
	defer func() {
		// A bug must cost one request, never the server.
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.writeError(w, req, apierrors.NewInternalError(fmt.Errorf("%v", r)))
		}
	}()
	info, ok := request.RequestInfoFrom(req.Context())
	if !ok {
		var err error
		if info, err = a.infos.NewRequestInfo(req); err != nil {
			a.writeError(w, req, apierrors.NewBadRequest(err.Error()))
			return
		}
		req = req.WithContext(request.WithRequestInfo(req.Context(), info))
	}
	if !info.IsResourceRequest {
		a.serveNonResource(w, req)
		return
	}
	a.serveResource(w, req, info)
}

// writeError writes err as a metav1.Status in the negotiated format.
func (a *API) writeError(w http.ResponseWriter, req *http.Request, err error) {
	responsewriters.ErrorNegotiated(err, a.codecs, schema.GroupVersion{Version: "v1"}, w, req)
}

func (a *API) writeObject(w http.ResponseWriter, req *http.Request, code int, gv schema.GroupVersion, obj runtime.Object) {
	responsewriters.WriteObjectNegotiated(a.codecs, restrictions{}, gv, w, req, code, obj, false)
}

// notFound is kube-apiserver's answer for a path it does not serve.
func notFound() error {
	return &apierrors.StatusError{ErrStatus: *notFoundStatus.DeepCopy()}
}
