package certs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the files kauth writes: private keys and kubeconfigs holding
// them are private from the moment they are created.
const (
	modePublic  os.FileMode = 0o644
	modePrivate os.FileMode = 0o600
)

// File is one file a command writes.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// ExistsError reports an output file that is already there.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return fmt.Sprintf("%s already exists", e.Path) }

// WriteError is a failure to write an output file (a full disk, a
// read-only folder): a runtime failure, not bad input.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("writing %s: %v", e.Path, e.Err) }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteFiles writes files all or nothing. Every path is checked first,
// so an existing file (without force) stops the write before anything
// changed. Each file goes to a temporary name in its folder, created with
// its final mode, and is then linked (refusing to replace) or, with force,
// renamed into place. If a later file fails, files written earlier in the
// same call are removed again.
func WriteFiles(files []File, force bool) error {
	if !force {
		for _, f := range files {
			if _, err := os.Lstat(f.Path); err == nil {
				return &ExistsError{Path: f.Path}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return &WriteError{Path: f.Path, Err: err}
			}
		}
	}
	// A folder made to hold a private key is private too (0700, like
	// kubeadm's pki folder); one made for public files only is 0755.
	for _, f := range files {
		if dir := filepath.Dir(f.Path); f.Mode&0o077 == 0 {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return &WriteError{Path: dir, Err: err}
			}
		}
	}
	var done []string
	for _, f := range files {
		if err := writeAtomic(f, force); err != nil {
			for _, p := range done {
				_ = os.Remove(p)
			}
			return err
		}
		done = append(done, f.Path)
	}
	return nil
}

func writeAtomic(f File, force bool) error {
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &WriteError{Path: dir, Err: err}
	}
	tmp, err := createTemp(dir, filepath.Base(f.Path), f.Mode)
	if err != nil {
		return &WriteError{Path: f.Path, Err: err}
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op once the file was renamed or linked
	_, err = tmp.Write(f.Data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &WriteError{Path: f.Path, Err: err}
	}
	if force {
		if err := os.Rename(name, f.Path); err != nil {
			return &WriteError{Path: f.Path, Err: err}
		}
		return nil
	}
	// A hard link fails if the target appeared in the meantime, where a
	// rename would silently replace it.
	err = os.Link(name, f.Path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return &ExistsError{Path: f.Path}
	}
	// Some filesystems have no hard links: fall back to a rename after
	// checking once more that the target is still absent.
	if _, serr := os.Lstat(f.Path); serr == nil {
		return &ExistsError{Path: f.Path}
	}
	if err := os.Rename(name, f.Path); err != nil {
		return &WriteError{Path: f.Path, Err: err}
	}
	return nil
}

// createTemp is os.CreateTemp with a chosen mode, so that a key file is
// never readable by others, not even for an instant.
func createTemp(dir, base string, mode os.FileMode) (*os.File, error) {
	for range 10 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("could not create a temporary file in %s", dir)
}
