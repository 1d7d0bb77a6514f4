package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/go-jose/go-jose.v2"
	"gopkg.in/go-jose/go-jose.v2/jwt"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	apiserverserviceaccount "k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/util/keyutil"
)

// KubernetesClaims is the "kubernetes.io" claim of a bound service-account
// token, with kube-apiserver's field names. The CLI and the local server
// both sign and read it, so the wire form is defined once here.
type KubernetesClaims struct {
	Namespace      string           `json:"namespace,omitempty"`
	ServiceAccount ObjectRef        `json:"serviceaccount,omitempty"`
	Pod            *ObjectRef       `json:"pod,omitempty"`
	Secret         *ObjectRef       `json:"secret,omitempty"`
	Node           *ObjectRef       `json:"node,omitempty"`
	WarnAfter      *jwt.NumericDate `json:"warnafter,omitempty"`
}

// ObjectRef names an object a token is bound to.
type ObjectRef struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// PrivateClaims are the private claims of a bound service-account token;
// pass them to jwt.Builder.Claims or jwt.JSONWebToken.Claims next to the
// registered jwt.Claims.
type PrivateClaims struct {
	Kubernetes *KubernetesClaims `json:"kubernetes.io,omitempty"`
}

// IssueRequest asks for a bound-style service-account token.
type IssueRequest struct {
	// SigningKeyFile is a PEM RSA or ECDSA private key, as given to
	// kube-apiserver's --service-account-signing-key-file.
	SigningKeyFile string
	Issuer         string
	Namespace      string
	Name           string
	UID            string
	// Audiences default to the issuer, as kube-apiserver's --api-audiences
	// defaults to --service-account-issuer.
	Audiences []string
	TTL       time.Duration
	Now       time.Time
	// Rand is the source for the jti and for ECDSA signatures
	// (crypto/rand.Reader when nil).
	Rand io.Reader
}

// IssuedToken is a signed service-account token.
type IssuedToken struct {
	Token      string   `json:"token"`
	Algorithm  string   `json:"algorithm"`
	KeyID      string   `json:"keyID"`
	Subject    string   `json:"subject"`
	Audiences  []string `json:"audiences"`
	Expiration string   `json:"expiration"`
	// Warnings are reasons a real cluster may still refuse the token.
	Warnings []string `json:"warnings,omitempty"`
}

// IssueServiceAccountToken signs a token with the claims kube-apiserver
// puts in the tokens it issues through the TokenRequest API: iss, sub
// (system:serviceaccount:NS:NAME), aud, exp, iat, nbf, jti and
// kubernetes.io {namespace, serviceaccount {name, uid}}. The header
// carries alg (RS256, or ES256/ES384/ES512 by curve) and a kid derived
// from the public key the way kube-apiserver derives it.
func IssueServiceAccountToken(req IssueRequest) (*IssuedToken, error) {
	if err := validateIssue(&req); err != nil {
		return nil, err
	}
	key, err := loadSigningKey(req.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	signer, alg, kid, err := NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.SigningKeyFile, err)
	}
	jti, err := newUUID(req.Rand)
	if err != nil {
		return nil, err
	}
	exp := req.Now.Add(req.TTL)
	public := jwt.Claims{
		Issuer:    req.Issuer,
		Subject:   apiserverserviceaccount.MakeUsername(req.Namespace, req.Name),
		Audience:  jwt.Audience(req.Audiences),
		Expiry:    jwt.NewNumericDate(exp),
		IssuedAt:  jwt.NewNumericDate(req.Now),
		NotBefore: jwt.NewNumericDate(req.Now),
		ID:        jti,
	}
	private := PrivateClaims{Kubernetes: &KubernetesClaims{
		Namespace:      req.Namespace,
		ServiceAccount: ObjectRef{Name: req.Name, UID: req.UID},
	}}
	token, err := jwt.Signed(signer).Claims(public).Claims(private).CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("signing token: %w", err)
	}
	res := &IssuedToken{Token: token, Algorithm: string(alg), KeyID: kid, Subject: public.Subject,
		Audiences: req.Audiences, Expiration: exp.UTC().Format(time.RFC3339)}
	if req.UID == "" {
		res.Warnings = append(res.Warnings, "no --uid: kube-apiserver looks the service account up and refuses a token whose uid does not match it")
	}
	return res, nil
}

func validateIssue(req *IssueRequest) error {
	if req.Issuer == "" {
		return fmt.Errorf("--issuer is required (kube-apiserver's --service-account-issuer)")
	}
	if errs := apimachineryvalidation.ValidateNamespaceName(req.Namespace, false); len(errs) > 0 {
		return fmt.Errorf("--namespace %q: %s", req.Namespace, strings.Join(errs, "; "))
	}
	if errs := apimachineryvalidation.ValidateServiceAccountName(req.Name, false); len(errs) > 0 {
		return fmt.Errorf("--name %q: %s", req.Name, strings.Join(errs, "; "))
	}
	if req.TTL <= 0 {
		return fmt.Errorf("--ttl %s: expected a positive duration", req.TTL)
	}
	if len(req.Audiences) == 0 {
		req.Audiences = []string{req.Issuer}
	}
	return nil
}

func loadSigningKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	key, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: expected an RSA or ECDSA private key, got %T", path, key)
	}
	return signer, nil
}

// NewSigner returns a JWS signer for key with the algorithm picked by key
// type, as kube-apiserver's token generator does (RS256, or
// ES256/ES384/ES512 by curve), and the signed header's kid from [KeyID].
func NewSigner(key crypto.Signer) (jose.Signer, jose.SignatureAlgorithm, string, error) {
	var alg jose.SignatureAlgorithm
	switch k := key.(type) {
	case *rsa.PrivateKey:
		alg = jose.RS256
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = jose.ES256
		case elliptic.P384():
			alg = jose.ES384
		case elliptic.P521():
			alg = jose.ES512
		default:
			return nil, "", "", fmt.Errorf("unsupported ECDSA curve %s: expected P-256, P-384 or P-521", k.Curve.Params().Name)
		}
	default:
		return nil, "", "", fmt.Errorf("unsupported key type %T: expected RSA or ECDSA", key)
	}
	kid, err := KeyID(key.Public())
	if err != nil {
		return nil, "", "", err
	}
	jwk := &jose.JSONWebKey{Algorithm: string(alg), Key: key, KeyID: kid, Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jwk}, nil)
	if err != nil {
		return nil, "", "", fmt.Errorf("creating signer: %w", err)
	}
	return signer, alg, kid, nil
}

// KeyID is the kid kube-apiserver gives a public key: the unpadded
// URL-safe base64 SHA-256 of its PKIX DER encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// newUUID returns a random (version 4) UUID, the form of the jti claim.
func newUUID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
