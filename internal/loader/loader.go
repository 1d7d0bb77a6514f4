package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
)

// Source is where an object came from: a file (or "-" for stdin,
// "git:REF:PATH" for history, "live" for a cluster) and the 1-based line
// where its document starts.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// String renders the source the way editors jump to it: path:line.
func (s Source) String() string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// Object is one decoded object and its source.
type Object struct {
	Object runtime.Object
	Source Source
}

// Options tune Load.
type Options struct {
	// Stdin is read for the source "-".
	Stdin io.Reader
	// Dir is the base for relative paths and the folder git runs in; the
	// working directory when empty.
	Dir string
}

// maxFileSize bounds one input file; policy sources are small and a larger
// file is more likely a mistake (a binary, a dump) than RBAC.
const maxFileSize = 64 << 20

// Load reads every source in order and returns the objects in order: files
// of a folder in lexical order, documents in file order, List items in list
// order.
func Load(ctx context.Context, sources []string, opts Options) ([]Object, error) {
	var out []Object
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		objs, err := loadOne(ctx, src, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func loadOne(ctx context.Context, src string, opts Options) ([]Object, error) {
	switch {
	case src == "":
		return nil, errors.New("empty source: expected a file, a folder, - or git:REF:PATH")
	case src == "-":
		if opts.Stdin == nil {
			return nil, errors.New("-: no standard input")
		}
		data, err := io.ReadAll(io.LimitReader(opts.Stdin, maxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return Decode("-", data)
	case strings.HasPrefix(src, "git:"):
		spec, err := ParseGitSpec(src)
		if err != nil {
			return nil, err
		}
		return loadGit(ctx, spec, opts.Dir)
	default:
		return loadPath(resolve(opts.Dir, src), src)
	}
}

func resolve(dir, p string) string {
	if dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// loadPath reads a file or walks a folder; display keeps the user's
// spelling of the path in errors.
func loadPath(path, display string) ([]Object, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", display, unwrapPathError(err))
	}
	if !info.IsDir() {
		return loadFile(path, display)
	}
	var out []Object
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !IsManifest(d.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(path, p)
		objs, err := loadFile(p, filepath.Join(display, rel))
		out = append(out, objs...)
		return err
	})
	return out, err
}

// IsManifest tells whether a file name looks like a YAML or JSON manifest,
// the files a folder source reads.
func IsManifest(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func loadFile(path, display string) ([]Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", display, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", display, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB; expected a manifest", display, maxFileSize>>20)
	}
	return Decode(display, data)
}

// unwrapPathError drops the *PathError wrapper, whose path the caller
// already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// hasBOM tells whether data starts with a UTF-8 byte order mark.
func hasBOM(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\xef\xbb\xbf"))
}
