package localserver

import (
	"context"
	"crypto/subtle"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstrapsecretutil "k8s.io/cluster-bootstrap/util/secrets"
	bootstraptokenutil "k8s.io/cluster-bootstrap/util/tokens"
)

// bootstrapTokens authenticates bootstrap tokens against their Secrets in
// kube-system, with the checks of kube-apiserver's bootstrap-token
// authenticator: a token that does not match a valid, unexpired Secret
// marked for authentication is simply not authenticated (no error), so the
// next authenticator may try it.
type bootstrapTokens struct {
	secrets interface {
		GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	}
	now func() time.Time
}

func (b *bootstrapTokens) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	id, secret, err := bootstraptokenutil.ParseToken(token)
	if err != nil {
		return nil, false, nil
	}
	s, err := b.secrets.GetSecret(ctx, metav1.NamespaceSystem, bootstrapapi.BootstrapTokenSecretPrefix+id)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if s.DeletionTimestamp != nil || s.Type != bootstrapapi.SecretTypeBootstrapToken || s.Data == nil {
		return nil, false, nil
	}
	stored := bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenSecretKey)
	if subtle.ConstantTimeCompare([]byte(stored), []byte(secret)) != 1 {
		return nil, false, nil
	}
	if bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenIDKey) != id {
		return nil, false, nil
	}
	if bootstrapsecretutil.HasExpired(s, b.now()) {
		return nil, false, nil
	}
	if bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenUsageAuthentication) != "true" {
		return nil, false, nil
	}
	groups, err := bootstrapsecretutil.GetGroups(s)
	if err != nil {
		return nil, false, nil
	}
	return &authenticator.Response{User: &user.DefaultInfo{Name: bootstrapapi.BootstrapUserPrefix + id, Groups: groups}}, true, nil
}
