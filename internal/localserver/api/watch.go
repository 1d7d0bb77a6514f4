package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	apistorage "k8s.io/apiserver/pkg/storage"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// defaultWatchTimeout ends a watch without timeoutSeconds, as
// kube-apiserver's --min-request-timeout (1800s) does.
const defaultWatchTimeout = 30 * time.Minute

func (a *API) serveWatch(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	lo, err := listOptions(req)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	if _, err := (apistorage.APIObjectVersioner{}).ParseResourceVersion(lo.ResourceVersion); err != nil {
		// As kube-apiserver's cacher: the versioner's error, unconverted (500).
		a.writeError(w, req, err)
		return
	}
	q := req.URL.Query()
	pred, err := predicate(t.kind, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	if t.name != "" {
		// GET .../watch/<name> and ?fieldSelector=metadata.name= are the same.
		byName, _ := predicate(t.kind, "", "metadata.name="+t.name)
		pred = and(pred, byName)
	}
	timeout := defaultWatchTimeout
	if s := q.Get("timeoutSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			a.writeError(w, req, apierrors.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q: expected a non-negative integer", s)))
			return
		}
		timeout = time.Duration(n) * time.Second
	}
	info, err := negotiation.NegotiateOutputMediaTypeStream(req, a.codecs, restrictions{})
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	opts := storage.WatchOptions{
		ResourceVersion: lo.ResourceVersion, Predicate: pred,
		AllowBookmarks:    lo.AllowWatchBookmarks,
		SendInitialEvents: lo.SendInitialEvents,
		NewBookmark:       t.kind.New,
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wi, err := a.store.Watch(ctx, t.gvr(), t.namespace, opts)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	defer wi.Stop()
	mediaOpts, _, _ := negotiation.NegotiateOutputMediaType(req, a.codecs, restrictions{})
	asTable := mediaOpts.Convert != nil && mediaOpts.Convert.Kind == "Table"
	a.streamEvents(ctx, w, req, t, wi, info, asTable)
}

func and(p, q func(runtime.Object) bool) func(runtime.Object) bool {
	if p == nil {
		return q
	}
	return func(o runtime.Object) bool { return p(o) && q(o) }
}

func (a *API) streamEvents(ctx context.Context, w http.ResponseWriter, req *http.Request, t target, wi watch.Interface, info runtime.SerializerInfo, asTable bool) {
	framer := info.StreamSerializer.Framer.NewFrameWriter(w)
	eventEncoder := info.StreamSerializer.Serializer
	gv := t.kind.GVK.GroupVersion()
	if asTable {
		gv = metav1.SchemeGroupVersion
	}
	objEncoder := a.codecs.EncoderForVersion(info.Serializer, gv)
	w.Header().Set("Content-Type", info.MediaType)
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			obj := ev.Object
			if asTable && ev.Type != watch.Error && ev.Type != watch.Bookmark {
				tbl, err := a.table(req, t.kind, obj, false)
				if err != nil {
					return
				}
				obj = tbl
			}
			buf.Reset()
			enc := objEncoder
			if ev.Type == watch.Error {
				enc = a.codecs.EncoderForVersion(info.Serializer, schema.GroupVersion{Version: "v1"})
			}
			if err := enc.Encode(obj, &buf); err != nil {
				return
			}
			out := &metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: append([]byte(nil), buf.Bytes()...)}}
			if err := eventEncoder.Encode(out, framer); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}
