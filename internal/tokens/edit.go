package tokens

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// StaticEntry is one user's line in a static token file.
type StaticEntry struct {
	User   string   `json:"user"`
	UID    string   `json:"uid"`
	Groups []string `json:"groups,omitempty"`
	// Token is the bearer token. It is rendered only by commands whose job
	// is to hand it out, once.
	Token string `json:"token,omitempty"`
	Line  int    `json:"line"`
}

// AddRequest asks for a new line in a static token file.
type AddRequest struct {
	User   string
	UID    string
	Groups []string
	// Token is used when set (after [ValidateToken]); otherwise a fresh
	// one is read from Rand.
	Token string
	Rand  io.Reader
}

// ErrUserExists is returned when adding a user that the file already has.
var ErrUserExists = errors.New("already in the file")

// AddStaticToken appends a line for a new user to the token file at path,
// creating the file (mode 0600) when it does not exist. It refuses a file
// kube-apiserver would refuse, a user already in the file and a token
// already in the file. Every other byte of the file stays as it was.
func AddStaticToken(path string, req AddRequest) (*StaticEntry, error) {
	if err := validateEntry(req.User, req.UID, req.Groups); err != nil {
		return nil, err
	}
	if req.Token != "" {
		if err := ValidateToken(req.Token); err != nil {
			return nil, fmt.Errorf("--token: %w", err)
		}
	}
	f, err := readStaticFile(path, true)
	if err != nil {
		return nil, err
	}
	if recs := f.UserRecords(req.User); len(recs) > 0 {
		return nil, fmt.Errorf("%s:%d: user %q: %w", path, recs[0].Line, req.User, ErrUserExists)
	}
	token := req.Token
	if token == "" {
		if token, err = NewToken(req.Rand); err != nil {
			return nil, err
		}
	}
	if r := f.Lookup(token); r != nil {
		return nil, fmt.Errorf("%s:%d: the given token is already in use (user %q)", path, r.Line, r.User)
	}
	line, err := EncodeStaticLine(token, req.User, req.UID, req.Groups, nil, f.CRLF)
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(path, f.appendLine(line)); err != nil {
		return nil, err
	}
	return &StaticEntry{User: req.User, UID: req.UID, Groups: req.Groups, Token: token, Line: lastLine(f)}, nil
}

// lastLine is the line number an appended line lands on.
func lastLine(f *StaticFile) int {
	return strings.Count(string(f.appendLine("")), "\n") + 1
}

func validateEntry(user, uid string, groups []string) error {
	if user == "" || strings.TrimSpace(user) != user || hasControl(user) {
		return fmt.Errorf("--user %q: expected a non-empty name without control characters or leading or trailing whitespace", user)
	}
	if hasControl(uid) {
		return fmt.Errorf("--uid %q: expected no control characters", uid)
	}
	for _, g := range groups {
		if g == "" || strings.TrimSpace(g) != g || strings.Contains(g, ",") || hasControl(g) {
			return fmt.Errorf("--group %q: expected a non-empty name without commas, control characters or leading or trailing whitespace", g)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// RemoveResult tells which lines a removal took out.
type RemoveResult struct {
	File  string `json:"file"`
	User  string `json:"user"`
	Lines []int  `json:"lines"`
}

// RemoveStaticUser removes every line of user from the token file at
// path. Every other byte stays as it was.
func RemoveStaticUser(path, user string) (*RemoveResult, error) {
	f, err := readStaticFile(path, false)
	if err != nil {
		return nil, err
	}
	res := &RemoveResult{File: path, User: user, Lines: []int{}}
	repl := map[int]string{}
	for i, r := range f.Records {
		if r.User == user {
			repl[i] = ""
			res.Lines = append(res.Lines, r.Line)
		}
	}
	if len(repl) == 0 {
		return nil, fmt.Errorf("%s: no line for user %q", path, user)
	}
	if err := WriteFileAtomic(path, f.replaceRecords(repl)); err != nil {
		return nil, err
	}
	return res, nil
}

// RotateStaticToken gives user a fresh token from r, keeping its uid,
// groups and any further columns. A user on several lines is refused:
// which token to replace would be a guess.
func RotateStaticToken(path, user string, r io.Reader) (*StaticEntry, error) {
	f, err := readStaticFile(path, false)
	if err != nil {
		return nil, err
	}
	recs := f.UserRecords(user)
	switch {
	case len(recs) == 0:
		return nil, fmt.Errorf("%s: no line for user %q", path, user)
	case len(recs) > 1:
		return nil, fmt.Errorf("%s:%d: user %q is on %d lines (also line %d); remove the extra lines first", path, recs[1].Line, user, len(recs), recs[0].Line)
	}
	token, err := NewToken(r)
	if err != nil {
		return nil, err
	}
	rec := recs[0]
	line, err := EncodeStaticLine(token, rec.User, rec.UID, rec.Groups, rec.Extra, endsCRLF(f.Data[rec.start:rec.end]))
	if err != nil {
		return nil, err
	}
	idx := indexOf(f, rec)
	if rec.end == len(f.Data) && !strings.HasSuffix(string(f.Data), "\n") {
		line = strings.TrimRight(line, "\r\n")
	}
	if err := WriteFileAtomic(path, f.replaceRecords(map[int]string{idx: line})); err != nil {
		return nil, err
	}
	return &StaticEntry{User: rec.User, UID: rec.UID, Groups: rec.Groups, Token: token, Line: rec.Line}, nil
}

func endsCRLF(b []byte) bool {
	return strings.HasSuffix(string(b), "\r\n")
}

func indexOf(f *StaticFile, rec *StaticRecord) int {
	for i := range f.Records {
		if &f.Records[i] == rec {
			return i
		}
	}
	return -1
}

// readStaticFile reads and strictly parses the token file at path. A
// missing file is an empty file when create is set.
func readStaticFile(path string, create bool) (*StaticFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return ParseStatic(path, nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	return ReadStatic(path, data)
}

// WriteError is a failure to write a file, as opposed to a problem with
// the input; callers map it to a runtime failure.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("writing %s: %v", e.Path, e.Err) }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteFileAtomic replaces path with data: it writes a temporary file in
// the same directory, created with mode 0600 (os.CreateTemp's mode, never
// widened), syncs it and renames it over path, so readers see the old or
// the new file, never a mix.
func WriteFileAtomic(path string, data []byte) error {
	if err := writeFileAtomic(path, data); err != nil {
		return &WriteError{Path: path, Err: err}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	// Replace the file a symlink points to, not the link: token files are
	// often linked into place from a config directory.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}
