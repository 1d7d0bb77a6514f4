package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/munnerz/goautoneg"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// openapiFiles are kube-apiserver v1.37's published OpenAPI v2 and v3
// documents cut down to the served kinds by tools/openapi-spec:
// openapi/v2.json.gz and openapi/v3/<group-version path>.json.gz.
//
//go:embed openapi
var openapiFiles embed.FS

// typeConverter is server-side apply's schema of the served kinds, built
// from the embedded OpenAPI v2 definitions. It is derived from embedded
// constants only and never changes, so one process builds it once (it
// takes a few hundred milliseconds) however many APIs it runs.
var typeConverter = sync.OnceValues(func() (managedfields.TypeConverter, error) {
	raw, err := readGzip("openapi/v2.json.gz")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Definitions map[string]spec.Schema `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read embedded openapi v2: %w", err)
	}
	defs := make(map[string]*spec.Schema, len(doc.Definitions))
	for name := range doc.Definitions {
		s := doc.Definitions[name]
		defs[name] = &s
	}
	tc, err := managedfields.NewTypeConverter(defs, false)
	if err != nil {
		return nil, fmt.Errorf("build type converter: %w", err)
	}
	return tc, nil
})

func readGzip(name string) ([]byte, error) {
	var b bytes.Buffer
	if err := gunzipTo(&b, name); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// openapiDoc is one served document: its ETag (kube-openapi's: the
// upper-case hex SHA-512 of the JSON), known from the start because the
// /openapi/v3 index names it, and its JSON and protobuf forms, each made
// on the first request for it. Until then only the compressed embedded
// file is in memory (the /openapi/v3 index alone, which the admission
// policy plugins ask for at start, reads no document into the heap).
type openapiDoc struct {
	name     string // the embedded gzip file
	etag     string
	toProto  func([]byte) ([]byte, error)
	jsonOnce sync.Once
	json     []byte
	jsonErr  error
	once     sync.Once
	proto    []byte
	protoErr error
}

// newDoc hashes the embedded file's JSON as it decompresses, keeping none
// of it.
func newDoc(name string, toProto func([]byte) ([]byte, error)) (*openapiDoc, error) {
	h := sha512.New()
	if err := gunzipTo(h, name); err != nil {
		return nil, err
	}
	return &openapiDoc{name: name, etag: fmt.Sprintf("%X", h.Sum(nil)), toProto: toProto}, nil
}

func gunzipTo(w io.Writer, name string) error {
	f, err := openapiFiles.Open(name)
	if err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	if _, err := io.Copy(w, zr); err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	return nil
}

func (d *openapiDoc) content() ([]byte, error) {
	d.jsonOnce.Do(func() { d.json, d.jsonErr = readGzip(d.name) })
	return d.json, d.jsonErr
}

func (d *openapiDoc) protobuf() ([]byte, error) {
	d.once.Do(func() {
		b, err := d.content()
		if err != nil {
			d.protoErr = err
			return
		}
		d.proto, d.protoErr = d.toProto(b)
	})
	return d.proto, d.protoErr
}

// openapi serves /openapi/v2 and /openapi/v3 as kube-apiserver does, from
// the embedded documents as they are.
type openapi struct {
	v2        *openapiDoc
	v3        map[string]*openapiDoc // by group-version path: "api/v1"
	discovery []byte
	modified  time.Time
}

func loadOpenAPI() (*openapi, error) {
	v2, err := newDoc("openapi/v2.json.gz", handler.ToProtoBinary)
	if err != nil {
		return nil, err
	}
	o := &openapi{v2: v2, v3: map[string]*openapiDoc{}, modified: time.Now().UTC()}
	err = fs.WalkDir(openapiFiles, "openapi/v3", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		doc, err := newDoc(path, handler3.ToV3ProtoBinary)
		if err != nil {
			return err
		}
		o.v3[strings.TrimSuffix(strings.TrimPrefix(path, "openapi/v3/"), ".json.gz")] = doc
		return nil
	})
	if err != nil {
		return nil, err
	}
	type entry struct {
		ServerRelativeURL string `json:"serverRelativeURL"`
	}
	paths := map[string]entry{}
	for gv, d := range o.v3 {
		paths[gv] = entry{ServerRelativeURL: "/openapi/v3/" + gv + "?hash=" + d.etag}
	}
	if o.discovery, err = json.Marshal(map[string]any{"paths": paths}); err != nil {
		return nil, err
	}
	return o, nil
}

// Media types of the OpenAPI endpoints, as kube-openapi names them.
const (
	v2ProtoDeprecated = "com.github.proto-openapi.spec.v2@v1.0+protobuf"
	v2Proto           = "com.github.proto-openapi.spec.v2.v1.0+protobuf"
	v3ProtoDeprecated = "com.github.proto-openapi.spec.v3@v1.0+protobuf"
	v3Proto           = "com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

func (a *API) serveOpenAPI(w http.ResponseWriter, req *http.Request) {
	o, err := a.openapiDocs()
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	path := strings.TrimSuffix(req.URL.Path, "/")
	switch {
	case path == "/openapi/v2":
		o.serveDoc(w, req, o.v2, v2Proto, v2ProtoDeprecated, "")
	case path == "/openapi/v3":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Etag", strconv.Quote(fmt.Sprintf("%X", sha512.Sum512(o.discovery))))
		http.ServeContent(w, req, "", o.modified, bytes.NewReader(o.discovery))
	case strings.HasPrefix(path, "/openapi/v3/"):
		gv := strings.TrimPrefix(path, "/openapi/v3/")
		d, ok := o.v3[gv]
		if !ok {
			a.writeError(w, req, notFound())
			return
		}
		o.serveDoc(w, req, d, v3Proto, v3ProtoDeprecated, gv)
	default:
		a.writeError(w, req, notFound())
	}
}

// serveDoc negotiates JSON or protobuf; for v3 (gv set) a matching ?hash=
// makes the answer immutable and a stale one redirects to the current.
func (o *openapi) serveDoc(w http.ResponseWriter, req *http.Request, d *openapiDoc, proto, protoDeprecated, gv string) {
	accept := req.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	w.Header().Add("Vary", "Accept")
	for _, clause := range goautoneg.ParseAccept(accept) {
		if clause.Type != "application" && clause.Type != "*" {
			continue
		}
		var body []byte
		var contentType string
		switch clause.SubType {
		case "json", "*":
			b, err := d.content()
			if err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			body, contentType = b, "application/json"
		case proto, protoDeprecated:
			b, err := d.protobuf()
			if err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			body, contentType = b, "application/"+proto
		default:
			continue
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Etag", strconv.Quote(d.etag))
		if hash := req.URL.Query().Get("hash"); gv != "" && hash != "" {
			if hash != d.etag {
				http.Redirect(w, req, "/openapi/v3/"+gv+"?hash="+d.etag, http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Cache-Control", "public, immutable")
			w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).Format(time.RFC1123))
		}
		http.ServeContent(w, req, "", o.modified, bytes.NewReader(body))
		return
	}
	w.WriteHeader(http.StatusNotAcceptable)
}

// v3GroupVersions lists the served v3 documents, for tests.
func (o *openapi) v3GroupVersions() []string {
	out := make([]string, 0, len(o.v3))
	for gv := range o.v3 {
		out = append(out, gv)
	}
	sort.Strings(out)
	return out
}
