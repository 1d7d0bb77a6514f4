package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudflare/cfssl/crl"
)

// Revocation reasons of RFC 5280 (CRLReason), by the names kauth accepts.
// removeFromCRL (8) only exists in delta CRLs, which kauth does not write.
var revocationReasons = []struct {
	Name string
	Code int
}{
	{"unspecified", 0},
	{"keyCompromise", 1},
	{"cACompromise", 2},
	{"affiliationChanged", 3},
	{"superseded", 4},
	{"cessationOfOperation", 5},
	{"certificateHold", 6},
	{"privilegeWithdrawn", 9},
	{"aACompromise", 10},
}

// RevocationReasons lists the --reason values.
func RevocationReasons() []string {
	out := make([]string, len(revocationReasons))
	for i, r := range revocationReasons {
		out[i] = r.Name
	}
	return out
}

func reasonCode(name string) (int, error) {
	for _, r := range revocationReasons {
		if r.Name == name {
			return r.Code, nil
		}
	}
	return 0, fmt.Errorf("reason %q: must be one of %v", name, RevocationReasons())
}

func reasonName(code int) string {
	for _, r := range revocationReasons {
		if r.Code == code {
			return r.Name
		}
	}
	return fmt.Sprintf("unknown (%d)", code)
}

// DefaultCRLExpiry is how long a written CRL stays current (nextUpdate).
const DefaultCRLExpiry = 30 * 24 * time.Hour

// Revocation is one revoked certificate, as recorded in revoked.json.
type Revocation struct {
	Serial    string    `json:"serial"`
	RevokedAt time.Time `json:"revokedAt"`
	Reason    string    `json:"reason"`
	Subject   string    `json:"subject,omitempty"`
}

// revocationDB is revoked.json in the CA folder: the source of the CRL,
// which is rebuilt from it on every revocation.
type revocationDB struct {
	Revoked []Revocation `json:"revoked"`
}

// RevokeRequest is "kauth cert revoke".
type RevokeRequest struct {
	CADir string
	// Serial (hex) or CertFile names the certificate; exactly one is set.
	Serial   string
	CertFile string
	Reason   string
	// CRLExpiry sets the CRL's nextUpdate from Now.
	CRLExpiry time.Duration
	Now       time.Time
}

// RevokeResult tells what "revoke" recorded and wrote.
type RevokeResult struct {
	Revoked Revocation `json:"revoked"`
	Files   []string   `json:"files"`
	// Total is the number of certificates in the CRL.
	Total      int       `json:"total"`
	NextUpdate time.Time `json:"nextUpdate"`
}

// Revoke records a revocation in revoked.json and rewrites ca.crl, the
// CA's CRL, through cfssl.
func Revoke(req RevokeRequest) (*RevokeResult, error) {
	ca, err := LoadCA(req.CADir)
	if err != nil {
		return nil, err
	}
	if req.Reason == "" {
		req.Reason = "unspecified"
	}
	if _, err := reasonCode(req.Reason); err != nil {
		return nil, err
	}
	if req.CRLExpiry == 0 {
		req.CRLExpiry = DefaultCRLExpiry
	}
	rev, err := revocationFor(ca, req)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(ca.Dir, RevokedDBFile)
	db, err := readRevocationDB(dbPath)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(db.Revoked, func(r Revocation) bool { return r.Serial == rev.Serial }); i >= 0 {
		return nil, fmt.Errorf("serial %s is already revoked (on %s)", rev.Serial, db.Revoked[i].RevokedAt.Format(time.RFC3339))
	}
	db.Revoked = append(db.Revoked, rev)
	slices.SortFunc(db.Revoked, func(a, b Revocation) int {
		if c := a.RevokedAt.Compare(b.RevokedAt); c != 0 {
			return c
		}
		return compareSerials(a.Serial, b.Serial)
	})
	nextUpdate := req.Now.UTC().Truncate(time.Second).Add(req.CRLExpiry)
	crlDER, err := buildCRL(ca, db.Revoked, nextUpdate)
	if err != nil {
		return nil, err
	}
	dbJSON, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", dbPath, err)
	}
	crlPath := filepath.Join(ca.Dir, CACRLFile)
	crlPEM := pemEncode("X509 CRL", crlDER)
	// The CA's own state files are replaced on every revocation.
	files := []File{{Path: dbPath, Data: append(dbJSON, '\n'), Mode: modePublic}, {Path: crlPath, Data: crlPEM, Mode: modePublic}}
	if err := WriteFiles(files, true); err != nil {
		return nil, err
	}
	return &RevokeResult{Revoked: rev, Files: []string{crlPath, dbPath}, Total: len(db.Revoked), NextUpdate: nextUpdate}, nil
}

func revocationFor(ca *CA, req RevokeRequest) (Revocation, error) {
	rev := Revocation{RevokedAt: req.Now.UTC().Truncate(time.Second), Reason: req.Reason}
	if req.CertFile == "" {
		n, err := ParseSerial(req.Serial)
		if err != nil {
			return rev, err
		}
		if n.Cmp(ca.Cert.SerialNumber) == 0 {
			return rev, fmt.Errorf("serial %s is the CA's own certificate: %s", FormatSerial(n), selfRevokeHelp)
		}
		rev.Serial = FormatSerial(n)
		return rev, nil
	}
	data, err := os.ReadFile(req.CertFile)
	if err != nil {
		return rev, err
	}
	certs, err := ParseCertificates(req.CertFile, data)
	if err != nil {
		return rev, err
	}
	c := certs[0]
	if err := c.CheckSignatureFrom(ca.Cert); err != nil {
		return rev, fmt.Errorf("%s: certificate %q was not issued by the CA in %s", req.CertFile, c.Subject.String(), ca.Dir)
	}
	if c.Equal(ca.Cert) || c.SerialNumber.Cmp(ca.Cert.SerialNumber) == 0 {
		return rev, fmt.Errorf("%s is the CA's own certificate: %s", req.CertFile, selfRevokeHelp)
	}
	rev.Serial, rev.Subject = FormatSerial(c.SerialNumber), c.Subject.String()
	return rev, nil
}

// selfRevokeHelp: a CA listing itself in its own CRL protects nothing
// (verifiers trust it as a root, not through the CRL).
const selfRevokeHelp = "a CA cannot revoke itself in its own CRL; to retire it, create a new CA with kauth cert ca init"

func compareSerials(a, b string) int {
	x, _ := ParseSerial(a)
	y, _ := ParseSerial(b)
	if x == nil || y == nil {
		return 0
	}
	return x.Cmp(y)
}

func readRevocationDB(path string) (*revocationDB, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &revocationDB{}, nil
	}
	if err != nil {
		return nil, err
	}
	var db revocationDB
	if err := json.Unmarshal(data, &db); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &db, nil
}

var oidCRLReason = asn1.ObjectIdentifier{2, 5, 29, 21}

// buildCRL signs the list with cfssl's CRL generator. A reason code
// extension is added except for "unspecified", which RFC 5280 says
// should be left out.
func buildCRL(ca *CA, revoked []Revocation, nextUpdate time.Time) ([]byte, error) {
	quietCFSSL()
	list := make([]pkix.RevokedCertificate, 0, len(revoked))
	for _, r := range revoked {
		n, err := ParseSerial(r.Serial)
		if err != nil {
			return nil, err
		}
		rc := pkix.RevokedCertificate{SerialNumber: n, RevocationTime: r.RevokedAt}
		if code, _ := reasonCode(r.Reason); code != 0 {
			v, err := asn1.Marshal(asn1.Enumerated(code))
			if err != nil {
				return nil, err
			}
			rc.Extensions = []pkix.Extension{{Id: oidCRLReason, Value: v}}
		}
		list = append(list, rc)
	}
	der, err := crl.CreateGenericCRL(list, ca.Key, ca.Cert, nextUpdate)
	if err != nil {
		return nil, fmt.Errorf("creating CRL: %w", err)
	}
	return der, nil
}

// ParseCRL reads a CRL in PEM ("X509 CRL") or DER form.
func ParseCRL(name string, data []byte) (*x509.RevocationList, error) {
	der := data
	if blocks, err := decodePEM(name, data); err != nil {
		return nil, err
	} else if len(blocks) > 0 {
		i := slices.IndexFunc(blocks, func(b pemBlock) bool { return b.Type == "X509 CRL" })
		if i < 0 {
			return nil, fmt.Errorf("%s: no CRL found: expected a -----BEGIN X509 CRL----- block", name)
		}
		der = blocks[i].Bytes
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing CRL: %w", name, err)
	}
	return l, nil
}

type revocationList struct{ *x509.RevocationList }

// annotate sets the revocation fields of info for cert. Only a CRL from
// cert's issuer can say anything about it.
func (l *revocationList) annotate(info *CertInfo, cert *x509.Certificate) {
	if string(cert.RawIssuer) != string(l.RawIssuer) {
		return
	}
	revoked := false
	for _, e := range l.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			revoked = true
			at := e.RevocationTime.UTC()
			info.RevokedAt, info.RevocationReason = &at, reasonName(e.ReasonCode)
			break
		}
	}
	info.Revoked = &revoked
}
