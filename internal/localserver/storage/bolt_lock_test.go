package storage

import (
	"path/filepath"
	"testing"
)

// A data file another server holds is refused with a message that says so:
// bbolt's own error is just "timeout".
func TestBoltFileInUse(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kauth.db")
	first, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Close() })
	_, err = OpenBolt(path)
	want := path + ": in use by another process (is another kauth serve running with this --data-dir?)"
	if err == nil || err.Error() != want {
		t.Fatalf("second OpenBolt = %v, want %q", err, want)
	}
}
