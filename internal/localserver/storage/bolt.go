package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// formatVersion is the layout of the bbolt file. A file with a higher
// version was written by a newer kauth and is refused rather than misread.
const formatVersion = 1

var (
	bucketMeta    = []byte("meta")
	bucketObjects = []byte("objects")
	keyFormat     = []byte("format")
	keyRV         = []byte("resourceVersion")
)

type boltPersister struct {
	db *bolt.DB
}

// OpenBolt opens (or creates) the bbolt file at path and loads it. It fails
// when another process holds the file, when the file is damaged, or when
// its format version is not one this kauth writes.
func OpenBolt(path string, opts ...Option) (_ Interface, err error) {
	// bbolt panics on some damaged pages; a damaged file is an error here.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: damaged data file: %v", path, r)
		}
	}()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		// bbolt waited a second for the file lock another process holds.
		return nil, fmt.Errorf("%s: in use by another process (is another kauth serve running with this --data-dir?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: open data file: %w", path, err)
	}
	s := newStore(&boltPersister{db: db}, opts...)
	if err := s.load(path, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *store) load(path string, db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		metaB, err := initMeta(path, tx)
		if err != nil {
			return err
		}
		if v := metaB.Get(keyRV); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("%s: damaged data file: resourceVersion is %d bytes, expected 8", path, len(v))
			}
			s.rv = binary.BigEndian.Uint64(v)
		}
		s.floor = s.rv
		objs, err := tx.CreateBucketIfNotExists(bucketObjects)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return objs.ForEach(func(k, v []byte) error {
			return s.loadOne(path, k, v)
		})
	})
}

func initMeta(path string, tx *bolt.Tx) (*bolt.Bucket, error) {
	metaB := tx.Bucket(bucketMeta)
	if metaB == nil {
		if tx.Bucket(bucketObjects) != nil {
			return nil, fmt.Errorf("%s: damaged data file: no format version key", path)
		}
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return b, b.Put(keyFormat, []byte(strconv.Itoa(formatVersion)))
	}
	raw := metaB.Get(keyFormat)
	v, err := strconv.Atoi(string(raw))
	switch {
	case raw == nil || err != nil:
		return nil, fmt.Errorf("%s: damaged data file: format version %q is not a number", path, raw)
	case v > formatVersion:
		return nil, fmt.Errorf("%s: data file format version %d is newer than this kauth supports (%d)", path, v, formatVersion)
	case v < 1:
		return nil, fmt.Errorf("%s: damaged data file: format version %d", path, v)
	}
	return metaB, nil
}

func (s *store) loadOne(path string, k, v []byte) error {
	gvr, ns, name, ok := splitBoltKey(k)
	if !ok {
		return fmt.Errorf("%s: damaged data file: bad key %q", path, k)
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(v, nil, nil)
	if err != nil {
		return fmt.Errorf("%s: damaged data file: %s %s/%s: %w", path, gvr.Resource, ns, name, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	if s.data[gvr] == nil {
		s.data[gvr] = map[string]runtime.Object{}
	}
	s.data[gvr][objectKey(ns, name)] = obj
	return nil
}

// boltKey is group/version/resource, namespace and name joined by NUL
// bytes, which none of them may contain.
func boltKey(gvr schema.GroupVersionResource, namespace, name string) []byte {
	return []byte(strings.Join([]string{gvr.Group, gvr.Version, gvr.Resource, namespace, name}, "\x00"))
}

func splitBoltKey(k []byte) (schema.GroupVersionResource, string, string, bool) {
	parts := bytes.Split(k, []byte{0})
	if len(parts) != 5 {
		return schema.GroupVersionResource{}, "", "", false
	}
	gvr := schema.GroupVersionResource{Group: string(parts[0]), Version: string(parts[1]), Resource: string(parts[2])}
	return gvr, string(parts[3]), string(parts[4]), gvr.Resource != "" && len(parts[4]) > 0
}

func encodeObject(obj runtime.Object) ([]byte, error) {
	kinds, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return nil, err
	}
	c := obj.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(kinds[0])
	return json.Marshal(c)
}

func rvBytes(rv uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, rv)
	return b
}

func (p *boltPersister) put(rv uint64, gvr schema.GroupVersionResource, namespace, name string, obj runtime.Object) error {
	data, err := encodeObject(obj)
	if err != nil {
		return err
	}
	return p.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketObjects).Put(boltKey(gvr, namespace, name), data); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyRV, rvBytes(rv))
	})
}

func (p *boltPersister) remove(rv uint64, gvr schema.GroupVersionResource, namespace, name string) error {
	return p.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketObjects).Delete(boltKey(gvr, namespace, name)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyRV, rvBytes(rv))
	})
}

func (p *boltPersister) close() error {
	return errors.Join(p.db.Close())
}
