// Command openapi-spec cuts the OpenAPI v2 and v3 documents that
// kube-apiserver v1.37 publishes (api/openapi-spec in k8s.io/kubernetes,
// the documents its generated definitions produce) down to the resources
// kauth serve serves, and writes them as one gzipped JSON file for
// internal/localserver/api to embed.
//
// It keeps the paths of served resources and subresources and every
// definition they reach, so kubectl explain, kubectl's field-validation
// probe and server-side apply's type converter see exactly the upstream
// schemas. The k8s.io/kubernetes module is found in the module cache (or
// fetched through GOPROXY) with `go mod download`.
//
// Usage:
//
//	go run . [-o FILE]
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
	out := flag.String("o", "", "write the gzipped spec to `FILE` instead of stdout")
	flag.Parse()
	data, err := build()
	if err == nil && *out == "" {
		_, err = os.Stdout.Write(data)
	} else if err == nil {
		err = writeAtomic(*out, data)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "openapi-spec: %v\n", err)
		os.Exit(1)
	}
}

func build() ([]byte, error) {
	dir, err := moduleDir()
	if err != nil {
		return nil, err
	}
	spec, err := cut(filepath.Join(dir, "api", "openapi-spec"))
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(spec)
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
