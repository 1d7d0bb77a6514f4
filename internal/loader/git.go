package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"
)

// GitSpec is a parsed git:REF:PATH source: the objects at PATH (a file or
// folder, relative to the repository root) in commit REF.
type GitSpec struct {
	Ref  string
	Path string
}

// ParseGitSpec parses "git:REF:PATH". REF is anything git rev-parse
// accepts (a branch, tag, commit, origin/main, HEAD~1); PATH may be empty
// or "." for the whole tree.
func ParseGitSpec(s string) (GitSpec, error) {
	rest, ok := strings.CutPrefix(s, "git:")
	if !ok {
		return GitSpec{}, fmt.Errorf("%q: expected git:REF:PATH", s)
	}
	ref, p, ok := strings.Cut(rest, ":")
	if !ok {
		return GitSpec{}, fmt.Errorf("%q: expected git:REF:PATH (missing the second colon)", s)
	}
	if ref == "" {
		return GitSpec{}, fmt.Errorf("%q: empty REF; expected git:REF:PATH such as git:origin/main:rbac/", s)
	}
	if strings.HasPrefix(ref, "-") || strings.ContainsAny(ref, " \t\n\x00") {
		return GitSpec{}, fmt.Errorf("%q: REF %q is not a valid git revision", s, ref)
	}
	if strings.ContainsRune(p, '\x00') {
		return GitSpec{}, fmt.Errorf("%q: PATH contains a NUL byte", s)
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	return GitSpec{Ref: ref, Path: p}, nil
}

func (g GitSpec) String() string { return "git:" + g.Ref + ":" + g.Path }

// loadGit reads the manifests under spec.Path at spec.Ref with git
// ls-tree and cat-file, never touching the work tree.
func loadGit(ctx context.Context, spec GitSpec, dir string) ([]Object, error) {
	top, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s: not in a git repository: %w", spec, err)
	}
	root := strings.TrimSpace(string(top))
	if _, err := git(ctx, root, "rev-parse", "--verify", "--quiet", spec.Ref+"^{commit}"); err != nil {
		return nil, fmt.Errorf("%s: unknown revision %q", spec, spec.Ref)
	}
	args := []string{"ls-tree", "-r", "-z", "--full-tree", "--name-only", spec.Ref}
	if spec.Path != "" {
		args = append(args, "--", spec.Path)
	}
	list, err := git(ctx, root, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	var files []string
	for f := range strings.SplitSeq(string(list), "\x00") {
		if f != "" && IsManifest(path.Base(f)) && !hiddenDir(f) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no YAML or JSON files at that path in %s", spec, spec.Ref)
	}
	var out []Object
	for _, f := range files {
		data, err := git(ctx, root, "cat-file", "blob", spec.Ref+":"+f)
		if err != nil {
			return nil, fmt.Errorf("git:%s:%s: %w", spec.Ref, f, err)
		}
		objs, err := Decode("git:"+spec.Ref+":"+f, data)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func hiddenDir(f string) bool {
	for seg := range strings.SplitSeq(path.Dir(f), "/") {
		if strings.HasPrefix(seg, ".") && seg != "." {
			return true
		}
	}
	return false
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = ee.String()
			}
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("running git: %w", err)
	}
	return out, nil
}
