package tokens

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	bootstrapsecretutil "k8s.io/cluster-bootstrap/util/secrets"
	bootstraptokens "k8s.io/cluster-bootstrap/util/tokens"
)

// DefaultBootstrapUsages are the usages a new bootstrap token gets, as
// kubeadm gives them.
var DefaultBootstrapUsages = []string{"signing", "authentication"}

// BootstrapRequest describes a new bootstrap token.
type BootstrapRequest struct {
	// Token is used when set; otherwise one is generated with
	// cluster-bootstrap's GenerateBootstrapToken (crypto/rand).
	Token string
	// TTL is the lifetime; 0 means the token never expires.
	TTL         time.Duration
	Description string
	Usages      []string
	// Groups are extra groups, each system:bootstrappers:...
	Groups []string
	Now    time.Time
	// Client, when set, creates the Secret in the cluster.
	Client kubernetes.Interface
}

// BootstrapToken is a created bootstrap token and its Secret.
type BootstrapToken struct {
	Token      string         `json:"token"`
	ID         string         `json:"id"`
	Expiration string         `json:"expiration,omitempty"`
	Secret     *corev1.Secret `json:"secret"`
	// Applied is true when the Secret was created in the cluster.
	Applied bool `json:"applied"`
}

// CreateBootstrapToken builds the bootstrap-token-<id> Secret for a new
// token in kube-system, in the form the bootstrap token authenticator and
// signer read, and creates it in the cluster when req.Client is set.
func CreateBootstrapToken(ctx context.Context, req BootstrapRequest) (*BootstrapToken, error) {
	token, err := bootstrapTokenFor(req.Token)
	if err != nil {
		return nil, err
	}
	if err := bootstraputil.ValidateUsages(req.Usages); err != nil {
		return nil, fmt.Errorf("--usages: %w", err)
	}
	for _, g := range req.Groups {
		if err := bootstraputil.ValidateBootstrapGroupName(g); err != nil {
			return nil, fmt.Errorf("--groups: %w", err)
		}
	}
	if req.TTL < 0 {
		return nil, fmt.Errorf("--ttl %s: expected 0 (never expires) or more", req.TTL)
	}
	id, secret, _ := bootstraptokens.ParseToken(token)
	s := BootstrapSecret(id, secret, req)
	res := &BootstrapToken{Token: token, ID: id, Secret: s, Expiration: string(s.Data[bootstrapapi.BootstrapTokenExpirationKey])}
	if req.Client != nil {
		if _, err := req.Client.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating secret %s/%s: %w", metav1.NamespaceSystem, s.Name, err)
		}
		res.Applied = true
	}
	return res, nil
}

func bootstrapTokenFor(given string) (string, error) {
	if given == "" {
		return bootstraputil.GenerateBootstrapToken()
	}
	if !bootstraputil.IsValidBootstrapToken(given) {
		return "", fmt.Errorf("--token: not a bootstrap token, expected the form %s", bootstrapapi.BootstrapTokenPattern)
	}
	return given, nil
}

// BootstrapSecret returns the Secret for token id.secret, with apiVersion
// and kind set so kubectl can apply it.
func BootstrapSecret(id, secret string, req BootstrapRequest) *corev1.Secret {
	data := map[string][]byte{
		bootstrapapi.BootstrapTokenIDKey:     []byte(id),
		bootstrapapi.BootstrapTokenSecretKey: []byte(secret),
	}
	if req.TTL > 0 {
		data[bootstrapapi.BootstrapTokenExpirationKey] = []byte(req.Now.Add(req.TTL).UTC().Format(time.RFC3339))
	}
	if req.Description != "" {
		data[bootstrapapi.BootstrapTokenDescriptionKey] = []byte(req.Description)
	}
	for _, u := range req.Usages {
		data[bootstrapapi.BootstrapTokenUsagePrefix+u] = []byte("true")
	}
	if len(req.Groups) > 0 {
		data[bootstrapapi.BootstrapTokenExtraGroupsKey] = []byte(strings.Join(req.Groups, ","))
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      bootstraputil.BootstrapTokenSecretName(id),
			Namespace: metav1.NamespaceSystem,
		},
		Type: bootstrapapi.SecretTypeBootstrapToken,
		Data: data,
	}
}

// BootstrapInfo describes one bootstrap-token Secret the way kube-apiserver
// and its token cleaner read it. The token secret is never part of it.
type BootstrapInfo struct {
	ID          string   `json:"id"`
	SecretName  string   `json:"secretName,omitempty"`
	Description string   `json:"description,omitempty"`
	Usages      []string `json:"usages"`
	ExtraGroups []string `json:"extraGroups,omitempty"`
	// Expiration is RFC 3339, empty when the token never expires.
	Expiration string `json:"expiration,omitempty"`
	// TTLSeconds is the time left, 0 when expired or without expiry.
	TTLSeconds int64 `json:"ttlSeconds"`
	Expired    bool  `json:"expired"`
	// User is who the token authenticates as, nil when kube-apiserver
	// would not authenticate it.
	User *UserInfo `json:"user,omitempty"`
	// Problems say why kube-apiserver would not accept the token (or the
	// Secret), in the order its authenticator checks.
	Problems []string `json:"problems"`
	// Warnings are mistakes kube-apiserver tolerates, such as usages
	// cluster-bootstrap does not know.
	Warnings []string `json:"warnings,omitempty"`
}

// Valid reports whether kube-apiserver would authenticate the token.
func (b *BootstrapInfo) Valid() bool { return len(b.Problems) == 0 }

// UserInfo is the identity kube-apiserver assigns to a request.
type UserInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// withAuthenticated adds system:authenticated, which kube-apiserver's
// authenticated group adder gives every authenticated user.
func withAuthenticated(u *UserInfo) *UserInfo {
	if !slices.Contains(u.Groups, user.AllAuthenticated) {
		u.Groups = append(u.Groups, user.AllAuthenticated)
	}
	return u
}

// InspectBootstrapSecret checks s as kube-apiserver's bootstrap token
// authenticator does for a presented token id.secret (secret empty: the
// Secret is checked on its own), in the same order: name and namespace,
// type, token-secret, token-id, expiry, usage-bootstrap-authentication,
// auth-extra-groups.
func InspectBootstrapSecret(s *corev1.Secret, secret string, now time.Time) *BootstrapInfo {
	info := &BootstrapInfo{SecretName: s.Name, Problems: []string{}}
	id, ok := bootstrapsecretutil.ParseName(s.Name)
	if !ok {
		info.problem("name %q: expected %s<id> with an id of 6 characters [a-z0-9]", s.Name, bootstrapapi.BootstrapTokenSecretPrefix)
	}
	info.ID = id
	if s.Namespace != metav1.NamespaceSystem {
		info.problem("namespace %q: bootstrap tokens are read from %s only", s.Namespace, metav1.NamespaceSystem)
	}
	if s.DeletionTimestamp != nil {
		info.problem("the Secret is being deleted")
	}
	if s.Type != bootstrapapi.SecretTypeBootstrapToken {
		info.problem("type %q: expected %s", s.Type, bootstrapapi.SecretTypeBootstrapToken)
	}
	checkTokenFields(s, id, secret, info)
	info.Description = bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenDescriptionKey)
	checkExpiration(s, now, info)
	info.Usages = usages(s, info)
	groups, err := bootstrapsecretutil.GetGroups(s)
	if err != nil {
		info.problem("%s: %v", bootstrapapi.BootstrapTokenExtraGroupsKey, err)
	} else {
		info.ExtraGroups = slices.DeleteFunc(slices.Clone(groups), func(g string) bool { return g == bootstrapapi.BootstrapDefaultGroup })
	}
	if !slices.Contains(info.Usages, "authentication") {
		info.problem("%s is not \"true\": kube-apiserver does not accept the token for authentication", bootstrapapi.BootstrapTokenUsageAuthentication)
	}
	if info.Valid() {
		info.User = withAuthenticated(&UserInfo{Username: bootstrapapi.BootstrapUserPrefix + info.ID, Groups: groups})
	}
	return info
}

func (b *BootstrapInfo) problem(format string, args ...any) {
	b.Problems = append(b.Problems, fmt.Sprintf(format, args...))
}

func checkTokenFields(s *corev1.Secret, nameID, secret string, info *BootstrapInfo) {
	dataID := bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenIDKey)
	dataSecret := bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenSecretKey)
	if !bootstraputil.IsValidBootstrapToken(bootstraputil.TokenFromIDAndSecret(dataID, dataSecret)) {
		info.problem("%s and %s: expected a token of the form %s", bootstrapapi.BootstrapTokenIDKey, bootstrapapi.BootstrapTokenSecretKey, bootstrapapi.BootstrapTokenPattern)
	}
	if secret != "" && subtle.ConstantTimeCompare([]byte(dataSecret), []byte(secret)) != 1 {
		info.problem("%s does not match the token", bootstrapapi.BootstrapTokenSecretKey)
	}
	if info.ID == "" {
		info.ID = dataID
	}
	if nameID != "" && dataID != nameID {
		info.problem("%s %q does not match the id %q in the Secret's name", bootstrapapi.BootstrapTokenIDKey, dataID, nameID)
	}
}

func checkExpiration(s *corev1.Secret, now time.Time, info *BootstrapInfo) {
	info.Expiration = bootstrapsecretutil.GetData(s, bootstrapapi.BootstrapTokenExpirationKey)
	left, expired := bootstrapsecretutil.GetExpiration(s, now)
	info.Expired = expired
	info.TTLSeconds = int64(left / time.Second)
	if !expired {
		return
	}
	if _, err := time.Parse(time.RFC3339, info.Expiration); err != nil {
		info.problem("%s %q: not an RFC 3339 time, so kube-apiserver treats the token as expired", bootstrapapi.BootstrapTokenExpirationKey, info.Expiration)
		return
	}
	info.problem("expired at %s", info.Expiration)
}

// usages returns the usages set to "true", sorted, and warns about usage
// keys cluster-bootstrap does not know (the authenticator only reads
// usage-bootstrap-authentication, so they do not make the token invalid).
func usages(s *corev1.Secret, info *BootstrapInfo) []string {
	var all, on []string
	for k, v := range s.Data {
		name, ok := strings.CutPrefix(k, bootstrapapi.BootstrapTokenUsagePrefix)
		if !ok {
			continue
		}
		all = append(all, name)
		if string(v) == "true" {
			on = append(on, name)
		}
	}
	if err := bootstraputil.ValidateUsages(all); err != nil {
		info.Warnings = append(info.Warnings, err.Error())
	}
	slices.Sort(on)
	if on == nil {
		on = []string{}
	}
	return on
}

// ErrNotBootstrapToken is returned for a string that is not of the form
// [a-z0-9]{6}.[a-z0-9]{16}.
var ErrNotBootstrapToken = errors.New("not a bootstrap token")

// InspectBootstrapToken checks a bootstrap token string on its own: its
// format, and the user it would authenticate as. Without its Secret the
// expiry, usages and extra groups are unknown.
func InspectBootstrapToken(token string) (*BootstrapInfo, error) {
	id, _, err := bootstraptokens.ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("%w: expected the form %s", ErrNotBootstrapToken, bootstrapapi.BootstrapTokenPattern)
	}
	return &BootstrapInfo{
		ID:         id,
		SecretName: bootstraputil.BootstrapTokenSecretName(id),
		Usages:     []string{},
		User:       withAuthenticated(&UserInfo{Username: bootstrapapi.BootstrapUserPrefix + id, Groups: []string{bootstrapapi.BootstrapDefaultGroup}}),
		Problems:   []string{},
	}, nil
}

// ValidateBootstrap checks arg, a bootstrap token or the path of a file
// holding a bootstrap-token Secret (YAML or JSON), as kube-apiserver
// would. An error means arg could not be read at all; a token or Secret
// kube-apiserver would refuse comes back with Problems.
func ValidateBootstrap(arg string, now time.Time) (*BootstrapInfo, error) {
	if data, err := os.ReadFile(arg); err == nil {
		s, err := ReadBootstrapSecret(arg, data)
		if err != nil {
			return nil, err
		}
		return InspectBootstrapSecret(s, "", now), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", arg, err)
	}
	if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".json") || strings.HasSuffix(arg, ".yml") {
		return nil, fmt.Errorf("reading %s: %w", arg, fs.ErrNotExist)
	}
	info, err := InspectBootstrapToken(arg)
	if err != nil {
		return &BootstrapInfo{Usages: []string{}, Problems: []string{err.Error()}}, nil
	}
	return info, nil
}
