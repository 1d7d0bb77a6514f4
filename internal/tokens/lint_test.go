package tokens

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLintStatic(t *testing.T) {
	t.Parallel()
	const good = "Xq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
	const good2 = "Z9y8x7w6v5u4t3s2r1q0PoNmLkJiHgFeDcBa98765"
	tests := []struct {
		name string
		data string
		mode fs.FileMode
		want []Finding
	}{
		{name: "clean", data: good + ",alice,1,\"dev,ops\"\n", mode: 0o600, want: []Finding{}},
		{
			name: "world readable",
			data: good + ",alice,1\n",
			mode: 0o644,
			want: []Finding{{Line: 0, Severity: "warning", Rule: "file-mode", Message: "mode 0644 lets group or others read the tokens; expected 0600"}},
		},
		{
			name: "columns and comments",
			data: "# users\n" + good + ",alice\n",
			mode: 0o600,
			want: []Finding{
				{Line: 1, Severity: "error", Rule: "columns", Message: "expected at least 3 columns (token,user,uid[,groups]), got 1; kube-apiserver's reader has no comment lines; kube-apiserver refuses to start with this file"},
				{Line: 2, Severity: "error", Rule: "columns", Message: "expected at least 3 columns (token,user,uid[,groups]), got 2; kube-apiserver refuses to start with this file"},
			},
		},
		{
			name: "bad quoting",
			data: good + ",\"alice,1\n",
			mode: 0o600,
			want: []Finding{{Line: 1, Severity: "error", Rule: "csv-syntax", Message: "column 52: extraneous or missing \" in quoted-field (fields with commas, quotes or line breaks must be quoted, quotes inside doubled); kube-apiserver refuses to start with this file"}},
		},
		{
			name: "duplicate token, different users",
			data: good + ",alice,1\n" + good + ",bob,2\n",
			mode: 0o600,
			want: []Finding{{Line: 1, Severity: "error", Rule: "duplicate-token", Message: "token of user \"alice\" appears again on line 2 (user \"bob\"); kube-apiserver uses the later line, ignores this one and logs \"duplicate token ... record number '2'\""}},
		},
		{
			name: "duplicate token, same user",
			data: good + ",alice,1\n" + good + ",alice,1\n",
			mode: 0o600,
			want: []Finding{{Line: 1, Severity: "warning", Rule: "duplicate-token", Message: "token of user \"alice\" appears again on line 2 (user \"alice\"); kube-apiserver uses the later line, ignores this one and logs \"duplicate token ... record number '2'\""}},
		},
		{
			name: "user with two uids",
			data: good + ",alice,1\n" + good2 + ",alice,2\n",
			mode: 0o600,
			want: []Finding{{Line: 2, Severity: "error", Rule: "user-uids", Message: "user \"alice\" has uid \"2\" here but \"1\" on line 1; one user should have one uid"}},
		},
		{
			name: "empty fields, whitespace, groups",
			data: ",alice,1\n" + good + ",,\n" + good2 + ", bob,2,\"dev, ops,,system:masters\",x\n",
			mode: 0o600,
			want: []Finding{
				{Line: 1, Severity: "error", Rule: "empty-token", Message: "empty token: kube-apiserver skips this line (logging \"empty token ... record number '1'\"), so user \"alice\" cannot log in with it"},
				{Line: 2, Severity: "error", Rule: "empty-user", Message: "empty user name: kube-apiserver would authenticate the token as the user \"\""},
				{Line: 2, Severity: "warning", Rule: "empty-uid", Message: "empty uid for user \"\""},
				{Line: 3, Severity: "warning", Rule: "empty-group", Message: "user \" bob\" gets an empty group name (an empty groups column, or a stray comma)"},
				{Line: 3, Severity: "warning", Rule: "extra-columns", Message: "5 columns; kube-apiserver ignores everything after the 4th (groups must be one quoted field: token,user,uid,\"g1,g2\")"},
				{Line: 3, Severity: "warning", Rule: "whitespace", Message: "user \" bob\" has leading or trailing whitespace, which kube-apiserver keeps"},
				{Line: 3, Severity: "warning", Rule: "whitespace", Message: "group \" ops\" has leading or trailing whitespace, which kube-apiserver keeps (write \"g1,g2\", not \"g1, g2\")"},
				{Line: 3, Severity: "info", Rule: "privileged-group", Message: "user \" bob\" is in system:masters, which bypasses authorization"},
			},
		},
		{
			name: "weak tokens",
			data: "abc123,alice,1\nadmin-token-for-the-cluster,bob,2\naaaaaaaaaaaaaaaaaaaaaaaaa,carol,3\nAb3dE6gH9jK2mN5pQ8,dave,4\n\"tok en-9f8e7d6c5b4a3z2y1x\",eve,5\n",
			mode: 0o600,
			want: []Finding{
				{Line: 1, Severity: "error", Rule: "weak-token", Message: "weak token for user \"alice\": only 6 characters long"},
				{Line: 2, Severity: "error", Rule: "weak-token", Message: "weak token for user \"bob\": it is built around the common word \"admin\""},
				{Line: 3, Severity: "error", Rule: "weak-token", Message: "weak token for user \"carol\": it carries about 0 bits of entropy, expected at least 128"},
				{Line: 4, Severity: "warning", Rule: "short-token", Message: "token for user \"dave\" is 18 characters long; expected at least 22 (128 bits)"},
				{Line: 5, Severity: "error", Rule: "token-chars", Message: "token for user \"eve\" contains whitespace or a control character; no client can send it in an Authorization header"},
			},
		},
		{
			name: "byte order mark",
			data: "\xef\xbb\xbf" + good + ",alice,1\n",
			mode: 0o600,
			want: []Finding{{Line: 1, Severity: "error", Rule: "byte-order-mark", Message: "the file starts with a UTF-8 byte order mark, which kube-apiserver keeps as part of the first token"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := LintStatic("tokens.csv", []byte(tc.data), tc.mode)
			if diff := cmp.Diff(tc.want, got.Findings); diff != "" {
				t.Errorf("LintStatic() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLintStaticCounts(t *testing.T) {
	t.Parallel()
	got := LintStatic("tokens.csv", []byte("Xq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345,alice,1\nXq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345,bob,2\n"), 0o640)
	want := &LintResult{File: "tokens.csv", Tokens: 1, Errors: 1, Warnings: 1}
	got.Findings = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LintStatic() mismatch (-want +got):\n%s", diff)
	}
}
