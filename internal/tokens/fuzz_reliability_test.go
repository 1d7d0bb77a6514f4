package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzKeys writes an ECDSA signing key and its public key under dir.
func fuzzKeys(f *testing.F, dir string) (priv, pub string) {
	f.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		f.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	priv, pub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		f.Fatal(err)
	}
	return priv, pub
}

// FuzzInspectJWT reads arbitrary bearer tokens as service-account JWTs,
// with signature, issuer and audience checks on: it never panics, and a
// token it accepts without problems is one the key really signed.
func FuzzInspectJWT(f *testing.F) {
	dir := f.TempDir()
	priv, pub := fuzzKeys(f, dir)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	issued, err := IssueServiceAccountToken(IssueRequest{SigningKeyFile: priv, Issuer: "https://kubernetes.default.svc",
		Namespace: "team-a", Name: "deployer", UID: "3f1c2d4e-0000-4000-8000-000000000001", TTL: time.Hour, Now: now})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(issued.Token, ".")
	f.Add(issued.Token)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("....")
	f.Add("")
	opts := VerifyOptions{KeyFile: pub, Issuers: []string{"https://kubernetes.default.svc"}, Audiences: []string{"https://kubernetes.default.svc"}, Now: now.Add(time.Minute)}
	f.Fuzz(func(t *testing.T, token string) {
		info, err := InspectJWT(token, opts)
		if err != nil {
			if strings.Contains(err.Error(), token) && len(token) > 32 {
				t.Errorf("the error repeats the token: %v", err)
			}
			return
		}
		if info == nil {
			t.Fatal("InspectJWT returned neither info nor error")
		}
		if len(info.Problems) == 0 && token != issued.Token {
			// Only the issued token, or one with the same signed content
			// (JWS allows no other encoding of it), verifies.
			if p := strings.Split(token, "."); len(p) != 3 || p[0]+"."+p[1] != parts[0]+"."+parts[1] {
				t.Errorf("a token the key never signed passed every check: %q", token)
			}
		}
	})
}

// FuzzDecodeToken decodes arbitrary bearer tokens the way "kauth token
// decode" does, against a static token file and a bootstrap-token Secret:
// it never panics, and a bootstrap token's secret half never appears in
// the result or an error (ShowSecret is off).
func FuzzDecodeToken(f *testing.F) {
	dir := f.TempDir()
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("static-token-0123456789,alice,1001,\"dev,ops\"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret.yaml")
	secret := `apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-abcdef, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData:
  token-id: abcdef
  token-secret: 0123456789abcdef
  usage-bootstrap-authentication: "true"
`
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"abcdef.0123456789abcdef", "abcdef.fedcba9876543210", "static-token-0123456789", "zzzzzz.0123456789abcdef", "eyJhbGciOiJub25lIn0.e30.", "", "a.b"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, token string) {
		for _, opts := range []DecodeOptions{
			{TokenFile: tokenFile, Now: now},
			{SecretFile: secretFile, Now: now},
		} {
			d, err := Decode(token, opts)
			id, sec, ok := strings.Cut(token, ".")
			secretHalf := ok && len(id) == 6 && len(sec) == 16 && isLowerAlnum(id) && isLowerAlnum(sec)
			if err != nil {
				if secretHalf && strings.Contains(err.Error(), sec) {
					t.Errorf("the error carries the token secret: %v", err)
				}
				continue
			}
			out, _ := json.Marshal(d)
			if secretHalf && strings.Contains(string(out), sec) {
				t.Errorf("the result carries the token secret: %s", out)
			}
		}
	})
}

func isLowerAlnum(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// FuzzLintStatic lints arbitrary static token files: it never panics,
// every finding has a line within the file, and no finding repeats a
// token of the file.
func FuzzLintStatic(f *testing.F) {
	entries, err := os.ReadDir("testdata/static")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata/static", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := LintStatic("tokens.csv", data, 0o600)
		if res == nil {
			t.Fatal("LintStatic returned nil")
		}
		lines := strings.Count(string(data), "\n") + 1
		out, _ := json.Marshal(res.Findings)
		for _, fd := range res.Findings {
			if fd.Line < 0 || fd.Line > lines {
				t.Errorf("finding on line %d of a %d-line file: %+v", fd.Line, lines, fd)
			}
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			tok, _, _ := strings.Cut(line, ",")
			tok = strings.TrimSpace(strings.Trim(tok, `"`))
			// Only a token that is nowhere else on its line (not also the
			// user name or uid) must stay out of the findings.
			if len(tok) >= 24 && isLowerAlnum(tok) && strings.Count(string(data), tok) == 1 && strings.Contains(string(out), tok) {
				t.Errorf("a finding repeats the token %q: %s", tok, out)
			}
		}
	})
}
