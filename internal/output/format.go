package output

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Format is a value of the -o flag.
type Format string

// The formats every command offers. Commands may add their own (jsonl,
// sarif, github, markdown) and handle them before calling [Print].
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// CommonFormats are the formats every command accepts.
var CommonFormats = []Format{Table, JSON, YAML}

// ParseFormat checks s against the allowed formats and names them all in
// the error.
func ParseFormat(s string, allowed []Format) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if f == "" {
		f = Table
	}
	if f == "wide" {
		f = Table
	}
	if slices.Contains(allowed, f) {
		return f, nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", fmt.Errorf("--output %q: must be one of %s", s, strings.Join(names, ", "))
}

// Print writes v in the chosen format: JSON and YAML marshal v itself, the
// table format renders the view that table builds. JSON is indented and
// ends with a newline, as kubectl prints it.
func Print(s *Streams, format Format, v any, table func() *TableView) error {
	switch format {
	case JSON:
		return WriteJSON(s, v)
	case YAML:
		return WriteYAML(s, v)
	default:
		if table == nil {
			return WriteYAML(s, v)
		}
		return RenderTable(s, table())
	}
}

// WriteJSON writes v as indented JSON.
func WriteJSON(s *Streams, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding json: %w", err)
	}
	b = append(b, '\n')
	_, err = s.Out.Write(b)
	return err
}

// WriteJSONLine writes v as one line of compact JSON.
func WriteJSONLine(s *Streams, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding json: %w", err)
	}
	b = append(b, '\n')
	_, err = s.Out.Write(b)
	return err
}

// WriteYAML writes v as YAML through its JSON tags, so -o yaml carries the
// same fields as -o json.
func WriteYAML(s *Streams, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding yaml: %w", err)
	}
	_, err = s.Out.Write(b)
	return err
}
