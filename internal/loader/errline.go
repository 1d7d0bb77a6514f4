package loader

import (
	"regexp"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
)

// yamlErrorLine matches the line go-yaml names in a syntax error
// ("yaml: line 5: did not find expected node content"), 1-based within
// the document, or an unmarshal error ("yaml: unmarshal errors:\n  line 3: key ...").
var yamlErrorLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\s+)?line (\d+): `)

// syntaxErrorAt turns a YAML syntax error of a document whose first line
// is the file's line base into the file's line of the error and the
// message without it.
// ok is false when the error names no line.
func syntaxErrorAt(base int, msg string) (line int, rest string, ok bool) {
	m := yamlErrorLine.FindStringSubmatch(msg)
	if m == nil {
		return 0, msg, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, msg, false
	}
	return base + n - 1, msg[len(m[0]):], true
}

// fieldNamed matches the first field a strict decoding error names
// (unknown field "rules[0].verb", duplicate field "metadata.name").
var fieldNamed = regexp.MustCompile(`(?:unknown|duplicate) field "([^"]+)"`)

// fieldLine finds the line, within the document data (1-based), of the
// first field a strict decoding error names: the path is walked through
// the document's YAML nodes (keys separated by dots, list indexes in
// brackets). ok is false when the message names no field or the path is
// not in the document.
func fieldLine(data []byte, msg string) (int, bool) {
	m := fieldNamed.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return 0, false
	}
	node := doc.Content[0]
	line := 0
	for _, seg := range strings.Split(m[1], ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if key != "" {
			var keyLine int
			if node, keyLine = mappingValue(node, key); node == nil {
				return line, line > 0
			}
			line = keyLine
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || node.Kind != yamlv3.SequenceNode || n < 0 || n >= len(node.Content) {
				return line, line > 0
			}
			node = node.Content[n]
			line = node.Line
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return line, line > 0
}

// mappingValue is the value of key in a mapping node, and the line of the
// key; nil when node is not a mapping or has no such key.
func mappingValue(node *yamlv3.Node, key string) (*yamlv3.Node, int) {
	if node.Kind == yamlv3.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if node.Kind != yamlv3.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i+1], node.Content[i].Line
		}
	}
	return nil, 0
}
