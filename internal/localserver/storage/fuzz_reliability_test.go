package storage

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// FuzzOpenBoltContents writes a bbolt file whose format version,
// resourceVersion and one object (key and value) are arbitrary, as a
// damaged or foreign --data-dir would have, and opens it: OpenBolt either
// refuses it with an error naming the file, or loads it into a store that
// then lists without panicking. It never panics itself.
func FuzzOpenBoltContents(f *testing.F) {
	rv := make([]byte, 8)
	binary.BigEndian.PutUint64(rv, 7)
	cm := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"default","resourceVersion":"7"},"data":{"k":"v"}}`)
	key := string(boltKey(cmGVR, "default", "a"))
	f.Add([]byte("1"), rv, key, cm)
	f.Add([]byte("2"), rv, key, cm)
	f.Add([]byte("0"), rv, key, cm)
	f.Add([]byte("x"), rv[:3], key, cm)
	f.Add([]byte("1"), rv, "nonsense", cm)
	f.Add([]byte("1"), rv, key, []byte("{"))
	f.Add([]byte("1"), rv, key, []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}`))
	f.Add([]byte("1"), rv, key, []byte(`{"apiVersion":"nope/v9","kind":"Thing"}`))
	f.Add([]byte("1"), rv, "\x00\x00\x00\x00", []byte("null"))
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, format, rvBytes []byte, key string, value []byte) {
		n++
		path := filepath.Join(dir, "kauth-"+strings.Repeat("x", n%3)+".db")
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(bucketMeta); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
			if err := tx.DeleteBucket(bucketObjects); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put(keyFormat, format); err != nil {
				return err
			}
			if err := meta.Put(keyRV, rvBytes); err != nil {
				return err
			}
			objs, err := tx.CreateBucket(bucketObjects)
			if err != nil {
				return err
			}
			if key == "" || len(key) > bolt.MaxKeySize {
				return nil
			}
			return objs.Put([]byte(key), value)
		})
		if cerr := db.Close(); err != nil || cerr != nil {
			t.Skip("bbolt refused the input itself")
		}
		s, err := OpenBolt(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		defer s.Close()
		if _, err := s.List(context.Background(), cmGVR, "", ListOptions{}); err != nil {
			t.Errorf("list after a successful open: %v", err)
		}
	})
}
