// Package loader reads Kubernetes objects from where users keep them: files,
// folders (recursively), standard input, git history (git:REF:PATH, without
// a checkout) and a live cluster. It decodes YAML and JSON, multi-document
// streams and kind: List into typed k8s.io/api objects (client-go's scheme),
// strictly, as the API server's strict field validation would, and every
// object remembers the file and line it came from so that errors and
// findings can point at it.
//
// Objects of kinds the scheme does not know come back as
// *unstructured.Unstructured, so callers can count and skip them.
package loader
