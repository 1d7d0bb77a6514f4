package localserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"gopkg.in/go-jose/go-jose.v2/jwt"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/warning"

	"github.com/kauth/kauth/internal/tokens"
)

// Labels kube-apiserver reads and writes on the Secrets of legacy tokens.
const (
	// legacyInvalidSinceLabel marks a token Secret whose token no longer
	// authenticates (kube-controller-manager's legacy token cleaner sets it).
	legacyInvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since"
	// legacyLastUsedLabel is the day a legacy token last authenticated.
	legacyLastUsedLabel = "kubernetes.io/legacy-token-last-used"
)

// legacyClaims are the private claims of a Secret-based service-account
// token, the kind kube-controller-manager's tokens controller writes into
// Secrets of type kubernetes.io/service-account-token.
type legacyClaims struct {
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
}

// legacyToken signs the token of sa that secret holds: the legacy issuer,
// the service account's username as subject, no audience and no expiry.
func (t *saTokens) legacyToken(sa *corev1.ServiceAccount, secret *corev1.Secret) (string, error) {
	pub := jwt.Claims{Issuer: tokens.LegacyIssuer, Subject: apiserverserviceaccount.MakeUsername(sa.Namespace, sa.Name)}
	priv := legacyClaims{ServiceAccountName: sa.Name, ServiceAccountUID: string(sa.UID), SecretName: secret.Name, Namespace: sa.Namespace}
	tok, err := jwt.Signed(t.signer).Claims(priv).Claims(pub).CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("signing service-account token: %w", err)
	}
	return tok, nil
}

// authenticateLegacy checks a verified legacy token as kube-apiserver's
// legacy validator does with --service-account-lookup: the claims, then
// the Secret that holds the very same token, then the live ServiceAccount
// with the claimed uid, then the invalid-since label; a token that passes
// stamps its Secret with the day it was used.
func (t *saTokens) authenticateLegacy(ctx context.Context, token string, pub *jwt.Claims, priv *legacyClaims) (*authenticator.Response, bool, error) {
	info, err := t.validateLegacy(ctx, token, pub, priv)
	if err != nil {
		return nil, false, err
	}
	auds, err := t.intersectAudiences(ctx, pub)
	if err != nil {
		return nil, false, err
	}
	return &authenticator.Response{User: info.UserInfo(), Audiences: auds}, true, nil
}

func (t *saTokens) validateLegacy(ctx context.Context, token string, pub *jwt.Claims, priv *legacyClaims) (*apiserverserviceaccount.ServiceAccountInfo, error) {
	switch {
	case pub.Subject == "":
		return nil, errors.New("sub claim is missing")
	case priv.Namespace == "":
		return nil, errors.New("namespace claim is missing")
	case priv.SecretName == "":
		return nil, errors.New("secretName claim is missing")
	case priv.ServiceAccountName == "":
		return nil, errors.New("serviceAccountName claim is missing")
	case priv.ServiceAccountUID == "":
		return nil, errors.New("serviceAccountUID claim is missing")
	}
	ns, name, err := apiserverserviceaccount.SplitUsername(pub.Subject)
	if err != nil || ns != priv.Namespace || name != priv.ServiceAccountName {
		return nil, errors.New("sub claim is invalid")
	}
	secret, err := t.getter.GetSecret(ctx, ns, priv.SecretName)
	if err != nil || secret.DeletionTimestamp != nil {
		return nil, errors.New("Token has been invalidated") //nolint:staticcheck // kube-apiserver's message
	}
	if subtle.ConstantTimeCompare(secret.Data[corev1.ServiceAccountTokenKey], []byte(token)) == 0 {
		return nil, errors.New("Token does not match server's copy") //nolint:staticcheck // kube-apiserver's message
	}
	sa, err := t.getter.GetServiceAccount(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	if sa.DeletionTimestamp != nil {
		return nil, fmt.Errorf("ServiceAccount %s/%s has been deleted", ns, name)
	}
	if string(sa.UID) != priv.ServiceAccountUID {
		return nil, fmt.Errorf("ServiceAccount UID (%s) does not match claim (%s)", sa.UID, priv.ServiceAccountUID)
	}
	if secret.Labels[legacyInvalidSinceLabel] != "" {
		audit.AddAuditAnnotation(ctx, "authentication.k8s.io/legacy-token-invalidated", secret.Name+"/"+secret.Namespace)
		t.markLegacyUsed(ctx, secret)
		return nil, fmt.Errorf("the token in secret %s/%s for service account %s/%s has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '%s' label from the secret to temporarily allow use of this token", ns, secret.Name, ns, name, legacyInvalidSinceLabel)
	}
	autoGenerated := false
	for _, ref := range sa.Secrets {
		if ref.Name == secret.Name {
			autoGenerated = true
			break
		}
	}
	if autoGenerated {
		warning.AddWarning(ctx, "", "Use tokens from the TokenRequest API or manually created secret-based tokens instead of auto-generated secret-based tokens.")
		audit.AddAuditAnnotation(ctx, "authentication.k8s.io/legacy-token-autogenerated-secret", secret.Name)
	} else {
		audit.AddAuditAnnotation(ctx, "authentication.k8s.io/legacy-token-manual-secret", secret.Name)
	}
	t.markLegacyUsed(ctx, secret)
	return &apiserverserviceaccount.ServiceAccountInfo{Namespace: ns, Name: name, UID: priv.ServiceAccountUID}, nil
}

// markLegacyUsed sets the last-used label to today (UTC) unless it already
// says today or tomorrow, as kube-apiserver does; a failure only loses
// the stamp.
func (t *saTokens) markLegacyUsed(ctx context.Context, secret *corev1.Secret) {
	if t.labelSecret == nil {
		return
	}
	now := t.now().UTC()
	today, tomorrow := now.Format("2006-01-02"), now.AddDate(0, 0, 1).Format("2006-01-02")
	if last := secret.Labels[legacyLastUsedLabel]; last == today || last == tomorrow {
		return
	}
	_ = t.labelSecret(ctx, secret, legacyLastUsedLabel, today)
}

// storeLabeler sets one label on a stored Secret with the uid it was read
// with, the store's side of the merge patch kube-apiserver sends itself.
func storeLabeler(g storeGetter) func(ctx context.Context, secret *corev1.Secret, key, value string) error {
	return func(ctx context.Context, secret *corev1.Secret, key, value string) error {
		_, err := g.s.GuaranteedUpdate(ctx, gvrSecrets, secret.Namespace, secret.Name, func(cur runtime.Object) (runtime.Object, error) {
			s, ok := cur.(*corev1.Secret)
			if !ok || s.UID != secret.UID {
				return nil, errors.New("the secret changed")
			}
			s = s.DeepCopy()
			if s.Labels == nil {
				s.Labels = map[string]string{}
			}
			s.Labels[key] = value
			return s, nil
		})
		return err
	}
}
