package localserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/localserver/registry"
)

// servedKinds are the kinds the server serves, for the paths and scopes
// of seed objects.
var servedKinds = sync.OnceValue(registry.New)

// clusterScoped tells whether gvk is a served kind that has no namespace.
func clusterScoped(gvk schema.GroupVersionKind) bool {
	k, ok := servedKinds().ByKind(gvk)
	return ok && !k.Namespaced
}

// seedSources creates (or replaces) the objects of --seed through the
// handler chain as the loopback user, so they get the validation,
// defaulting and admission of any client request. Namespaces go first;
// every failing object is reported as "file:line: Kind name: reason".
func (s *Server) seedSources(ctx context.Context) error {
	if len(s.cfg.Seed) == 0 {
		return nil
	}
	objs, err := loader.Load(ctx, s.cfg.Seed, loader.Options{Stdin: s.cfg.Stdin})
	if err != nil {
		return configError(fmt.Errorf("--seed: %w", err))
	}
	for _, ns := range implicitNamespaces(objs) {
		body, _ := json.Marshal(ns.Object)
		if err := s.loopbackDo(ctx, http.MethodPost, "/api/v1/namespaces", body, nil); err != nil && !apierrors.IsAlreadyExists(err) {
			return configError(fmt.Errorf("%s: creating namespace %q for it: %w", ns.Source, ns.Object.(*corev1.Namespace).Name, err))
		}
	}
	slices.SortStableFunc(objs, func(a, b loader.Object) int {
		return boolRank(loader.GVK(b.Object).Kind == "Namespace") - boolRank(loader.GVK(a.Object).Kind == "Namespace")
	})
	var errs []error
	for _, o := range objs {
		if err := s.seedOne(ctx, o.Object); err != nil {
			gvk := loader.GVK(o.Object)
			name := ""
			if m, merr := meta.Accessor(o.Object); merr == nil {
				name = m.GetName()
			}
			errs = append(errs, fmt.Errorf("%s: %s %q: %w", o.Source, gvk.Kind, name, err))
		}
	}
	return configError(errors.Join(errs...))
}

// implicitNamespaces returns a Namespace for every namespace the seed
// objects live in but do not create themselves: a repository of RBAC rarely
// holds its Namespaces, and a sandbox of it should still load. They are
// only created, never replaced (the server's own namespaces exist already).
// Each carries the source of the first object that names it.
func implicitNamespaces(objs []loader.Object) []loader.Object {
	declared := map[string]bool{}
	for _, o := range objs {
		if loader.GVK(o.Object).Kind == "Namespace" {
			if m, err := meta.Accessor(o.Object); err == nil {
				declared[m.GetName()] = true
			}
		}
	}
	var out []loader.Object
	for _, o := range objs {
		m, err := meta.Accessor(o.Object)
		ns := ""
		if err == nil {
			ns = m.GetNamespace()
		}
		if ns == "" || declared[ns] || clusterScoped(loader.GVK(o.Object)) {
			continue
		}
		declared[ns] = true
		out = append(out, loader.Object{Source: o.Source, Object: &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns},
		}})
	}
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seedOne creates obj, or replaces it when it exists (a restart with a data
// dir, or an object also in the bootstrap policy).
func (s *Server) seedOne(ctx context.Context, obj runtime.Object) error {
	gvk := loader.GVK(obj)
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	collection, err := resourcePath(gvk, m.GetNamespace())
	if err != nil {
		return err
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	err = s.loopbackDo(ctx, http.MethodPost, collection, body, nil)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	var current metav1.PartialObjectMetadata
	item := collection + "/" + m.GetName()
	if err := s.loopbackDo(ctx, http.MethodGet, item, nil, &current); err != nil {
		return err
	}
	m.SetResourceVersion(current.ResourceVersion)
	if body, err = json.Marshal(obj); err != nil {
		return err
	}
	return s.loopbackDo(ctx, http.MethodPut, item, body, nil)
}

// resourcePath is the collection URL of a served kind.
func resourcePath(gvk schema.GroupVersionKind, ns string) (string, error) {
	k, ok := servedKinds().ByKind(gvk)
	if !ok {
		return "", fmt.Errorf("kind %s of %s is not served by kauth serve", gvk.Kind, gvk.GroupVersion())
	}
	prefix := "/apis/" + gvk.Group + "/" + gvk.Version
	if gvk.Group == "" {
		prefix = "/api/" + gvk.Version
	}
	if !k.Namespaced {
		return prefix + "/" + k.Resource, nil
	}
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	return prefix + "/namespaces/" + ns + "/" + k.Resource, nil
}

// loopbackDo sends one request through the whole handler chain in
// process, authenticated with the loopback token, and decodes a JSON
// answer into out (when not nil) or a Status error.
func (s *Server) loopbackDo(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.loopback)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	s.handler.ServeHTTP(rec, req)
	if rec.code >= 300 {
		var st metav1.Status
		if err := json.Unmarshal(rec.body.Bytes(), &st); err != nil || st.Kind != "Status" {
			return fmt.Errorf("%s %s: HTTP %d: %s", method, path, rec.code, strings.TrimSpace(rec.body.String()))
		}
		return apierrors.FromObject(&st)
	}
	if out != nil {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

// recorder is an in-memory http.ResponseWriter.
type recorder struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
