// Package oidctest is a small OpenID Connect issuer on the loopback
// interface for tests: HTTPS with its own CA, a discovery document, a JWKS
// and RS256 ID tokens signed on demand.
package oidctest
