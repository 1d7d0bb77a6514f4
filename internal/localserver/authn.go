package localserver

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/request/websocket"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	tokencache "k8s.io/apiserver/pkg/authentication/token/cache"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	tokenunion "k8s.io/apiserver/pkg/authentication/token/union"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/kauth/kauth/internal/authn"
)

// authenticators are the request authenticator of the handler chain and
// the token authenticator TokenReview uses: the same union, as in
// kube-apiserver.
type authenticators struct {
	request authenticator.Request
	token   authenticator.Token
}

// privilegedToken is one token the server minted for itself (the loopback
// identity, or the admin when --client-ca-file is a CA the server cannot
// sign for).
type privilegedToken struct {
	token string
	user  *user.DefaultInfo
}

// privilegedTokens authenticates the server's own tokens, comparing in
// constant time.
type privilegedTokens []privilegedToken

func (p privilegedTokens) AuthenticateToken(_ context.Context, token string) (*authenticator.Response, bool, error) {
	for _, t := range p {
		if subtle.ConstantTimeCompare([]byte(t.token), []byte(token)) == 1 {
			return &authenticator.Response{User: t.user}, true, nil
		}
	}
	return nil, false, nil
}

// buildAuthenticators assembles kube-apiserver's authenticator order:
// x509 client certificates, then bearer tokens (the server's own, the
// --token-auth-file, service-account JWTs, bootstrap tokens), with
// system:authenticated added, and anonymous last when allowed.
//
// The external identity authenticators (ext) come after the built-in token
// authenticators as in kube-apiserver: JWT issuers, then the token webhook;
// a --client-crl-file check stands in front of the x509 authenticator.
func buildAuthenticators(c *Config, p *PKI, own privilegedTokens, sa *saTokens, bootstrap authenticator.Token, ext *authn.External) (*authenticators, error) {
	tokens := []authenticator.Token{own}
	if c.TokenAuthFile != "" {
		tf, err := tokenfile.NewCSV(c.TokenAuthFile)
		if err != nil {
			return nil, configError(fmt.Errorf("--token-auth-file: %w", err))
		}
		tokens = append(tokens, tf)
	}
	tokens = append(tokens, sa)
	if c.EnableBootstrapTokenAuth {
		tokens = append(tokens, bootstrap)
	}
	tokens = append(tokens, ext.Tokens...)
	tokenAuth := tokenunion.New(tokens...)
	if c.TokenSuccessCacheTTL > 0 {
		// As kube-apiserver: cache successes briefly, never failures, and
		// key the cache by a hash of the token, never the token itself.
		tokenAuth = tokencache.New(tokenAuth, true, c.TokenSuccessCacheTTL, 0)
	}
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = p.ClientCAs
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	var req authenticator.Request = union.New(
		ext.WrapX509(x509request.New(opts, x509request.CommonNameUserConversion)),
		bearertoken.New(tokenAuth),
		// Browsers cannot set headers on websockets; kube-apiserver reads
		// the token from the "base64url.bearer.authorization.k8s.io."
		// subprotocol instead.
		websocket.NewProtocolAuthenticator(tokenAuth),
	)
	req = group.NewAuthenticatedGroupAdder(req)
	anon, err := ext.AnonymousConfig(c.AnonymousAuthSet, c.AnonymousAuth)
	if err != nil {
		return nil, configError(err)
	}
	if anon.Enabled {
		req = union.NewFailOnError(req, anonymous.NewAuthenticator(anon.Conditions))
	}
	return &authenticators{request: req, token: tokenReviewAuthenticator(tokenAuth)}, nil
}

// tokenReviewAuthenticator answers TokenReviews as kube-apiserver does:
// through the bearer-token path, so the user gains system:authenticated
// just as on a request.
func tokenReviewAuthenticator(tokens authenticator.Token) authenticator.Token {
	req := group.NewAuthenticatedGroupAdder(bearertoken.New(tokens))
	return authenticator.TokenFunc(func(ctx context.Context, token string) (*authenticator.Response, bool, error) {
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
		if err != nil {
			return nil, false, err
		}
		r.Header.Set("Authorization", "Bearer "+token)
		return req.AuthenticateRequest(r)
	})
}
