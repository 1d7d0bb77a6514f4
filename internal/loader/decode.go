package loader

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// strictDecoder decodes into client-go's scheme and reports unknown and
// duplicate fields, as the API server's fieldValidation=Strict does.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// document is one YAML or JSON document of a stream with the line it
// starts on.
type document struct {
	data []byte
	line int // of the first line with content
}

// firstLine is the file's line of the document's first line, comments
// and blank lines included.
func (d document) firstLine() int { return d.line - leadingBlankLines(d.data) }

// Decode decodes a stream of YAML documents, a JSON object, or a stream of
// JSON objects (one per line or concatenated) named name.
func Decode(name string, data []byte) ([]Object, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	docs, err := split(name, data)
	if err != nil {
		return nil, err
	}
	results := make([][]Object, len(docs))
	errs := make([]error, len(docs))
	decodeParallel(len(docs), func(i int) {
		results[i], errs[i] = decodeDocument(name, docs[i])
	})
	var out []Object
	for i := range docs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	return out, nil
}

// decodeParallel runs decode for 0..n-1 on GOMAXPROCS workers. Documents
// are independent, and decoding dominates loading a large policy.
func decodeParallel(n int, decode func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n/64+1)
	if workers <= 1 {
		for i := range n {
			decode(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				decode(i)
			}
		})
	}
	wg.Wait()
}

func split(name string, data []byte) ([]document, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return splitJSON(name, data)
	}
	return splitYAML(data), nil
}

// splitYAML cuts a YAML stream at lines that are exactly "---" (optionally
// followed by a comment) and drops documents with nothing but comments.
func splitYAML(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, lineNo := 1, 0
	flush := func() {
		if hasContent(cur.Bytes()) {
			docs = append(docs, document{data: bytes.Clone(cur.Bytes()), line: start + leadingBlankLines(cur.Bytes())})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if isSeparator(line) {
			flush()
			start = lineNo + 1
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs
}

func isSeparator(line string) bool {
	if !strings.HasPrefix(line, "---") {
		return false
	}
	rest := strings.TrimSpace(line[3:])
	return rest == "" || strings.HasPrefix(rest, "#")
}

// hasContent tells whether a document has anything but blank lines,
// comments and document-end markers.
func hasContent(doc []byte) bool {
	for l := range strings.SplitSeq(string(doc), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") && t != "..." {
			return true
		}
	}
	return false
}

// leadingBlankLines counts the blank and comment lines before a document's
// first content line, so an object's line points at its first field.
func leadingBlankLines(doc []byte) int {
	n := 0
	for l := range strings.SplitSeq(string(doc), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return n
		}
		n++
	}
	return n
}

// splitJSON reads consecutive JSON values, remembering the line each
// starts on.
func splitJSON(name string, data []byte) ([]document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		var raw json.RawMessage
		startOff := dec.InputOffset()
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: invalid JSON: %w", name, lineAt(data, jsonErrorOffset(err, dec)), err)
		}
		skip := startOff + int64(len(data[startOff:])-len(bytes.TrimLeft(data[startOff:], " \t\r\n")))
		docs = append(docs, document{data: raw, line: lineAt(data, skip)})
	}
}

func jsonErrorOffset(err error, dec *json.Decoder) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return dec.InputOffset()
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// decodeDocument decodes one document into typed objects; a List yields
// its items.
func decodeDocument(name string, d document) ([]Object, error) {
	src := Source{File: name, Line: d.line}
	jsonData, err := yaml.YAMLToJSONStrict(d.data)
	if err != nil {
		msg := cleanYAMLError(err).Error()
		if line, rest, ok := syntaxErrorAt(d.firstLine(), msg); ok {
			return nil, fmt.Errorf("%s: invalid YAML: %s", Source{File: name, Line: line}, rest)
		}
		return nil, fmt.Errorf("%s: invalid YAML: %s", src, msg)
	}
	if bytes.Equal(bytes.TrimSpace(jsonData), []byte("null")) {
		return nil, nil
	}
	// Fast path: a well-formed object of a known kind that is not a v1
	// list decodes in one pass. Everything else takes the path below,
	// which finds the precise error or expands the list.
	if obj, gvk, err := strictDecoder.Decode(jsonData, nil, nil); err == nil && gvk != nil && !isV1List(*gvk) {
		return []Object{{Object: obj, Source: src}}, nil
	}
	var meta struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(jsonData, &meta); err != nil {
		return nil, fmt.Errorf("%s: expected an object with apiVersion and kind: %w", src, err)
	}
	switch {
	case meta.Kind == "":
		return nil, fmt.Errorf("%s: kind: missing; expected a Kubernetes object with apiVersion and kind", src)
	case meta.APIVersion == "":
		return nil, fmt.Errorf("%s: apiVersion: missing for kind %s", src, meta.Kind)
	}
	if isV1List(schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)) {
		var out []Object
		for i, item := range meta.Items {
			objs, err := decodeDocument(fmt.Sprintf("%s: items[%d]", name, i), document{data: item, line: d.line})
			if err != nil {
				return nil, err
			}
			for j := range objs {
				objs[j].Source = src
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	obj, err := decodeObject(jsonData)
	if err != nil {
		at := src
		if line, ok := fieldLine(d.data, err.Error()); ok && d.line > 0 {
			at.Line = d.firstLine() + line - 1
		}
		return nil, fmt.Errorf("%s: %s %s: %w", at, meta.Kind, objectName(jsonData), err)
	}
	return []Object{{Object: obj, Source: src}}, nil
}

// decodeObject decodes JSON into the scheme's type for its kind, or into
// Unstructured for a kind the scheme does not know.
func decodeObject(data []byte) (k8sruntime.Object, error) {
	obj, _, err := strictDecoder.Decode(data, nil, nil)
	if err == nil {
		return obj, nil
	}
	if k8sruntime.IsNotRegisteredError(err) {
		u := &unstructured.Unstructured{}
		if uerr := u.UnmarshalJSON(data); uerr != nil {
			return nil, uerr
		}
		return u, nil
	}
	return nil, cleanDecodeError(err)
}

// cleanDecodeError rewords the decoder's strict errors into "field: what".
func cleanDecodeError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "strict decoding error: ")
	if i := strings.Index(msg, "json: cannot unmarshal"); i >= 0 {
		msg = msg[i:]
	}
	return errors.New(msg)
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	return errors.New(msg)
}

func objectName(data []byte) string {
	var m struct {
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(data, &m)
	switch {
	case m.Metadata.Name == "":
		return "(no name)"
	case m.Metadata.Namespace != "":
		return fmt.Sprintf("%q in namespace %q", m.Metadata.Name, m.Metadata.Namespace)
	default:
		return fmt.Sprintf("%q", m.Metadata.Name)
	}
}

// GVK returns the group, version and kind of obj, from its type when its
// TypeMeta is empty (as after a typed decode).
func GVK(obj k8sruntime.Object) schema.GroupVersionKind {
	gvk := obj.GetObjectKind().GroupVersionKind()
	if !gvk.Empty() {
		return gvk
	}
	if gvks, _, err := scheme.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		return gvks[0]
	}
	return gvk
}

// isV1List tells whether gvk is a core v1 list (List, ConfigMapList, ...),
// whose items are loaded one by one.
func isV1List(gvk schema.GroupVersionKind) bool {
	return gvk.Group == "" && gvk.Version == "v1" && strings.HasSuffix(gvk.Kind, "List")
}
