package quota

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/quota"
)

// loadManifests reads -f sources through the shared loader; a bad file is
// an input error (exit 2).
func loadManifests(ctx context.Context, sources []string, stdin io.Reader) ([]loader.Object, error) {
	objs, err := loader.Load(ctx, sources, loader.Options{Stdin: stdin})
	if err != nil {
		return nil, cli.InputError(err)
	}
	return objs, nil
}

// loadPolicy reads --quota sources: a tenants file stands for the objects
// it generates; anything else goes through the loader.
func loadPolicy(ctx context.Context, sources []string, stdin io.Reader) ([]loader.Object, error) {
	var out []loader.Object
	for _, src := range sources {
		objs, err := loadPolicySource(ctx, src, stdin)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func loadPolicySource(ctx context.Context, src string, stdin io.Reader) ([]loader.Object, error) {
	info, err := os.Stat(src)
	if err != nil || info.IsDir() {
		return loadManifests(ctx, []string{src}, stdin)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, cli.InputError(err)
	}
	if !quota.IsTenantsFile(data) {
		return loadManifests(ctx, []string{src}, stdin)
	}
	t, err := quota.ReadTenants(src, data)
	if err != nil {
		return nil, cli.InputError(err)
	}
	list, err := quota.Generate(t)
	if err != nil {
		return nil, fmt.Errorf("generating objects from %s: %w", src, err)
	}
	objs := make([]loader.Object, len(list.Items))
	for i, item := range list.Items {
		objs[i] = loader.Object{Object: item, Source: loader.Source{File: src}}
	}
	return objs, nil
}

// readInput reads a file, or standard input for "-".
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}
