package tokens

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// BasicAuthRemovedIn is the kube-apiserver release that removed
// --basic-auth-file.
const BasicAuthRemovedIn = "v1.19"

// MigrateRequest converts a basic-auth password file into a static token
// file.
type MigrateRequest struct {
	In  string
	Out string
	// Force allows replacing an existing Out file.
	Force bool
	Rand  io.Reader
}

// MigrateResult lists the users written to the token file, in file order,
// with their new tokens.
type MigrateResult struct {
	In    string        `json:"in"`
	Out   string        `json:"out"`
	Users []StaticEntry `json:"users"`
	// Replaced lists the lines of users that appear again later in the
	// password file; as the password-file reader did, the later line wins.
	Replaced []int `json:"replaced,omitempty"`
}

// MigrateBasicAuth reads a --basic-auth-file (password,user,uid[,groups],
// the same CSV layout as a token file) and writes a token file with one
// fresh token per user, keeping user, uid and groups. Passwords are not
// reused as tokens.
func MigrateBasicAuth(req MigrateRequest) (*MigrateResult, error) {
	data, err := os.ReadFile(req.In)
	if err != nil {
		return nil, fmt.Errorf("reading password file: %w", err)
	}
	pf, err := ReadStatic(req.In, data)
	if err != nil {
		return nil, err
	}
	if !req.Force {
		if _, err := os.Stat(req.Out); err == nil {
			return nil, fmt.Errorf("%s already exists; use --force to replace it", req.Out)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checking %s: %w", req.Out, err)
		}
	}
	res := &MigrateResult{In: req.In, Out: req.Out, Users: []StaticEntry{}}
	var out strings.Builder
	for i, r := range pf.Records {
		if later := laterUser(pf.Records[i+1:], r.User); later {
			res.Replaced = append(res.Replaced, r.Line)
			continue
		}
		token, err := NewToken(req.Rand)
		if err != nil {
			return nil, err
		}
		line, err := EncodeStaticLine(token, r.User, r.UID, r.Groups, nil, false)
		if err != nil {
			return nil, err
		}
		out.WriteString(line)
		res.Users = append(res.Users, StaticEntry{User: r.User, UID: r.UID, Groups: r.Groups, Token: token, Line: len(res.Users) + 1})
	}
	if len(res.Users) == 0 {
		return nil, fmt.Errorf("%s: no users to migrate", req.In)
	}
	if err := WriteFileAtomic(req.Out, []byte(out.String())); err != nil {
		return nil, err
	}
	return res, nil
}

func laterUser(rest []StaticRecord, user string) bool {
	for _, r := range rest {
		if r.User == user {
			return true
		}
	}
	return false
}
