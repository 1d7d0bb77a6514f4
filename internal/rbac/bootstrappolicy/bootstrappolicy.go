package bootstrappolicy

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// policyYAML is the generated default policy; regenerate it with
// tools/bootstrap-policy/verify.sh --update.
//
//go:embed policy.yaml
var policyYAML []byte

// decoded holds the objects decoded from policyYAML. It is computed once
// and never modified afterwards; Objects hands out deep copies.
var decoded = sync.OnceValues(func() ([]runtime.Object, error) { return decode(policyYAML) })

// Objects returns the default RBAC objects as typed *rbacv1.ClusterRole,
// *rbacv1.ClusterRoleBinding, *rbacv1.Role and *rbacv1.RoleBinding, in the
// file's order: by kind in that order, then namespace, then name. Each call
// returns new copies that the caller may modify.
func Objects() ([]runtime.Object, error) {
	objs, err := decoded()
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Object, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopyObject()
	}
	return out, nil
}

// decode reads a multi-document YAML stream of rbac.authorization.k8s.io/v1
// objects. Errors name the line of the offending document in policy.yaml.
func decode(data []byte) ([]runtime.Object, error) {
	scheme := runtime.NewScheme()
	if err := rbacv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register rbac/v1 types: %w", err)
	}
	deserializer := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	line := 1
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("policy.yaml:%d: read document: %w", line, err)
		}
		start := line
		line += bytes.Count(doc, []byte("\n")) + 1 // the "---" separator is not part of doc
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := deserializer.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("policy.yaml:%d: decode RBAC object: %w", start, err)
		}
		objs = append(objs, obj)
	}
}

// stripComments drops lines that are only a YAML comment, so the header
// of the file does not count as a document.
func stripComments(doc []byte) []byte {
	var out []byte
	for l := range bytes.Lines(doc) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, l...)
		}
	}
	return out
}
