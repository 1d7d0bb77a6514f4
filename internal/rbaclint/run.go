package rbaclint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kauth/kauth/internal/loader"
)

// DefaultConfigFile is read from the working directory when present.
const DefaultConfigFile = ".kauth.yaml"

// Options are what "kauth rbac lint" reads.
type Options struct {
	// Paths are loader sources: files, folders, "-" and git:REF:PATH.
	Paths     []string
	Bootstrap bool
	// ConfigFile is the configuration to read; when empty,
	// DefaultConfigFile is read if it exists.
	ConfigFile string
	Stdin      io.Reader
	Dir        string
	Now        time.Time
}

// Run reads the configuration and the manifests, then lints them. Bad
// input (unreadable or invalid files, a malformed configuration) is
// returned as an *InputError.
func Run(ctx context.Context, o Options) (*Result, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, &InputError{err}
	}
	objs, err := loader.Load(ctx, o.Paths, loader.Options{Stdin: o.Stdin, Dir: o.Dir})
	if err != nil {
		return nil, &InputError{err}
	}
	return Lint(Input{Objects: objs, Bootstrap: o.Bootstrap, Config: cfg, Now: o.Now})
}

func (o Options) config() (Config, error) {
	name, required := o.ConfigFile, true
	if name == "" {
		name, required = DefaultConfigFile, false
	}
	path := name
	if o.Dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(o.Dir, path)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return Config{}, nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return Config{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return ReadConfig(name, data)
}
