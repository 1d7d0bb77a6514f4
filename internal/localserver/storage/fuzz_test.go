package storage

import (
	"bufio"
	"context"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzContinue feeds arbitrary continue tokens and resourceVersions (both
// come from clients) to List and Watch: they either work or fail with a
// 4xx StatusError, never panic.
func FuzzContinue(f *testing.F) {
	file, err := os.Open("testdata/continue.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f.Add(sc.Text(), "1")
	}
	file.Close()
	f.Add(encodeContinue("default/b", 2), "0")
	f.Add("", "18446744073709551615")
	// A token may name any version: one the store has not reached fails
	// at once with 504 rather than after the usual wait.
	s := NewMemory(WithFreshTimeout(0))
	ctx := context.Background()
	for _, n := range []string{"a", "b", "c"} {
		_, _ = s.Create(ctx, cmGVR, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: n}})
	}
	f.Fuzz(func(t *testing.T, token, rv string) {
		if _, err := s.List(ctx, cmGVR, "default", ListOptions{Continue: token, Limit: 1}); err != nil && !clientError(err) && !apierrors.IsTimeout(err) {
			t.Fatalf("list with continue %q: %v", token, err)
		}
		w, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: rv})
		if err != nil {
			if !clientError(err) && !apierrors.IsTimeout(err) {
				t.Fatalf("watch from %q: %v", rv, err)
			}
			return
		}
		w.Stop()
	})
}

func clientError(err error) bool {
	st, ok := err.(apierrors.APIStatus)
	return ok && st.Status().Code >= 400 && st.Status().Code < 500
}
