package reliability_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kauth/kauth/internal/localserver"
)

const bobToken = "tok-bob-5f1e2d3c4b5a69788796a5b4"

// noLeak fails when a response body carries a Go stack, a source position,
// or the given secrets.
func noLeak(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, bad := range append([]string{"goroutine ", ".go:", "panic"}, secrets...) {
		if strings.Contains(string(body), bad) {
			t.Errorf("%s: the answer contains %q: %.300s", what, bad, body)
		}
	}
}

// TestHostileBodies sends deeply nested JSON, bodies over the 3 MiB limit
// (with and without Content-Length), and invalid UTF-8: each gets
// kube-apiserver's status and Status reason, the server keeps serving, and
// nothing invalid is stored.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := newClient(t, s, "admin")
	head := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"n"},`
	depth := pick(100000, 400000) // the long depth keeps the body under 3 MiB
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		reason, msg              string
	}{
		{"nested arrays", "POST", cmPath(""), head + `"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`, 400, "BadRequest", "exceeded max depth"},
		{"nested objects", "POST", cmPath(""), head + `"x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}`, 400, "BadRequest", "exceeded max depth"},
		{"nested in a patch", "PATCH", cmPath("target"), `{"data":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`, 400, "BadRequest", ""},
		{"3 MiB + 1 create", "POST", cmPath(""), head + `"data":{"a":"` + strings.Repeat("x", 3<<20) + `"}}`, 413, "RequestEntityTooLarge", "limit is 3145728"},
		{"3 MiB + 1 update", "PUT", cmPath("target"), head + `"data":{"a":"` + strings.Repeat("x", 3<<20) + `"}}`, 413, "RequestEntityTooLarge", "limit is 3145728"},
		{"3 MiB + 1 patch", "PATCH", cmPath("target"), `{"data":{"a":"` + strings.Repeat("x", 3<<20) + `"}}`, 413, "RequestEntityTooLarge", "limit is 3145728"},
		{"invalid UTF-8 name", "POST", cmPath(""), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"u\xff\xfe\"}}", 422, "Invalid", "metadata.name: Invalid value"},
		{"invalid UTF-8 label", "POST", cmPath(""), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"l\",\"labels\":{\"a\":\"\xff\"}}}", 422, "Invalid", "metadata.labels: Invalid value"},
		{"invalid UTF-8 key", "POST", cmPath(""), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"k\"},\"data\":{\"\xff\":\"v\"}}", 422, "Invalid", "data[\uFFFD]: Invalid value"},
		{"not JSON", "POST", cmPath(""), "\x00\x01\x02", 400, "BadRequest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.method != "POST" {
				admin.do(t, "POST", cmPath(""), configMap("target", nil))
			}
			hdr := []string{}
			if tc.method == "PATCH" {
				hdr = []string{"Content-Type", "application/merge-patch+json"}
			}
			code, body := admin.do(t, tc.method, tc.path, tc.body, hdr...)
			if code != tc.code {
				t.Fatalf("HTTP %d, want %d: %.300s", code, tc.code, body)
			}
			st := parseStatus(t, body)
			if st.Reason != tc.reason || !strings.Contains(st.Message, tc.msg) {
				t.Errorf("Status reason %q message %.200q, want %q containing %q", st.Reason, st.Message, tc.reason, tc.msg)
			}
			noLeak(t, tc.name, body)
		})
	}
	// An over-limit body without Content-Length (chunked) is cut off too.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, head+`"data":{"a":"`)
		chunk := strings.Repeat("y", 64<<10)
		for range 64 { // 4 MiB
			if _, err := io.WriteString(pw, chunk); err != nil {
				return
			}
		}
		_ = pw.CloseWithError(io.EOF)
	}()
	req, _ := http.NewRequest(http.MethodPost, admin.base+cmPath(""), pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := admin.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 4 MiB body: HTTP %d, want 413: %.200s", resp.StatusCode, body)
	}
	// Invalid UTF-8 in a data value is stored as U+FFFD, as encoding/json
	// (and kube-apiserver) decode it: what is stored is valid UTF-8.
	admin.must(t, http.StatusCreated, "POST", cmPath(""), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"u\"},\"data\":{\"k\":\"\xff\xfe\"}}")
	got := admin.must(t, http.StatusOK, "GET", cmPath("u"), "")
	if !utf8.Valid(got) || !strings.Contains(string(got), `"k":"\ufffd\ufffd"`) && !strings.Contains(string(got), "\"k\":\"\ufffd\ufffd\"") {
		t.Errorf("stored value with invalid UTF-8: %s", got)
	}
	// Nothing of the rejected requests was stored, and the server serves.
	for _, name := range []string{"n", "l", "k"} {
		admin.must(t, http.StatusNotFound, "GET", cmPath(name), "")
	}
}

// TestImpersonationHeaders: a user without the impersonate verb cannot
// become system:masters or anyone else through Impersonate-* headers;
// groups, uid or extra without Impersonate-User is a 400; header values
// with CR, LF or NUL never reach the server's handlers (net/http answers
// 400); an admin's impersonation yields exactly the requested identity.
func TestImpersonationHeaders(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *localserver.Config) {
		c.TokenAuthFile = writeTokens(t, bobToken+`,bob,1002,"dev"`)
	})
	admin := newClient(t, s, "admin")
	bob := newClient(t, s, bobToken)
	ssr := `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`
	ssrPath := "/apis/authentication.k8s.io/v1/selfsubjectreviews"
	for _, tc := range []struct {
		name string
		c    *client
		hdr  []string
		code int
		want string
	}{
		{"bob as system:admin", bob, []string{"Impersonate-User", "system:admin"}, 403, `User \"bob\" cannot impersonate resource \"users\"`},
		{"bob adds system:masters to himself", bob, []string{"Impersonate-User", "bob", "Impersonate-Group", "system:masters"}, 403, `cannot impersonate resource \"users\"`},
		{"group without user", bob, []string{"Impersonate-Group", "system:masters"}, 400, "without impersonating a user"},
		{"uid without user", admin, []string{"Impersonate-Uid", "0"}, 400, "without impersonating a user"},
		{"extra without user", admin, []string{"Impersonate-Extra-Scopes", "x"}, 400, "without impersonating a user"},
		{"admin as alice", admin, []string{"Impersonate-User", "alice", "Impersonate-Group", "g1", "Impersonate-Extra-Foo%2Fbar", "v"}, 201, `"username":"alice","groups":["g1","system:authenticated"],"extra":{"foo/bar":["v"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := tc.c.do(t, "POST", ssrPath, ssr, tc.hdr...)
			if code != tc.code || !strings.Contains(string(body), tc.want) {
				t.Errorf("HTTP %d %.400s, want %d containing %s", code, body, tc.code, tc.want)
			}
			noLeak(t, tc.name, body, bobToken)
		})
	}
	// Raw header injection attempts, as the admin (who may impersonate):
	// CR, LF or NUL inside a value, and an obs-fold continuation line. Either
	// net/http refuses the request (400) or the folded text stays part of
	// the user name; no attempt adds the group. (A bare LF ends a header
	// line in net/http, as RFC 9112 lets a recipient do, so "a\nB: c" is two
	// headers sent by the client, not an injection; kube-apiserver, on the
	// same net/http, reads it the same way.)
	addr := strings.TrimPrefix(s.URL(), "https://")
	for _, raw := range []string{
		"Impersonate-User: alice\rImpersonate-Group: system:masters\r\n",
		"Impersonate-User: alice\x00system:masters\r\n",
		"Impersonate-User: alice\r\n Impersonate-Group: system:masters\r\n",
	} {
		code, body := rawRequest(t, s, addr, "POST "+ssrPath+" HTTP/1.1\r\nHost: "+addr+"\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(ssr))+"\r\n"+raw+"\r\n"+ssr, adminCert(t, s))
		var review struct {
			Status struct {
				UserInfo struct {
					Username string   `json:"username"`
					Groups   []string `json:"groups"`
				} `json:"userInfo"`
			} `json:"status"`
		}
		switch code {
		case http.StatusBadRequest:
		case http.StatusCreated:
			if err := json.Unmarshal([]byte(body), &review); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(review.Status.UserInfo.Groups, "system:masters") {
				t.Errorf("header %q injected a group: %s", raw, body)
			}
			t.Logf("header %q: user %q groups %q", raw, review.Status.UserInfo.Username, review.Status.UserInfo.Groups)
		default:
			t.Errorf("header %q: HTTP %d %s, want 400 or 201 without the group", raw, code, body)
		}
	}
}

func rawRequest(t *testing.T, s *localserver.Server, addr, req string, certs ...tls.Certificate) (int, string) {
	t.Helper()
	c, err := tlsDial(s, addr, certs...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestTokensInURLsDoNotAuthenticate: a valid token in an access_token
// query parameter, or in the userinfo of the URL, does not authenticate
// (kube-apiserver reads bearer tokens from the Authorization header only,
// and from the websocket protocol header on websocket upgrades), and the
// answer does not echo it.
func TestTokensInURLsDoNotAuthenticate(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *localserver.Config) {
		c.TokenAuthFile = writeTokens(t, bobToken+`,bob,1002,"system:masters"`)
	})
	anon := newClient(t, s, "")
	for _, path := range []string{
		"/api/v1/namespaces/kube-system/secrets?access_token=" + bobToken,
		"/api/v1/namespaces/kube-system/secrets?token=" + bobToken,
		"/api/v1/namespaces/kube-system/secrets?bearer=" + bobToken,
	} {
		code, body := anon.do(t, "GET", path, "")
		if code != http.StatusForbidden || !strings.Contains(string(body), `User \"system:anonymous\" cannot list`) {
			t.Errorf("GET %s: HTTP %d %.300s, want 403 for system:anonymous", path, code, body)
		}
		noLeak(t, path, body, bobToken)
	}
	// The websocket protocol header authenticates only websocket upgrades.
	code, body := anon.do(t, "GET", "/api/v1/namespaces/kube-system/secrets", "",
		"Sec-WebSocket-Protocol", "base64url.bearer.authorization.k8s.io."+strings.TrimRight(b64url(bobToken), "="))
	if code != http.StatusForbidden {
		t.Errorf("websocket protocol token on a plain GET: HTTP %d %.200s, want 403", code, body)
	}
	// With anonymous auth off, the same requests are 401.
	s2 := startServer(t, func(c *localserver.Config) {
		c.AnonymousAuth = false
		c.TokenAuthFile = writeTokens(t, bobToken+`,bob,1002,"system:masters"`)
	})
	code, body = newClient(t, s2, "").do(t, "GET", "/api/v1/namespaces?access_token="+bobToken, "")
	if code != http.StatusUnauthorized {
		t.Errorf("access_token with anonymous auth off: HTTP %d, want 401", code)
	}
	noLeak(t, "401", body, bobToken)
}

// TestSeedPathTraversal: a git:REF:PATH seed cannot leave the repository
// (PATH is cleaned against the tree root), a REF cannot smuggle a git
// option, and a data dir's kubeconfig that differs is never overwritten
// without --force.
func TestSeedPathTraversal(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not on PATH")
	}
	repo := t.TempDir()
	outside := filepath.Join(filepath.Dir(repo), "outside.yaml")
	_ = os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside, namespace: default}\n"), 0o600)
	gitRun(t, repo, "init", "-q")
	if err := os.WriteFile(filepath.Join(repo, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: default}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "add", "cm.yaml")
	gitRun(t, repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "x")
	marker := filepath.Join(t.TempDir(), "pwned")
	for _, tc := range []struct{ seed, want string }{
		{"git:HEAD:../outside.yaml", "no YAML or JSON files at that path"},
		{"git:HEAD:../../../../../../etc", "no YAML or JSON files at that path"},
		{"git:--output=" + marker + ":cm.yaml", "is not a valid git revision"},
		{"git:HEAD:/../" + filepath.Base(outside), "no YAML or JSON files at that path"},
	} {
		cmd := exec.Command(kauth(t), "serve", "--listen", "127.0.0.1:0", "--seed", tc.seed)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("--seed %s: %v %s, want an error with %q", tc.seed, err, out, tc.want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a REF passed an option to git: %s exists", marker)
	}
	// --kubeconfig-out over a different file without --force: refused,
	// the file unchanged.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	_ = os.WriteFile(kc, []byte("precious"), 0o600)
	code, stderr := runChild(t, "serve", "--listen", "127.0.0.1:0", "--kubeconfig-out", kc)
	if data, _ := os.ReadFile(kc); code == 0 || string(data) != "precious" {
		t.Errorf("--kubeconfig-out over an existing file: exit %d %s; file now %.40q", code, stderr, data)
	}
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v %s", args, err, out)
	}
}
