package api

import (
	"context"
	"fmt"
	"net/http"

	authenticationv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/localserver/storage"
)

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
	store   storage.Interface
	hooks   Hooks
	handler http.Handler
}

// New builds the REST layer over store.
func New(store storage.Interface, hooks Hooks) (*API, error) {
	if store == nil {
		return nil, fmt.Errorf("new api: store is nil")
	}
	a := &API{store: store, hooks: hooks}
	a.handler = http.NotFoundHandler()
	return a, nil
}

// Handler returns the http.Handler serving the API. It expects
// request.RequestInfo and user.Info in the request context.
func (a *API) Handler() http.Handler { return a.handler }
