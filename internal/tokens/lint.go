package tokens

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Severities of a [Finding]. Only errors make lint fail.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding is one thing lint found in a static token file. Line 0 means the
// file as a whole.
type Finding struct {
	Line     int    `json:"line"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// LintResult is the outcome of linting one static token file.
type LintResult struct {
	File string `json:"file"`
	// Tokens is how many tokens kube-apiserver would accept from the file
	// (distinct, non-empty), or 0 when it refuses the file.
	Tokens   int       `json:"tokens"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Findings []Finding `json:"findings"`
}

// LintStaticFile reads and lints the static token file at path, including
// its permissions.
func LintStaticFile(path string) (*LintResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	return LintStatic(path, data, st.Mode().Perm()), nil
}

// LintStatic lints a static token file's contents: what kube-apiserver
// would refuse (CSV syntax, fewer than 3 columns), what it would read
// differently from what the author meant (empty tokens it skips, a later
// duplicate token replacing an earlier one, stray whitespace kept in
// names, empty groups, extra columns it ignores), one user with several
// uids, weak tokens, and a mode that lets group or others read it.
func LintStatic(name string, data []byte, mode fs.FileMode) *LintResult {
	f := ParseStatic(name, data)
	res := &LintResult{File: name}
	add := func(line int, sev, rule, format string, args ...any) {
		res.Findings = append(res.Findings, Finding{Line: line, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if mode&0o077 != 0 {
		add(0, SeverityWarning, "file-mode", "mode %04o lets group or others read the tokens; expected 0600", mode)
	}
	for _, p := range f.Problems {
		rule := "csv-syntax"
		if strings.HasPrefix(p.Msg, "expected at least 3 columns") {
			rule = "columns"
		}
		add(p.Line, SeverityError, rule, "%s; kube-apiserver refuses to start with this file", p.Msg)
	}
	if len(data) >= 3 && string(data[:3]) == "\xef\xbb\xbf" {
		add(1, SeverityError, "byte-order-mark", "the file starts with a UTF-8 byte order mark, which kube-apiserver keeps as part of the first token")
	}
	for i := range f.Records {
		lintRecord(&f.Records[i], add)
	}
	lintDuplicates(f, add)
	lintUIDs(f, add)
	if len(f.Problems) == 0 {
		res.Tokens = countTokens(f)
	}
	slices.SortStableFunc(res.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), strings.Compare(a.Rule, b.Rule))
	})
	for _, fd := range res.Findings {
		switch fd.Severity {
		case SeverityError:
			res.Errors++
		case SeverityWarning:
			res.Warnings++
		}
	}
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

type addFunc func(line int, sev, rule, format string, args ...any)

func lintRecord(r *StaticRecord, add addFunc) {
	if r.Token == "" {
		add(r.Line, SeverityError, "empty-token", "empty token: kube-apiserver skips this line (logging \"empty token ... record number '%d'\"), so user %q cannot log in with it", r.Record, r.User)
		return
	}
	if r.User == "" {
		add(r.Line, SeverityError, "empty-user", "empty user name: kube-apiserver would authenticate the token as the user \"\"")
	}
	if r.UID == "" {
		add(r.Line, SeverityWarning, "empty-uid", "empty uid for user %q", r.User)
	}
	if r.Columns > 4 {
		add(r.Line, SeverityWarning, "extra-columns", "%d columns; kube-apiserver ignores everything after the 4th (groups must be one quoted field: token,user,uid,\"g1,g2\")", r.Columns)
	}
	lintTokenChars(r, add)
	for _, field := range []struct{ name, value string }{{"user", r.User}, {"uid", r.UID}} {
		if hasOuterSpace(field.value) {
			add(r.Line, SeverityWarning, "whitespace", "%s %q has leading or trailing whitespace, which kube-apiserver keeps", field.name, field.value)
		}
	}
	lintGroups(r, add)
	if msg := tokenWeakness(r.Token); msg != "" {
		add(r.Line, SeverityError, "weak-token", "weak token for user %q: %s", r.User, msg)
	} else if len(r.Token) < MinTokenLength {
		add(r.Line, SeverityWarning, "short-token", "token for user %q is %d characters long; expected at least %d (128 bits)", r.User, len(r.Token), MinTokenLength)
	}
}

// lintTokenChars flags tokens no client can present: the bearer
// authenticator splits "Bearer TOKEN" on spaces and HTTP headers carry
// no line breaks.
func lintTokenChars(r *StaticRecord, add addFunc) {
	if !utf8.ValidString(r.Token) {
		add(r.Line, SeverityError, "token-chars", "token for user %q is not valid UTF-8", r.User)
		return
	}
	for _, c := range r.Token {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			add(r.Line, SeverityError, "token-chars", "token for user %q contains whitespace or a control character; no client can send it in an Authorization header", r.User)
			return
		}
	}
}

func lintGroups(r *StaticRecord, add addFunc) {
	for _, g := range r.Groups {
		switch {
		case g == "":
			add(r.Line, SeverityWarning, "empty-group", "user %q gets an empty group name (an empty groups column, or a stray comma)", r.User)
		case hasOuterSpace(g):
			add(r.Line, SeverityWarning, "whitespace", "group %q has leading or trailing whitespace, which kube-apiserver keeps (write \"g1,g2\", not \"g1, g2\")", g)
		case g == "system:masters":
			add(r.Line, SeverityInfo, "privileged-group", "user %q is in system:masters, which bypasses authorization", r.User)
		}
	}
}

// tokenWeakness explains why a token from a file is guessable, or "".
func tokenWeakness(token string) string {
	if len(token) < 16 {
		return fmt.Sprintf("only %d characters long", len(token))
	}
	return weakness(token)
}

func hasOuterSpace(s string) bool {
	return s != strings.TrimSpace(s)
}

// lintDuplicates reports tokens on more than one line. kube-apiserver
// keeps the last one; that is an error when the lines name different
// identities, since the earlier ones are then silently lost.
func lintDuplicates(f *StaticFile, add addFunc) {
	byToken := map[string][]*StaticRecord{}
	var order []string
	for i := range f.Records {
		r := &f.Records[i]
		if r.Token == "" {
			continue
		}
		if _, seen := byToken[r.Token]; !seen {
			order = append(order, r.Token)
		}
		byToken[r.Token] = append(byToken[r.Token], r)
	}
	for _, tok := range order {
		recs := byToken[tok]
		if len(recs) < 2 {
			continue
		}
		winner := recs[len(recs)-1]
		for _, r := range recs[:len(recs)-1] {
			sev := SeverityWarning
			if !sameIdentity(r, winner) {
				sev = SeverityError
			}
			add(r.Line, sev, "duplicate-token", "token of user %q appears again on line %d (user %q); kube-apiserver uses the later line, ignores this one and logs \"duplicate token ... record number '%d'\"", r.User, winner.Line, winner.User, winner.Record)
		}
	}
}

func sameIdentity(a, b *StaticRecord) bool {
	return a.User == b.User && a.UID == b.UID && slices.Equal(a.Groups, b.Groups)
}

// lintUIDs reports users that appear with different uids.
func lintUIDs(f *StaticFile, add addFunc) {
	first := map[string]*StaticRecord{}
	for i := range f.Records {
		r := &f.Records[i]
		if r.Token == "" {
			continue
		}
		prev, ok := first[r.User]
		if !ok {
			first[r.User] = r
			continue
		}
		if prev.UID != r.UID {
			add(r.Line, SeverityError, "user-uids", "user %q has uid %q here but %q on line %d; one user should have one uid", r.User, r.UID, prev.UID, prev.Line)
		}
	}
}

func countTokens(f *StaticFile) int {
	seen := map[string]bool{}
	for _, r := range f.Records {
		if r.Token != "" {
			seen[r.Token] = true
		}
	}
	return len(seen)
}

func severityRank(s string) int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	default:
		return 2
	}
}
