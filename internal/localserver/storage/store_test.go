package storage

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
)

var (
	rolesGVR = rbacv1.SchemeGroupVersion.WithResource("roles")
	cmGVR    = corev1.SchemeGroupVersion.WithResource("configmaps")
)

func role(ns, name string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}},
	}
}

// backends runs f against a memory store and a bbolt store.
func backends(t *testing.T, f func(t *testing.T, s Interface)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		f(t, NewMemory())
	})
	t.Run("bolt", func(t *testing.T) {
		t.Parallel()
		s, err := OpenBolt(filepath.Join(t.TempDir(), "kauth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		f(t, s)
	})
}

func names(objs []runtime.Object) []string {
	var out []string
	for _, o := range objs {
		r := o.(*rbacv1.Role)
		out = append(out, r.Namespace+"/"+r.Name)
	}
	return out
}

func TestCRUD(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s Interface) {
		ctx := context.Background()
		created, err := s.Create(ctx, rolesGVR, role("a", "r1"))
		if err != nil {
			t.Fatal(err)
		}
		meta := created.(*rbacv1.Role).ObjectMeta
		if meta.ResourceVersion != "1" || meta.UID == "" || meta.CreationTimestamp.IsZero() {
			t.Fatalf("create did not set metadata: %+v", meta)
		}
		if _, err := s.Create(ctx, rolesGVR, role("a", "r1")); !apierrors.IsAlreadyExists(err) {
			t.Fatalf("second create: got %v, want AlreadyExists", err)
		}
		for _, n := range []string{"r3", "r2"} {
			if _, err := s.Create(ctx, rolesGVR, role("b", n)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Get(ctx, rolesGVR, "a", "r1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(created, got); diff != "" {
			t.Fatalf("get (-created +got):\n%s", diff)
		}
		list, err := s.List(ctx, rolesGVR, "", ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a/r1", "b/r2", "b/r3"}, names(list.Items)); diff != "" {
			t.Fatalf("list (-want +got):\n%s", diff)
		}
		nsList, _ := s.List(ctx, rolesGVR, "b", ListOptions{})
		if diff := cmp.Diff([]string{"b/r2", "b/r3"}, names(nsList.Items)); diff != "" {
			t.Fatalf("namespaced list (-want +got):\n%s", diff)
		}
		del, err := s.Delete(ctx, rolesGVR, "b", "r2", nil)
		if err != nil {
			t.Fatal(err)
		}
		if del.(*rbacv1.Role).ResourceVersion != "4" {
			t.Fatalf("delete rv = %s, want 4", del.(*rbacv1.Role).ResourceVersion)
		}
		if _, err := s.Get(ctx, rolesGVR, "b", "r2"); !apierrors.IsNotFound(err) {
			t.Fatalf("get after delete: %v", err)
		}
		if _, err := s.Delete(ctx, rolesGVR, "b", "r2", nil); !apierrors.IsNotFound(err) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s Interface) {
		ctx := context.Background()
		created, _ := s.Create(ctx, rolesGVR, role("a", "r1"))
		stale := created.DeepCopyObject().(*rbacv1.Role)
		upd := created.(*rbacv1.Role)
		upd.Rules[0].Verbs = []string{"list"}
		if _, err := s.Update(ctx, rolesGVR, upd); err != nil {
			t.Fatal(err)
		}
		stale.Rules[0].Verbs = []string{"watch"}
		_, err := s.Update(ctx, rolesGVR, stale)
		if !apierrors.IsConflict(err) {
			t.Fatalf("stale update: got %v, want Conflict", err)
		}
		want := `Operation cannot be fulfilled on roles.rbac.authorization.k8s.io "r1": the object has been modified; please apply your changes to the latest version and try again`
		if err.Error() != want {
			t.Fatalf("conflict message:\n got %s\nwant %s", err, want)
		}
		tests := []struct {
			name string
			pre  Preconditions
		}{
			{"uid", Preconditions{UID: "nope"}},
			{"resourceVersion", Preconditions{ResourceVersion: "1"}},
		}
		for _, tc := range tests {
			if _, err := s.Delete(ctx, rolesGVR, "a", "r1", &tc.pre); !apierrors.IsConflict(err) {
				t.Errorf("%s precondition: got %v, want Conflict", tc.name, err)
			}
		}
		before := s.ResourceVersion()
		same, err := s.GuaranteedUpdate(ctx, rolesGVR, "a", "r1", func(cur runtime.Object) (runtime.Object, error) { return cur, nil })
		if err != nil || s.ResourceVersion() != before || same.(*rbacv1.Role).ResourceVersion != strconv.FormatUint(before, 10) {
			t.Fatalf("no-op update wrote: %v rv %d -> %d", err, before, s.ResourceVersion())
		}
		out, err := s.GuaranteedUpdate(ctx, rolesGVR, "a", "r1", func(cur runtime.Object) (runtime.Object, error) {
			r := cur.(*rbacv1.Role)
			r.Labels["x"] = "y"
			return r, nil
		})
		if err != nil || out.(*rbacv1.Role).Labels["x"] != "y" {
			t.Fatalf("guaranteed update: %v %v", out, err)
		}
	})
}

func TestListPages(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s Interface) {
		ctx := context.Background()
		for i := range 5 {
			_, _ = s.Create(ctx, rolesGVR, role("a", "r"+strconv.Itoa(i)))
		}
		var got []string
		opts := ListOptions{Limit: 2, Predicate: func(o runtime.Object) bool { return o.(*rbacv1.Role).Name != "r2" }}
		for page := 0; ; page++ {
			res, err := s.List(ctx, rolesGVR, "a", opts)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, names(res.Items)...)
			if res.Continue == "" {
				break
			}
			if page == 0 && (res.RemainingItemCount == nil || *res.RemainingItemCount != 2) {
				t.Fatalf("remaining = %v, want 2", res.RemainingItemCount)
			}
			opts.Continue = res.Continue
		}
		if diff := cmp.Diff([]string{"a/r0", "a/r1", "a/r3", "a/r4"}, got); diff != "" {
			t.Fatalf("pages (-want +got):\n%s", diff)
		}
		if _, err := s.List(ctx, rolesGVR, "a", ListOptions{Continue: "garbage!"}); !apierrors.IsBadRequest(err) {
			t.Fatalf("bad continue: %v", err)
		}
	})
}

type seen struct {
	Type watch.EventType
	Name string
	RV   string
}

func next(t *testing.T, w watch.Interface) seen {
	t.Helper()
	ev, ok := <-w.ResultChan()
	if !ok {
		t.Fatal("watch closed")
	}
	if st, ok := ev.Object.(*metav1.Status); ok {
		return seen{Type: ev.Type, Name: string(st.Reason), RV: strconv.Itoa(int(st.Code))}
	}
	r := ev.Object.(*rbacv1.Role)
	return seen{Type: ev.Type, Name: r.Name, RV: r.ResourceVersion}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s Interface) {
		ctx := context.Background()
		_, _ = s.Create(ctx, rolesGVR, role("a", "r1")) // rv 1
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c"}})
		r2, _ := s.Create(ctx, rolesGVR, role("b", "r2")) // rv 3

		w, err := s.Watch(ctx, rolesGVR, "", WatchOptions{ResourceVersion: "1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		r2.(*rbacv1.Role).Labels["app"] = "other"
		_, _ = s.Update(ctx, rolesGVR, r2)             // rv 4
		_, _ = s.Delete(ctx, rolesGVR, "a", "r1", nil) // rv 5
		want := []seen{{watch.Added, "r2", "3"}, {watch.Modified, "r2", "4"}, {watch.Deleted, "r1", "5"}}
		var got []seen
		for range want {
			got = append(got, next(t, w))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}

		// A label predicate turns a change that stops matching into DELETED.
		pw, _ := s.Watch(ctx, rolesGVR, "b", WatchOptions{ResourceVersion: "3",
			Predicate: func(o runtime.Object) bool { return o.(*rbacv1.Role).Labels["app"] == "r2" }})
		defer pw.Stop()
		if got := next(t, pw); got != (seen{watch.Deleted, "r2", "4"}) {
			t.Fatalf("predicate event = %v", got)
		}

		// Initial events end with a bookmark.
		iw, _ := s.Watch(ctx, rolesGVR, "", WatchOptions{SendInitialEvents: ptr.To(true), AllowBookmarks: true,
			NewBookmark: func() runtime.Object { return &rbacv1.Role{} }})
		defer iw.Stop()
		if got := next(t, iw); got != (seen{watch.Added, "r2", "4"}) {
			t.Fatalf("initial event = %v", got)
		}
		ev := <-iw.ResultChan()
		bm := ev.Object.(*rbacv1.Role)
		if ev.Type != watch.Bookmark || bm.ResourceVersion != "5" || bm.Annotations[InitialEventsEndAnnotation] != "true" {
			t.Fatalf("bookmark = %v %+v", ev.Type, bm.ObjectMeta)
		}
	})
}

func TestWatchTooOld(t *testing.T) {
	t.Parallel()
	s := newSteppedStore()
	ctx := context.Background()
	for i := range minHistory + 10 {
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c" + strconv.Itoa(i)}})
	}
	w, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "5"})
	if err != nil {
		t.Fatal(err)
	}
	ev := <-w.ResultChan()
	st, ok := ev.Object.(*metav1.Status)
	want := metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version: 5 (10)"}
	if ev.Type != watch.Error || !ok {
		t.Fatalf("got %v %+v, want ERROR 410 Expired", ev.Type, ev.Object)
	}
	if diff := cmp.Diff(want, *st); diff != "" {
		t.Fatalf("status (-want +got):\n%s", diff)
	}
	if _, ok := <-w.ResultChan(); ok {
		t.Fatal("watch stayed open after the error")
	}
	if _, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("bad rv: %v", err)
	}
}

func TestSlowWatcherIsEnded(t *testing.T) {
	t.Parallel()
	s := NewMemory()
	ctx := context.Background()
	w, _ := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "0"})
	for i := range watcherBuffer + 5 {
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c" + strconv.Itoa(i)}})
	}
	n := 0
	for range w.ResultChan() {
		n++
	}
	if n == 0 || n > watcherBuffer+1 {
		t.Fatalf("slow watcher got %d events before it ended", n)
	}
}

func TestBoltRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kauth.db")
	ctx := context.Background()
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.Create(ctx, rolesGVR, role("a", "r1"))
	_, _ = s.Create(ctx, rolesGVR, role("a", "r2"))
	_, _ = s.Delete(ctx, rolesGVR, "a", "r1", nil)
	if _, err := OpenBolt(path); err == nil {
		t.Fatal("second open of a held file succeeded")
	}
	_ = s.Close()

	s, err = OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ResourceVersion() != 3 {
		t.Fatalf("rv after restart = %d, want 3", s.ResourceVersion())
	}
	list, _ := s.List(ctx, rolesGVR, "", ListOptions{})
	if diff := cmp.Diff([]string{"a/r2"}, names(list.Items)); diff != "" {
		t.Fatalf("after restart (-want +got):\n%s", diff)
	}
	r := list.Items[0].(*rbacv1.Role)
	if r.Rules[0].Verbs[0] != "get" || r.APIVersion != "" {
		t.Fatalf("decoded role = %+v", r)
	}
	w, _ := s.Watch(ctx, rolesGVR, "", WatchOptions{ResourceVersion: "1"})
	if ev := <-w.ResultChan(); ev.Type != watch.Error {
		t.Fatalf("watch from before the restart: %v, want ERROR 410", ev.Type)
	}
}

func TestBoltRefusesBadFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(path string) error
		want  string
	}{
		{"newer format", func(p string) error { return withMeta(p, "format", "2") }, "format version 2 is newer than this kauth supports (1)"},
		{"bad format", func(p string) error { return withMeta(p, "format", "x") }, "damaged data file: format version"},
		{"damaged object", func(p string) error { return withObject(p, boltKey(rolesGVR, "a", "r"), "{not json") }, "damaged data file: roles a/r:"},
		{"bad key", func(p string) error { return withObject(p, []byte("nokey"), "{}") }, `damaged data file: bad key "nokey"`},
		{"not bbolt", func(p string) error { return os.WriteFile(p, []byte(strings.Repeat("junk", 2048)), 0o600) }, "open data file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "kauth.db")
			if err := tc.setup(path); err != nil {
				t.Fatal(err)
			}
			_, err := OpenBolt(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func withMeta(path, key, value string) error {
	s, err := OpenBolt(path)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(key), []byte(value)) })
}

func withObject(path string, key []byte, value string) error {
	s, err := OpenBolt(path)
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketObjects).Put(key, []byte(value)) })
}

func TestContinueReadsTheFirstPagesSnapshot(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, s Interface) {
		ctx := context.Background()
		for _, n := range []string{"r1", "r2", "r3", "r4"} {
			_, _ = s.Create(ctx, rolesGVR, role("a", n))
		}
		first, err := s.List(ctx, rolesGVR, "a", ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = s.Delete(ctx, rolesGVR, "a", "r3", nil)
		_, _ = s.Create(ctx, rolesGVR, role("a", "r5"))
		r4, _ := s.Get(ctx, rolesGVR, "a", "r4")
		r4.(*rbacv1.Role).Labels["app"] = "changed"
		_, _ = s.Update(ctx, rolesGVR, r4)
		_, _ = s.Create(ctx, rolesGVR, role("b", "other"))

		rest, err := s.List(ctx, rolesGVR, "a", ListOptions{Continue: first.Continue})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a/r3", "a/r4"}, names(rest.Items)); diff != "" {
			t.Fatalf("second page (-want +got):\n%s", diff)
		}
		if got := rest.Items[1].(*rbacv1.Role).Labels["app"]; got != "r4" || rest.ResourceVersion != first.ResourceVersion {
			t.Fatalf("second page is not the first page's snapshot: label %q, rv %d vs %d", got, rest.ResourceVersion, first.ResourceVersion)
		}
	})
}

func TestContinueTooOldIs410(t *testing.T) {
	t.Parallel()
	s := newSteppedStore()
	ctx := context.Background()
	for i := range 3 {
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c" + strconv.Itoa(i)}})
	}
	first, _ := s.List(ctx, cmGVR, "a", ListOptions{Limit: 1})
	for i := range minHistory + 1 {
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "c" + strconv.Itoa(i)}})
	}
	_, err := s.List(ctx, cmGVR, "a", ListOptions{Continue: first.Continue})
	st, ok := err.(*apierrors.StatusError)
	if !ok || !apierrors.IsResourceExpired(err) || st.ErrStatus.Message != inconsistentContinue || st.ErrStatus.Continue == "" {
		t.Fatalf("continue past the window: %v, want 410 Expired with a continue token", err)
	}
	// kube-apiserver's token in that answer goes on at the latest version.
	_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "c9"}})
	rest, err := s.List(ctx, cmGVR, "a", ListOptions{Continue: st.ErrStatus.Continue})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range rest.Items {
		got = append(got, o.(*corev1.ConfigMap).Name)
	}
	if diff := cmp.Diff([]string{"c1", "c2", "c9"}, got); diff != "" || rest.ResourceVersion != s.ResourceVersion() {
		t.Fatalf("rest of the list at rv %d (-want +got):\n%s", rest.ResourceVersion, diff)
	}
}
