package tokens

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/go-jose/go-jose.v2/jwt"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	apiserverjwt "k8s.io/apiserver/pkg/authentication/token/jwt"
	"k8s.io/client-go/util/keyutil"
)

// LegacyIssuer is the issuer of the Secret-based service-account tokens
// that predate bound tokens.
const LegacyIssuer = "kubernetes/serviceaccount"

// VerifyOptions say what a service-account token is checked against, as
// kube-apiserver's flags do.
type VerifyOptions struct {
	// KeyFile holds the public keys (--service-account-key-file): PEM
	// public keys, private keys or both. Without it the signature is not
	// checked.
	KeyFile string
	// Issuers are accepted issuers (--service-account-issuer); empty
	// accepts any.
	Issuers []string
	// Audiences are the API audiences (--api-audiences); the token must
	// carry one of them. Empty skips the check.
	Audiences []string
	Now       time.Time
}

// JWTInfo is what kube-apiserver reads from a service-account JWT.
type JWTInfo struct {
	Algorithm  string   `json:"algorithm"`
	KeyID      string   `json:"keyID,omitempty"`
	Issuer     string   `json:"issuer"`
	Subject    string   `json:"subject"`
	Audiences  []string `json:"audiences,omitempty"`
	ID         string   `json:"jti,omitempty"`
	IssuedAt   string   `json:"issuedAt,omitempty"`
	NotBefore  string   `json:"notBefore,omitempty"`
	Expiration string   `json:"expiration,omitempty"`
	// ExpiresInSeconds is the time left; negative when expired.
	ExpiresInSeconds  *int64 `json:"expiresInSeconds,omitempty"`
	Namespace         string `json:"namespace,omitempty"`
	ServiceAccount    string `json:"serviceAccount,omitempty"`
	ServiceAccountUID string `json:"serviceAccountUID,omitempty"`
	Pod               string `json:"pod,omitempty"`
	PodUID            string `json:"podUID,omitempty"`
	Node              string `json:"node,omitempty"`
	NodeUID           string `json:"nodeUID,omitempty"`
	Legacy            bool   `json:"legacy,omitempty"`
	// SignatureVerified is true when a key from KeyFile verified it.
	SignatureVerified bool      `json:"signatureVerified"`
	User              *UserInfo `json:"user,omitempty"`
	// Problems say why kube-apiserver would refuse the token; Notes name
	// checks that could not be made offline. [Decoded] carries both.
	Problems []string `json:"-"`
	Notes    []string `json:"-"`
}

// legacyClaims are the claims of Secret-based tokens.
type legacyClaims struct {
	Namespace  string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
	SAName     string `json:"kubernetes.io/serviceaccount/service-account.name"`
	SAUID      string `json:"kubernetes.io/serviceaccount/service-account.uid"`
}

// ErrNotJWT is returned for a token that is not a compact signed JWT.
var ErrNotJWT = errors.New("not a signed JWT")

// InspectJWT reads a service-account token the way kube-apiserver's
// service-account authenticator does: issuer, signature against every
// key, audiences, then exp, nbf and iat with its one-minute leeway, then
// the kubernetes.io claims. It cannot look the service account, pod or
// secret up in a cluster; Notes say so.
func InspectJWT(token string, opts VerifyOptions) (*JWTInfo, error) {
	tok, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJWT, err)
	}
	var public jwt.Claims
	var private PrivateClaims
	var legacy legacyClaims
	if err := tok.UnsafeClaimsWithoutVerification(&public, &private, &legacy); err != nil {
		return nil, fmt.Errorf("%w: reading claims: %v", ErrNotJWT, err)
	}
	info := jwtInfo(tok, &public, opts.Now)
	info.Legacy = public.Issuer == LegacyIssuer
	if len(opts.Issuers) > 0 && !slices.Contains(opts.Issuers, public.Issuer) {
		info.problem("issuer %q is not one of %s: kube-apiserver's service-account authenticator ignores the token", public.Issuer, strings.Join(opts.Issuers, ", "))
	}
	if err := verifySignature(tok, opts.KeyFile, info); err != nil {
		return nil, err
	}
	if !info.Legacy {
		checkAudiences(&public, opts.Audiences, info)
		checkTimes(&public, opts.Now, info)
	}
	if info.Legacy {
		fillLegacy(&legacy, info)
	} else {
		fillBound(private.Kubernetes, info)
	}
	if info.Namespace != "" && info.ServiceAccount != "" && len(info.Problems) == 0 {
		info.User = saUser(info, public.ID)
	}
	return info, nil
}

func jwtInfo(tok *jwt.JSONWebToken, c *jwt.Claims, now time.Time) *JWTInfo {
	info := &JWTInfo{Issuer: c.Issuer, Subject: c.Subject, Audiences: c.Audience, ID: c.ID, Problems: []string{}}
	if len(tok.Headers) > 0 {
		info.Algorithm, info.KeyID = tok.Headers[0].Algorithm, tok.Headers[0].KeyID
	}
	stamp := func(d *jwt.NumericDate) string {
		if d == nil {
			return ""
		}
		return d.Time().UTC().Format(time.RFC3339)
	}
	info.IssuedAt, info.NotBefore, info.Expiration = stamp(c.IssuedAt), stamp(c.NotBefore), stamp(c.Expiry)
	if c.Expiry != nil {
		left := int64(c.Expiry.Time().Sub(now) / time.Second)
		info.ExpiresInSeconds = &left
	}
	return info
}

func verifySignature(tok *jwt.JSONWebToken, keyFile string, info *JWTInfo) error {
	if keyFile == "" {
		info.Notes = append(info.Notes, "signature not checked: give --key with the public key (kube-apiserver's --service-account-key-file)")
		return nil
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("reading key file: %w", err)
	}
	keys, err := keyutil.ParsePublicKeysPEM(data)
	if err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	for _, k := range keys {
		var c jwt.Claims
		if tok.Claims(k, &c) == nil {
			info.SignatureVerified = true
			return nil
		}
	}
	info.problem("signature does not verify with any key in %s: the token was signed with another key", keyFile)
	return nil
}

// checkAudiences applies kube-apiserver's rule: the token's audiences must
// intersect the API audiences.
func checkAudiences(c *jwt.Claims, apiAudiences []string, info *JWTInfo) {
	if len(apiAudiences) == 0 {
		return
	}
	for _, a := range c.Audience {
		if slices.Contains(apiAudiences, a) {
			return
		}
	}
	info.problem("audiences %q do not include any of the API audiences %q", []string(c.Audience), apiAudiences)
}

func checkTimes(c *jwt.Claims, now time.Time, info *JWTInfo) {
	switch err := c.Validate(jwt.Expected{Time: now}); {
	case err == nil:
	case errors.Is(err, jwt.ErrExpired):
		info.problem("exp: the token expired at %s", info.Expiration)
	case errors.Is(err, jwt.ErrNotValidYet):
		info.problem("nbf: the token is not valid before %s", info.NotBefore)
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		info.problem("iat: the token is issued in the future (%s)", info.IssuedAt)
	default:
		info.problem("claims: %v", err)
	}
	if c.Expiry == nil {
		info.problem("exp: missing; bound service-account tokens always expire")
	}
}

func fillBound(k *KubernetesClaims, info *JWTInfo) {
	if k == nil {
		info.problem("kubernetes.io: missing; not a Kubernetes service-account token")
		return
	}
	info.Namespace, info.ServiceAccount, info.ServiceAccountUID = k.Namespace, k.ServiceAccount.Name, k.ServiceAccount.UID
	if k.Pod != nil {
		info.Pod, info.PodUID = k.Pod.Name, k.Pod.UID
	}
	if k.Node != nil {
		info.Node, info.NodeUID = k.Node.Name, k.Node.UID
	}
	if k.Namespace == "" || k.ServiceAccount.Name == "" {
		info.problem("kubernetes.io: namespace and serviceaccount.name are required")
	}
	if k.ServiceAccount.UID == "" {
		info.Notes = append(info.Notes, "kubernetes.io.serviceaccount.uid is empty: kube-apiserver refuses the token when it checks the service account's uid")
	}
	info.Notes = append(info.Notes, "not checked offline: that the service account (and any pod, secret or node bound in the token) still exists with the same uid")
}

func fillLegacy(l *legacyClaims, info *JWTInfo) {
	info.Namespace, info.ServiceAccount, info.ServiceAccountUID = l.Namespace, l.SAName, l.SAUID
	if l.Namespace == "" || l.SAName == "" || l.SecretName == "" {
		info.problem("legacy token: the kubernetes.io/serviceaccount/* claims are incomplete")
	}
	info.Notes = append(info.Notes, "legacy Secret-based token: kube-apiserver accepts it only while its Secret exists and the token is not marked invalid")
}

// saUser builds the user as kube-apiserver's ServiceAccountInfo does,
// with the credential id derived from the jti.
func saUser(info *JWTInfo, jti string) *UserInfo {
	sa := apiserverserviceaccount.ServiceAccountInfo{
		Name: info.ServiceAccount, Namespace: info.Namespace, UID: info.ServiceAccountUID,
		PodName: info.Pod, PodUID: info.PodUID, NodeName: info.Node, NodeUID: info.NodeUID,
		CredentialID: apiserverjwt.CredentialIDForJTI(jti),
	}
	u := sa.UserInfo()
	return withAuthenticated(&UserInfo{Username: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(), Extra: u.GetExtra()})
}

func (j *JWTInfo) problem(format string, args ...any) {
	j.Problems = append(j.Problems, fmt.Sprintf(format, args...))
}
