package tokens

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// ReadBootstrapSecret decodes one Secret from YAML or JSON, as kubectl
// would send it: apiVersion v1, kind Secret, stringData merged over data
// (kube-apiserver does the same on write). Documents that are empty or
// only comments are skipped; exactly one Secret must remain. Errors start
// with "name:line: ", the line being the document's first.
func ReadBootstrapSecret(name string, data []byte) (*corev1.Secret, error) {
	var found *corev1.Secret
	for _, doc := range splitDocuments(data) {
		if isBlankDocument(doc.text) {
			continue
		}
		s, err := decodeSecret(doc.text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, doc.line, err)
		}
		if found != nil {
			return nil, fmt.Errorf("%s:%d: expected one Secret, found another document", name, doc.line)
		}
		found = s
	}
	if found == nil {
		return nil, fmt.Errorf("%s: no Secret in the file", name)
	}
	return found, nil
}

func decodeSecret(doc []byte) (*corev1.Secret, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	var s corev1.Secret
	dec := json.NewDecoder(bytes.NewReader(j))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a Secret: %w", err)
	}
	if s.APIVersion != "v1" || s.Kind != "Secret" {
		return nil, fmt.Errorf("apiVersion %q, kind %q: expected apiVersion v1, kind Secret", s.APIVersion, s.Kind)
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	return &s, nil
}

type document struct {
	text []byte
	line int
}

// splitDocuments splits a YAML stream on "---" lines, remembering the
// line each document starts on.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine := 0, 1
	lineNo := 1
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		line := strings.TrimRight(string(data[pos:next]), "\r\n")
		if line == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, document{text: data[start:pos], line: startLine})
			start, startLine = next, lineNo+1
		}
		pos = next
		lineNo++
	}
	return append(docs, document{text: data[start:], line: startLine})
}

func isBlankDocument(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}
