package localserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	jose "gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	jwtcred "k8s.io/apiserver/pkg/authentication/token/jwt"

	"github.com/kauth/kauth/internal/tokens"
)

// TokenRequest limits, as kube-apiserver's serviceaccounts/token storage
// has them.
const (
	defaultTokenExpirationSeconds = 3600
	minTokenExpirationSeconds     = 600
)

// objectGetter reads the live objects a service-account token is bound
// to. The store implements it; errors are apierrors (NotFound).
type objectGetter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
}

// saTokens issues and verifies service-account JWTs.
type saTokens struct {
	issuer    string // the first issuer signs
	issuers   map[string]bool
	audiences authenticator.Audiences // the API audiences: the issuers
	signer    jose.Signer
	keys      []verifyKey
	getter    objectGetter
	now       func() time.Time
	// labelSecret stamps legacy token Secrets with their last use; nil
	// leaves them alone.
	labelSecret func(ctx context.Context, secret *corev1.Secret, key, value string) error
}

type verifyKey struct {
	id  string
	key any
}

func newSATokens(c *Config, p *PKI, getter objectGetter) (*saTokens, error) {
	issuers := c.issuers()
	t := &saTokens{issuer: issuers[0], issuers: map[string]bool{}, audiences: issuers, getter: getter, now: c.now}
	for _, iss := range issuers {
		t.issuers[iss] = true
	}
	signer, _, _, err := tokens.NewSigner(p.SAKey)
	if err != nil {
		return nil, fmt.Errorf("service-account signing key: %w", err)
	}
	t.signer = signer
	for _, k := range p.SAPublicKeys {
		id, err := tokens.KeyID(k)
		if err != nil {
			return nil, fmt.Errorf("service-account public key: %w", err)
		}
		t.keys = append(t.keys, verifyKey{id: id, key: k})
	}
	return t, nil
}

// TokenRequest fills req.Status for a TokenRequest on sa, as kube-apiserver
// does: default and bounded expiration, audiences defaulting to the API
// audiences, an optional bound Pod or Secret that must exist with the given
// uid, and a fresh jti.
func (t *saTokens) TokenRequest(ctx context.Context, sa *corev1.ServiceAccount, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	out := req.DeepCopy()
	spec := &out.Spec
	if spec.ExpirationSeconds == nil {
		spec.ExpirationSeconds = ptrInt64(defaultTokenExpirationSeconds)
	}
	if *spec.ExpirationSeconds < minTokenExpirationSeconds {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: "authentication.k8s.io", Kind: "TokenRequest"}, "",
			field.ErrorList{field.Invalid(field.NewPath("spec", "expirationSeconds"), *spec.ExpirationSeconds, "may not specify a duration less than 10 minutes")})
	}
	if len(spec.Audiences) == 0 {
		spec.Audiences = append([]string(nil), t.audiences...)
	}
	priv := tokens.PrivateClaims{Kubernetes: &tokens.KubernetesClaims{Namespace: sa.Namespace, ServiceAccount: tokens.ObjectRef{Name: sa.Name, UID: string(sa.UID)}}}
	if ref := spec.BoundObjectRef; ref != nil {
		if err := t.bind(ctx, sa.Namespace, ref, &priv); err != nil {
			return nil, err
		}
	}
	now := t.now()
	exp := now.Add(time.Duration(*spec.ExpirationSeconds) * time.Second)
	pub := jwt.Claims{
		Issuer:    t.issuer,
		Subject:   apiserverserviceaccount.MakeUsername(sa.Namespace, sa.Name),
		Audience:  jwt.Audience(spec.Audiences),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	}
	tok, err := jwt.Signed(t.signer).Claims(priv).Claims(pub).CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("signing service-account token: %w", err)
	}
	out.Status = authenticationv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(exp)}
	return out, nil
}

func (t *saTokens) bind(ctx context.Context, ns string, ref *authenticationv1.BoundObjectReference, priv *tokens.PrivateClaims) error {
	var uid, kind string
	switch {
	case ref.Kind == "Pod" && (ref.APIVersion == "v1" || ref.APIVersion == ""):
		pod, err := t.getter.GetPod(ctx, ns, ref.Name)
		if err != nil {
			return err
		}
		uid, kind = string(pod.UID), "Pod"
		priv.Kubernetes.Pod = &tokens.ObjectRef{Name: pod.Name, UID: uid}
	case ref.Kind == "Secret" && (ref.APIVersion == "v1" || ref.APIVersion == ""):
		sec, err := t.getter.GetSecret(ctx, ns, ref.Name)
		if err != nil {
			return err
		}
		uid, kind = string(sec.UID), "Secret"
		priv.Kubernetes.Secret = &tokens.ObjectRef{Name: sec.Name, UID: uid}
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s, %s (Pod or Secret in v1)", ref.APIVersion, ref.Kind))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return apierrors.NewConflict(schema.GroupResource{Resource: strings.ToLower(kind) + "s"}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return nil
}

// AuthenticateToken verifies a service-account JWT as kube-apiserver's JWT
// authenticator does: a token of another issuer is not ours (no error);
// then signature, issuer, audiences, time, and the live ServiceAccount (and
// bound Pod or Secret) with matching uids.
func (t *saTokens) AuthenticateToken(ctx context.Context, token string) (*authenticator.Response, bool, error) {
	if !t.hasOurIssuer(token) {
		return nil, false, nil
	}
	tok, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, false, nil
	}
	var kid string
	for _, h := range tok.Headers {
		if h.KeyID != "" {
			kid = h.KeyID
			break
		}
	}
	pub, priv, legacy := &jwt.Claims{}, &tokens.PrivateClaims{}, &legacyClaims{}
	if err := t.verify(tok, kid, pub, priv, legacy); err != nil {
		return nil, false, err
	}
	if pub.Issuer == tokens.LegacyIssuer {
		return t.authenticateLegacy(ctx, token, pub, legacy)
	}
	if !t.issuers[pub.Issuer] {
		return nil, false, fmt.Errorf("token issuer %q is invalid", pub.Issuer)
	}
	auds, err := t.intersectAudiences(ctx, pub)
	if err != nil {
		return nil, false, err
	}
	info, err := t.validate(ctx, pub, priv)
	if err != nil {
		return nil, false, err
	}
	return &authenticator.Response{User: info.UserInfo(), Audiences: auds}, true, nil
}

// intersectAudiences is the token's audiences (the API audiences when it
// names none) that the request accepts; none is an error.
func (t *saTokens) intersectAudiences(ctx context.Context, pub *jwt.Claims) (authenticator.Audiences, error) {
	tokenAuds := authenticator.Audiences(pub.Audience)
	if len(tokenAuds) == 0 {
		tokenAuds = t.audiences
	}
	requested, ok := authenticator.AudiencesFrom(ctx)
	if !ok {
		requested = t.audiences
	}
	auds := tokenAuds.Intersect(requested)
	if len(auds) == 0 {
		return nil, fmt.Errorf("token audiences %q is invalid for the target audiences %q", tokenAuds, requested)
	}
	return auds, nil
}

// verify checks the signature with the key the kid names (every key when
// there is none) and decodes the claims into dst.
func (t *saTokens) verify(tok *jwt.JSONWebToken, kid string, dst ...any) error {
	var errs []error
	for _, k := range t.keys {
		if kid != "" && k.id != kid {
			continue
		}
		if err := tok.Claims(k.key, dst...); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	if len(errs) == 0 {
		return errors.New("invalid signature, no keys found")
	}
	return errors.Join(errs...)
}

func (t *saTokens) validate(ctx context.Context, pub *jwt.Claims, priv *tokens.PrivateClaims) (*apiserverserviceaccount.ServiceAccountInfo, error) {
	now := t.now()
	switch err := pub.Validate(jwt.Expected{Time: now}); {
	case err == nil:
	case errors.Is(err, jwt.ErrExpired):
		return nil, errors.New("service account token has expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, errors.New("service account token is not valid yet")
	default:
		return nil, errors.New("service account token claims could not be validated due to unexpected validation error")
	}
	// Objects deleted before now-leeway no longer back a token.
	deletedBefore := now.Add(-jwt.DefaultLeeway)
	k := priv.Kubernetes
	if k == nil {
		// A token without the claim names no service account: the lookup
		// below refuses it.
		k = &tokens.KubernetesClaims{}
	}
	sa, err := t.getter.GetServiceAccount(ctx, k.Namespace, k.ServiceAccount.Name)
	if err != nil {
		return nil, err
	}
	if sa.DeletionTimestamp != nil && sa.DeletionTimestamp.Time.Before(deletedBefore) {
		return nil, fmt.Errorf("service account %s/%s has been deleted", k.Namespace, k.ServiceAccount.Name)
	}
	if string(sa.UID) != k.ServiceAccount.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, k.ServiceAccount.UID)
	}
	info := &apiserverserviceaccount.ServiceAccountInfo{Namespace: k.Namespace, Name: k.ServiceAccount.Name, UID: k.ServiceAccount.UID, CredentialID: jwtcred.CredentialIDForJTI(pub.ID)}
	if k.Secret != nil {
		sec, err := t.getter.GetSecret(ctx, k.Namespace, k.Secret.Name)
		if err != nil || (sec.DeletionTimestamp != nil && sec.DeletionTimestamp.Time.Before(deletedBefore)) {
			return nil, errors.New("service account token has been invalidated")
		}
		if string(sec.UID) != k.Secret.UID {
			return nil, fmt.Errorf("secret UID (%s) does not match service account secret ref claim (%s)", sec.UID, k.Secret.UID)
		}
	}
	if k.Pod != nil {
		pod, err := t.getter.GetPod(ctx, k.Namespace, k.Pod.Name)
		if err != nil || (pod.DeletionTimestamp != nil && pod.DeletionTimestamp.Time.Before(deletedBefore)) {
			return nil, errors.New("service account token has been invalidated")
		}
		if string(pod.UID) != k.Pod.UID {
			return nil, fmt.Errorf("pod UID (%s) does not match service account pod ref claim (%s)", pod.UID, k.Pod.UID)
		}
		info.PodName, info.PodUID = k.Pod.Name, k.Pod.UID
	}
	return info, nil
}

// hasOurIssuer peeks at the unverified "iss" claim, so that tokens of other
// issuers pass to the next authenticator without an error. The legacy
// issuer of Secret-based tokens is always ours, as kube-apiserver always
// runs its legacy token authenticator.
func (t *saTokens) hasOurIssuer(token string) bool {
	if strings.HasPrefix(strings.TrimSpace(token), "{") {
		return false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		// Unverified: only used to route the token.
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return false
	}
	return t.issuers[claims.Issuer] || claims.Issuer == tokens.LegacyIssuer
}

func ptrInt64(v int64) *int64 { return &v }
