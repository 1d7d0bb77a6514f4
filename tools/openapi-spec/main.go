// Command openapi-spec cuts the OpenAPI v2 and v3 documents that
// kube-apiserver v1.37 publishes (api/openapi-spec in k8s.io/kubernetes,
// the documents its generated definitions produce) down to the resources
// kauth serve serves, and writes them as gzipped JSON files for
// internal/localserver/api to embed and serve as they are: DIR/v2.json.gz
// and DIR/v3/<group-version path>.json.gz (v3/api/v1.json.gz,
// v3/apis/rbac.authorization.k8s.io/v1.json.gz).
//
// It keeps the paths of served resources and subresources and every
// definition they reach, so kubectl explain, kubectl's field-validation
// probe and server-side apply's type converter see exactly the upstream
// schemas. The k8s.io/kubernetes module is found in the module cache (or
// fetched through GOPROXY) with `go mod download`.
//
// Usage:
//
//	go run . -o DIR
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// kubernetesModule is the release whose published specs are cut down.
const kubernetesModule = "k8s.io/kubernetes@v1.37.2"

func main() {
	out := flag.String("o", "", "write the gzipped documents under `DIR`")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "openapi-spec: -o DIR is required")
		os.Exit(2)
	}
	if err := build(*out); err != nil {
		fmt.Fprintf(os.Stderr, "openapi-spec: %v\n", err)
		os.Exit(1)
	}
}

func build(out string) error {
	dir, err := moduleDir()
	if err != nil {
		return err
	}
	spec, err := cut(filepath.Join(dir, "api", "openapi-spec"))
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(out, "v3")); err != nil {
		return err
	}
	if err := writeDoc(filepath.Join(out, "v2.json.gz"), spec.V2); err != nil {
		return err
	}
	for gv, doc := range spec.V3 {
		if err := writeDoc(filepath.Join(out, "v3", gv+".json.gz"), doc); err != nil {
			return err
		}
	}
	return nil
}

func writeDoc(path string, doc any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := gzipJSON(doc)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

func gzipJSON(doc any) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func moduleDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", kubernetesModule)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", kubernetesModule, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(b, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory in %q", kubernetesModule, b)
	}
	return info.Dir, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".openapi-*.gz")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	return os.Rename(tmp.Name(), path)
}
