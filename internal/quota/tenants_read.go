package quota

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	sigsyaml "sigs.k8s.io/yaml"
)

// maxTenantsFileSize bounds a tenants file; a larger one is a mistake.
const maxTenantsFileSize = 8 << 20

// ReadTenants decodes a tenants file strictly: an unknown or duplicate
// field, a value of the wrong type or an invalid name is an error that
// starts "file:line: field.path: ". file names the file in errors.
func ReadTenants(file string, data []byte) (*Tenants, error) {
	if len(data) > maxTenantsFileSize {
		return nil, fmt.Errorf("%s: file is larger than %d bytes", file, maxTenantsFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:1: empty file: expected apiVersion %s and kind %s", file, TenantsAPIVersion, TenantsKind)
		}
		return nil, fmt.Errorf("%s:%s", file, yamlErrorText(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: expected one YAML document, found another", file, extra.Line)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1: empty document: expected apiVersion %s and kind %s", file, TenantsAPIVersion, TenantsKind)
	}
	w := walker{file: file, lines: map[string]int{}}
	if err := w.walk(doc.Content[0], reflect.TypeFor[Tenants](), ""); err != nil {
		return nil, err
	}
	// The walk has checked every field and scalar type; decode through
	// JSON so the API types' own unmarshalers (quantities) apply.
	var generic any
	if err := doc.Content[0].Decode(&generic); err != nil {
		return nil, fmt.Errorf("%s:%s", file, yamlErrorText(err))
	}
	jsonData, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", file, err)
	}
	var t Tenants
	if err := json.Unmarshal(jsonData, &t); err != nil {
		return nil, fmt.Errorf("%s:1: %w", file, err)
	}
	if err := t.validate(file, w.lines); err != nil {
		return nil, err
	}
	return &t, nil
}

func yamlErrorText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	// "line 3: mapping values are not allowed" -> "3: mapping values..."
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		return rest
	}
	return "1: " + msg
}

// walker checks a YAML node tree against a Go type through its json tags
// and records the line of every field path.
type walker struct {
	file  string
	lines map[string]int
	depth int
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	quantityType    = reflect.TypeFor[resource.Quantity]()
)

func (w *walker) fail(n *yaml.Node, path, format string, args ...any) error {
	where := path
	if where == "" {
		where = "(document)"
	}
	return fmt.Errorf("%s:%d: %s: %s", w.file, n.Line, where, fmt.Sprintf(format, args...))
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > 64 {
		return w.fail(n, path, "nested too deeply")
	}
	if path != "" {
		w.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		return w.fail(n, path, "YAML aliases are not supported")
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	switch {
	case t == quantityType:
		return w.walkQuantity(n, path)
	case reflect.PointerTo(t).Implements(jsonUnmarshaler), reflect.PointerTo(t).Implements(textUnmarshaler):
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.walkStruct(n, t, path)
	case reflect.Map:
		return w.walkMap(n, t, path)
	case reflect.Slice:
		return w.walkSlice(n, t, path)
	}
	return w.walkScalar(n, t.Kind(), path)
}

func (w *walker) walkQuantity(n *yaml.Node, path string) error {
	if n.Kind != yaml.ScalarNode {
		return w.fail(n, path, "expected a quantity such as 500m, 2 or 1Gi")
	}
	if _, err := resource.ParseQuantity(n.Value); err != nil {
		return w.fail(n, path, "%q is not a quantity (examples: 500m, 2, 1Gi)", n.Value)
	}
	return nil
}

func (w *walker) walkSlice(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.SequenceNode {
		return w.fail(n, path, "expected a list, got %s", nodeKind(n))
	}
	for i, c := range n.Content {
		if err := w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// scalarTags maps a Go kind to the YAML tag its value needs and what the
// error says is expected.
var scalarTags = map[reflect.Kind][2]string{
	reflect.String: {"!!str", "expected a string, got %s (quote it)"},
	reflect.Bool:   {"!!bool", "expected true or false, got %s"},
	reflect.Int:    {"!!int", "expected an integer, got %s"},
	reflect.Int32:  {"!!int", "expected an integer, got %s"},
	reflect.Int64:  {"!!int", "expected an integer, got %s"},
}

func (w *walker) walkScalar(n *yaml.Node, kind reflect.Kind, path string) error {
	want, ok := scalarTags[kind]
	if !ok {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != want[0] {
		return w.fail(n, path, want[1], nodeKind(n))
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("string %q", n.Value)
	case "!!int", "!!float":
		return "number " + n.Value
	case "!!bool":
		return "boolean " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) walkMap(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return w.fail(n, path, "expected a mapping, got %s", nodeKind(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return w.fail(k, path, "expected a string key")
		}
		if seen[k.Value] {
			return w.fail(k, join(path, k.Value), "duplicate key")
		}
		seen[k.Value] = true
		if err := w.walk(v, t.Elem(), join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return w.fail(n, path, "expected a mapping, got %s", nodeKind(n))
	}
	fields := jsonFields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if seen[k.Value] {
			return w.fail(k, p, "duplicate field")
		}
		seen[k.Value] = true
		ft, ok := fields[k.Value]
		if !ok {
			return w.fail(k, p, "unknown field (expected one of %s)", strings.Join(sortedFieldNames(fields), ", "))
		}
		if err := w.walk(v, ft, p); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields maps json names to field types, flattening inlined structs.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && (strings.Contains(opts, "inline") || tag == "") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func sortedFieldNames(m map[string]reflect.Type) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// lineFor returns the line of path or of its nearest recorded parent.
func lineFor(lines map[string]int, path string) int {
	for p := path; p != ""; {
		if l, ok := lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 1
}

func sortStrings(s []string) { sort.Strings(s) }

// IsTenantsFile tells whether data declares the tenants file's apiVersion
// and kind, so a tenants file can stand wherever quota objects are read.
func IsTenantsFile(data []byte) bool {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := sigsyaml.Unmarshal(data, &head); err != nil {
		return false
	}
	return head.APIVersion == TenantsAPIVersion && head.Kind == TenantsKind
}
