package quota

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/quota"
)

// replay loads the manifests and the policy in place (quotas, limit
// ranges, tenants files) and replays the manifests' creation through
// admission; check reports the result and usage shows its namespaces.
func replay(ctx context.Context, stdin io.Reader, files, quotas []string, nodes int, namespace string) (*quota.CheckResult, error) {
	objs, err := loadManifests(ctx, files, stdin)
	if err != nil {
		return nil, err
	}
	var policy []loader.Object
	for _, src := range quotas {
		objs, err := loadManifests(ctx, []string{src}, stdin)
		if err != nil {
			return nil, err
		}
		if !quota.HasPolicy(objs) {
			return nil, cli.InputError(fmt.Errorf("--quota %s: no ResourceQuota or LimitRange (directly or from a tenants file): expected the quotas and limit ranges to check against", src))
		}
		policy = append(policy, objs...)
	}
	return quota.Check(quota.CheckRequest{Objects: objs, Policy: policy, DaemonSetNodes: nodes, DefaultNamespace: namespace})
}

// replayFlags binds --nodes and -n/--namespace, the replay settings check
// and usage share.
func replayFlags(cmd *cobra.Command, nodes *int, namespace *string) {
	cmd.Flags().IntVar(nodes, "nodes", 1, "nodes a DaemonSet runs a pod on")
	cmd.Flags().StringVarP(namespace, "namespace", "n", "default", "namespace of objects that do not name one")
}

// loadManifests reads sources through the shared loader; a tenants file
// among them (given directly or found in a folder) stands for the objects
// it generates. A bad file is an input error (exit 2).
func loadManifests(ctx context.Context, sources []string, stdin io.Reader) ([]loader.Object, error) {
	objs, err := loader.Load(ctx, sources, loader.Options{Stdin: stdin})
	if err != nil {
		return nil, cli.InputError(err)
	}
	var out []loader.Object
	for _, o := range objs {
		if !isTenants(o) {
			out = append(out, o)
			continue
		}
		generated, err := tenantsObjects(o.Source.File)
		if err != nil {
			return nil, err
		}
		out = append(out, generated...)
	}
	return out, nil
}

func isTenants(o loader.Object) bool {
	u, ok := o.Object.(*unstructured.Unstructured)
	return ok && u.GetAPIVersion() == quota.TenantsAPIVersion && u.GetKind() == quota.TenantsKind
}

// tenantsObjects reads a tenants file strictly and returns what it
// generates, each object sourced to the file.
func tenantsObjects(path string) ([]loader.Object, error) {
	if path == "-" || strings.HasPrefix(path, "git:") {
		return nil, cli.UsageErrorf("%s: a tenants file is read from its own path, not from stdin or git history; pass the file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.InputError(fmt.Errorf("reading tenants file: %w", err))
	}
	t, err := quota.ReadTenants(path, data)
	if err != nil {
		return nil, cli.InputError(err)
	}
	list, err := quota.Generate(t)
	if err != nil {
		return nil, fmt.Errorf("generating objects from %s: %w", path, err)
	}
	objs := make([]loader.Object, len(list.Items))
	for i, item := range list.Items {
		objs[i] = loader.Object{Object: item, Source: loader.Source{File: path}}
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
