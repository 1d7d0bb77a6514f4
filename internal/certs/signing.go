package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"
)

// Usages a certificate is issued for; each is one cfssl signing profile.
const (
	UsageClient       = "client"
	UsageServer       = "server"
	UsageClientServer = "client,server"
)

// Usages lists the --usage values.
var Usages = []string{UsageClient, UsageServer, UsageClientServer}

// DefaultExpiry is the lifetime of issued certificates unless asked
// otherwise: one year, kubeadm's and kube-controller-manager's default.
const DefaultExpiry = 365 * 24 * time.Hour

// signingPolicy has one cfssl profile per usage. Key usages follow
// kubeadm (digital signature, key encipherment). The CSR whitelist copies
// only the subject and public key from a request, plus the SANs for
// server profiles; anything else a CSR asks for (CA:TRUE, extensions) is
// dropped.
func signingPolicy() *config.Signing {
	profile := func(ekus ...string) *config.SigningProfile {
		p := &config.SigningProfile{
			Usage:        append([]string{"digital signature", "key encipherment"}, ekus...),
			Expiry:       DefaultExpiry,
			ExpiryString: "8760h",
			CSRWhitelist: &config.CSRWhitelist{Subject: true, PublicKeyAlgorithm: true, PublicKey: true},
		}
		for _, e := range ekus {
			if e == "server auth" {
				p.CSRWhitelist.DNSNames, p.CSRWhitelist.IPAddresses = true, true
			}
		}
		return p
	}
	return &config.Signing{
		Default: profile("client auth"),
		Profiles: map[string]*config.SigningProfile{
			UsageClient:       profile("client auth"),
			UsageServer:       profile("server auth"),
			UsageClientServer: profile("client auth", "server auth"),
		},
	}
}

// ExpiryError is an expiry the CA cannot cover: kauth says so instead of
// silently shortening the certificate.
type ExpiryError struct {
	Requested  time.Duration
	Max        time.Duration
	CANotAfter time.Time
}

func (e *ExpiryError) Error() string {
	if e.Max <= 0 {
		return fmt.Sprintf("the CA expired on %s: expected a valid CA", e.CANotAfter.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("expiry %s outlives the CA (expires %s); use at most %s",
		formatDays(e.Requested), e.CANotAfter.UTC().Format(time.RFC3339), formatDays(e.Max))
}

// validity computes notBefore and notAfter for a certificate issued at now
// and checks that the CA covers them.
func validity(ca *x509.Certificate, now time.Time, expiry time.Duration) (time.Time, time.Time, error) {
	if expiry <= 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("expiry %s: must be positive", formatDays(expiry))
	}
	now = now.UTC().Truncate(time.Second)
	if now.Before(ca.NotBefore) {
		return time.Time{}, time.Time{}, fmt.Errorf("the CA is not valid before %s", ca.NotBefore.UTC().Format(time.RFC3339))
	}
	notAfter := now.Add(expiry)
	if notAfter.After(ca.NotAfter) {
		return time.Time{}, time.Time{}, &ExpiryError{Requested: expiry, Max: maxExpiry(ca.NotAfter.Sub(now)), CANotAfter: ca.NotAfter}
	}
	notBefore := now.Add(-backdate)
	if notBefore.Before(ca.NotBefore) {
		notBefore = ca.NotBefore
	}
	return notBefore, notAfter, nil
}

// maxExpiry rounds the time the CA has left down to whole days (or hours,
// minutes, seconds when that is less), so the suggestion always works.
func maxExpiry(left time.Duration) time.Duration {
	for _, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if left >= unit {
			return left.Truncate(unit)
		}
	}
	return left
}

// formatDays prints a duration as kauth's --expiry flags read it: whole
// days as "364d", whole years as "10y" only when exact, else Go's form.
func formatDays(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 365*day && d%(365*day) == 0:
		return fmt.Sprintf("%dy", d/(365*day))
	case d >= day && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	default:
		return d.String()
	}
}

// signRequest is what cfssl's local signer needs besides the CSR.
type signRequest struct {
	CSRPEM  []byte
	Profile string
	Hosts   []string
	Now     time.Time
	Expiry  time.Duration
}

// sign signs a PEM CSR with the CA through cfssl's local signer and the
// profile for its usage.
func (ca *CA) sign(req signRequest) (*x509.Certificate, []byte, error) {
	quietCFSSL()
	notBefore, notAfter, err := validity(ca.Cert, req.Now, req.Expiry)
	if err != nil {
		return nil, nil, err
	}
	s, err := local.NewSigner(ca.Key, ca.Cert, signer.DefaultSigAlgo(ca.Key), signingPolicy())
	if err != nil {
		return nil, nil, fmt.Errorf("creating signer: %w", err)
	}
	certPEM, err := s.Sign(signer.SignRequest{
		Request:   string(req.CSRPEM),
		Profile:   req.Profile,
		Hosts:     req.Hosts,
		NotBefore: notBefore,
		NotAfter:  notAfter,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("signing certificate: %w", err)
	}
	certs, err := ParseCertificates("signed certificate", certPEM)
	if err != nil {
		return nil, nil, err
	}
	return certs[0], certPEM, nil
}

// validateName checks a user, group or CA name: kube-apiserver takes the
// subject strings verbatim, so kauth refuses the ones that would surprise
// (empty, padded with spaces, control characters, invalid UTF-8).
func validateName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty: expected a name such as alice", what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s %q: not valid UTF-8", what, s)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%s %q: has leading or trailing spaces", what, s)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s %q: contains control characters", what, s)
	}
	return nil
}

// errHostsNeedServer is returned for SANs on a client-only certificate.
var errHostsNeedServer = errors.New("hosts are only for server certificates: expected --usage server or client,server")
