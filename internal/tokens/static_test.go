package tokens

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/klog/v2"
)

func TestMain(m *testing.M) {
	// tokenfile.NewCSV warns about duplicate and empty tokens through klog;
	// the tests check those cases themselves.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

func TestParseStatic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		data     string
		want     []StaticRecord
		problems []StaticProblem
	}{
		{
			name: "three and four columns",
			data: "t1,alice,1\nt2,bob,2,\"dev,ops\"\n",
			want: []StaticRecord{
				{Line: 1, Token: "t1", User: "alice", UID: "1", Columns: 3, Record: 1},
				{Line: 2, Token: "t2", User: "bob", UID: "2", Groups: []string{"dev", "ops"}, Columns: 4, Record: 2},
			},
		},
		{
			name: "blank lines skipped, crlf, no final newline",
			data: "\r\nt1,alice,1\r\n\n\nt2,bob,2",
			want: []StaticRecord{
				{Line: 2, Token: "t1", User: "alice", UID: "1", Columns: 3, Record: 1},
				{Line: 5, Token: "t2", User: "bob", UID: "2", Columns: 3, Record: 2},
			},
		},
		{
			name: "leading spaces kept, empty group column is one empty group",
			data: "t1, alice,1,\n",
			want: []StaticRecord{{Line: 1, Token: "t1", User: " alice", UID: "1", Groups: []string{""}, Columns: 4, Record: 1}},
		},
		{
			name: "extra columns kept aside",
			data: "t1,alice,1,dev,ops,x\n",
			want: []StaticRecord{{Line: 1, Token: "t1", User: "alice", UID: "1", Groups: []string{"dev"}, Extra: []string{"ops", "x"}, Columns: 6, Record: 1}},
		},
		{
			name: "quoted field over two lines",
			data: "\"t\n1\",alice,1\nt2,bob,2\n",
			want: []StaticRecord{
				{Line: 1, Token: "t\n1", User: "alice", UID: "1", Columns: 3, Record: 1},
				{Line: 3, Token: "t2", User: "bob", UID: "2", Columns: 3, Record: 2},
			},
		},
		{
			name:     "too few columns and a comment",
			data:     "# comment\nt1,alice\n",
			problems: []StaticProblem{{Line: 1, Msg: "expected at least 3 columns (token,user,uid[,groups]), got 1; kube-apiserver's reader has no comment lines"}, {Line: 2, Msg: "expected at least 3 columns (token,user,uid[,groups]), got 2"}},
		},
		{
			name:     "bare quote",
			data:     "t1,al\"ice,1\nt2,bob,2\n",
			want:     []StaticRecord{{Line: 2, Token: "t2", User: "bob", UID: "2", Columns: 3, Record: 1}},
			problems: []StaticProblem{{Line: 1, Msg: "column 6: bare \" in non-quoted-field (fields with commas, quotes or line breaks must be quoted, quotes inside doubled)"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := ParseStatic("tokens.csv", []byte(tc.data))
			opts := cmp.Options{cmp.AllowUnexported(StaticRecord{}), cmpopts.IgnoreFields(StaticRecord{}, "start", "end"), cmpopts.EquateEmpty()}
			if diff := cmp.Diff(tc.want, f.Records, opts); diff != "" {
				t.Errorf("ParseStatic() records mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.problems, f.Problems, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseStatic() problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseStaticAgreesWithTokenfile checks every testdata file against
// kube-apiserver's own reader: the same files are refused, and every token
// maps to the same user, uid and groups.
func TestParseStaticAgreesWithTokenfile(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "static", "*.csv"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstTokenfile(t, p, data)
		})
	}
}

// checkAgainstTokenfile compares ReadStatic with tokenfile.NewCSV on the
// file at path holding data.
func checkAgainstTokenfile(t *testing.T, path string, data []byte) {
	t.Helper()
	auth, upstreamErr := tokenfile.NewCSV(path)
	f, err := ReadStatic(path, data)
	if (upstreamErr == nil) != (err == nil) {
		t.Fatalf("ReadStatic() error = %v, tokenfile.NewCSV() error = %v", err, upstreamErr)
	}
	if err != nil {
		return
	}
	for _, r := range f.Records {
		resp, ok, err := auth.AuthenticateToken(context.Background(), r.Token)
		got := f.Lookup(r.Token)
		if r.Token == "" {
			if ok || got != nil {
				t.Errorf("line %d: empty token authenticated", r.Line)
			}
			continue
		}
		if err != nil || !ok || got == nil {
			t.Fatalf("line %d: tokenfile ok=%v err=%v, Lookup found=%v", r.Line, ok, err, got != nil)
		}
		want := UserInfo{Username: resp.User.GetName(), UID: resp.User.GetUID(), Groups: resp.User.GetGroups()}
		have := UserInfo{Username: got.User, UID: got.UID, Groups: got.Groups}
		if diff := cmp.Diff(want, have, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("line %d: identity mismatch (-tokenfile +kauth):\n%s", r.Line, diff)
		}
	}
}

// TestWrittenFilesReadByTokenfile is the contract: files kauth writes
// (add, rotate, remove, basic-auth migrate) are read by kube-apiserver's
// token-file authenticator as exactly the users kauth meant.
func TestWrittenFilesReadByTokenfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.csv")
	users := []AddRequest{
		{User: "alice", UID: "1001", Groups: []string{"dev", "ops"}},
		{User: "bob", UID: "1002"},
		{User: "carol smith", UID: "u,3", Groups: []string{"team \"a\"", "system:masters"}},
		{User: "dave", UID: "", Groups: []string{"only"}},
		{User: "ève", UID: "5", Groups: []string{"grüppe"}, Token: "G1ven_Tq8n-9f3Kx7Lm2Pz5Rw4Vy6Hb"},
	}
	want := map[string]UserInfo{}
	for _, u := range users {
		e, err := AddStaticToken(path, u)
		if err != nil {
			t.Fatalf("AddStaticToken(%s) error = %v", u.User, err)
		}
		want[e.Token] = UserInfo{Username: u.User, UID: u.UID, Groups: u.Groups}
	}
	assertTokenfile(t, path, want)
	rot, err := RotateStaticToken(path, "carol smith", nil)
	if err != nil {
		t.Fatalf("RotateStaticToken() error = %v", err)
	}
	for tok, u := range want {
		if u.Username == "carol smith" {
			delete(want, tok)
		}
	}
	want[rot.Token] = UserInfo{Username: "carol smith", UID: "u,3", Groups: []string{"team \"a\"", "system:masters"}}
	if _, err := RemoveStaticUser(path, "bob"); err != nil {
		t.Fatalf("RemoveStaticUser() error = %v", err)
	}
	for tok, u := range want {
		if u.Username == "bob" {
			delete(want, tok)
		}
	}
	assertTokenfile(t, path, want)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
	}
}

// assertTokenfile loads path with tokenfile.NewCSV and checks that it
// authenticates exactly the tokens in want.
func assertTokenfile(t *testing.T, path string, want map[string]UserInfo) {
	t.Helper()
	auth, err := tokenfile.NewCSV(path)
	if err != nil {
		t.Fatalf("tokenfile.NewCSV() error = %v", err)
	}
	for tok, u := range want {
		resp, ok, err := auth.AuthenticateToken(context.Background(), tok)
		if err != nil || !ok {
			t.Fatalf("token of %q not authenticated (ok=%v, err=%v)", u.Username, ok, err)
		}
		got := UserInfo{Username: resp.User.GetName(), UID: resp.User.GetUID(), Groups: resp.User.GetGroups()}
		if diff := cmp.Diff(u, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("identity mismatch (-want +got):\n%s", diff)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ParseStatic(path, data).Records); n != len(want) {
		t.Errorf("file has %d records, want %d", n, len(want))
	}
}

// TestEditsKeepOtherBytes checks that rotate and remove touch only their
// own line: CRLF endings, blank lines, quoting and extra columns of the
// other lines survive byte for byte.
func TestEditsKeepOtherBytes(t *testing.T) {
	t.Parallel()
	const before = "\r\nfirst-token-0123456789abcdef,alice,1,\"a,b\",x\r\n\r\n\"odd\"\"token-0123456789abcdef\",bob,2\r\nthird-token-0123456789abcdef, carol ,3"
	tests := []struct {
		name string
		edit func(path string) error
		want func(newToken string) string
	}{
		{
			name: "remove middle",
			edit: func(p string) error { _, err := RemoveStaticUser(p, "bob"); return err },
			want: func(string) string {
				return "\r\nfirst-token-0123456789abcdef,alice,1,\"a,b\",x\r\n\r\nthird-token-0123456789abcdef, carol ,3"
			},
		},
		{
			name: "remove last without newline",
			edit: func(p string) error { _, err := RemoveStaticUser(p, " carol "); return err },
			want: func(string) string {
				return "\r\nfirst-token-0123456789abcdef,alice,1,\"a,b\",x\r\n\r\n\"odd\"\"token-0123456789abcdef\",bob,2\r\n"
			},
		},
		{
			name: "rotate first keeps groups and extra columns",
			edit: func(p string) error {
				_, err := RotateStaticToken(p, "alice", bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
				return err
			},
			want: func(string) string {
				return "\r\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc,alice,1,\"a,b\",x\r\n\r\n\"odd\"\"token-0123456789abcdef\",bob,2\r\nthird-token-0123456789abcdef, carol ,3"
			},
		},
		{
			name: "rotate last keeps missing newline",
			edit: func(p string) error {
				_, err := RotateStaticToken(p, " carol ", bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
				return err
			},
			want: func(string) string {
				return "\r\nfirst-token-0123456789abcdef,alice,1,\"a,b\",x\r\n\r\n\"odd\"\"token-0123456789abcdef\",bob,2\r\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc,\" carol \",3"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.csv")
			if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(path); err != nil {
				t.Fatalf("edit error = %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(""), string(got)); diff != "" {
				t.Errorf("file mismatch (-want +got):\n%s", diff)
			}
			checkAgainstTokenfile(t, path, got)
		})
	}
}

func TestAddStaticTokenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		req     AddRequest
		wantErr string
	}{
		{name: "user exists", file: "tok-0123456789abcdefghijkl,alice,1\n", req: AddRequest{User: "alice", UID: "2"}, wantErr: "tokens.csv:1: user \"alice\": already in the file"},
		{name: "malformed file", file: "x,alice\n", req: AddRequest{User: "bob"}, wantErr: "tokens.csv:1: expected at least 3 columns"},
		{name: "token with comma", req: AddRequest{User: "bob", Token: "abc,defghijklmnopqrstuvwxyz"}, wantErr: "--token: token has ',' at position 4"},
		{name: "token with space", req: AddRequest{User: "bob", Token: "abcdefghijklm nopqrstuvwxyz"}, wantErr: "--token: token has whitespace or a control character at position 14"},
		{name: "short token", req: AddRequest{User: "bob", Token: "Ab3dE6gH9"}, wantErr: "--token: token is 9 characters long, expected at least 22"},
		{name: "dictionary token", req: AddRequest{User: "bob", Token: "kubernetes-password-2024"}, wantErr: "--token: token is weak: it is built around the common word \"kubernetes\""},
		{name: "low entropy token", req: AddRequest{User: "bob", Token: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, wantErr: "--token: token is weak: it carries about 0 bits"},
		{name: "token in use", file: "G1ven_Tq8n-9f3Kx7Lm2Pz5Rw4Vy6Hb,alice,1\n", req: AddRequest{User: "bob", Token: "G1ven_Tq8n-9f3Kx7Lm2Pz5Rw4Vy6Hb"}, wantErr: "tokens.csv:1: the given token is already in use (user \"alice\")"},
		{name: "empty user", req: AddRequest{User: ""}, wantErr: "--user \"\": expected a non-empty name"},
		{name: "group with comma", req: AddRequest{User: "bob", Groups: []string{"a,b"}}, wantErr: "--group \"a,b\": expected a non-empty name without commas"},
		{name: "user with newline", req: AddRequest{User: "bob\nx"}, wantErr: "--user \"bob\\nx\": expected a non-empty name without control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tokens.csv")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := AddStaticToken(path, tc.req)
			if err == nil {
				t.Fatal("AddStaticToken() error = nil")
			}
			msg := strings.ReplaceAll(err.Error(), path, "tokens.csv")
			if !strings.HasPrefix(msg, tc.wantErr) {
				t.Errorf("AddStaticToken() error = %q, want prefix %q", msg, tc.wantErr)
			}
			if tc.req.Token != "" && strings.Contains(msg, tc.req.Token) {
				t.Errorf("error %q contains the token", msg)
			}
		})
	}
}

func TestAddStaticTokenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.csv")
	e, err := AddStaticToken(path, AddRequest{User: "alice", UID: "1", Groups: []string{"a", "b"}, Rand: bytes.NewReader(bytes.Repeat([]byte{0xfb}, 32))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s,alice,1,\"a,b\"\n", string(got)); diff != "" {
		t.Errorf("file mismatch (-want +got):\n%s", diff)
	}
	if e.Line != 1 {
		t.Errorf("Line = %d, want 1", e.Line)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
	}
	if len(e.Token) != 43 {
		t.Errorf("token length = %d, want 43 (256 bits)", len(e.Token))
	}
}

func TestRotateRemoveErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.csv")
	data := "tok-a-0123456789abcdefghij,alice,1\ntok-b-0123456789abcdefghij,alice,1\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := RotateStaticToken(path, "alice", nil); err == nil || !strings.Contains(err.Error(), ":2: user \"alice\" is on 2 lines (also line 1)") {
		t.Errorf("RotateStaticToken() error = %v", err)
	}
	if _, err := RotateStaticToken(path, "bob", nil); err == nil || !strings.HasSuffix(err.Error(), "no line for user \"bob\"") {
		t.Errorf("RotateStaticToken() error = %v", err)
	}
	res, err := RemoveStaticUser(path, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2}, res.Lines); diff != "" {
		t.Errorf("Lines mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParseStatic(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "static", "*.csv"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		sf := ParseStatic("f.csv", data)
		last := 0
		for _, r := range sf.Records {
			if r.start < last || r.end < r.start || r.end > len(data) {
				t.Fatalf("record span [%d,%d) out of order (previous end %d, len %d)", r.start, r.end, last, len(data))
			}
			last = r.end
			sub := ParseStatic("sub.csv", data[r.start:r.end])
			if len(sub.Records) != 1 || sub.Records[0].Token != r.Token || sub.Records[0].User != r.User {
				t.Fatalf("record span of line %d does not hold exactly that record", r.Line)
			}
		}
		path := filepath.Join(dir, "tokens.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		checkAgainstTokenfile(t, path, data)
	})
}

// TestEditThroughSymlink checks that an edit replaces the file a symlink
// points to and leaves the link in place.
func TestEditThroughSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "real.csv")
	link := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(target, []byte("tok-a-0123456789abcdefghij,alice,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.csv", link); err != nil {
		t.Fatal(err)
	}
	if _, err := AddStaticToken(link, AddRequest{User: "bob", UID: "2"}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced by a file (err %v)", err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ParseStatic(target, data).Records); n != 2 {
		t.Errorf("target has %d records, want 2", n)
	}
}
