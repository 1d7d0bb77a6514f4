// Command bootstrap-policy writes the default RBAC policy that a
// kube-apiserver v1.37 creates at start-up (its "rbac/bootstrap-roles"
// post-start hook) as one deterministic multi-document YAML file.
//
// The objects come from k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy,
// evaluated with the default feature gates of the Kubernetes version the
// module pins (emulation version = binary version). It writes, in this order,
// sorted by namespace and name within each kind:
//
//   - ClusterRoles: ClusterRoles() + ControllerRoles()
//   - ClusterRoleBindings: ClusterRoleBindings() + ControllerRoleBindings()
//   - Roles: NamespaceRoles()
//   - RoleBindings: NamespaceRoleBindings()
//
// Usage:
//
//	go run . [-o FILE]
//
// Without -o the YAML goes to stdout. With -o the file is written atomically
// (temporary file in the same directory, then rename).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("o", "", "write the policy to `FILE` instead of stdout")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "bootstrap-policy: unexpected arguments %q, expected none\n", flag.Args())
		os.Exit(2)
	}
	data, err := render()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bootstrap-policy: %v\n", err)
		os.Exit(1)
	}
	if *out == "" {
		_, err = os.Stdout.Write(data)
	} else {
		err = writeAtomic(*out, data)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bootstrap-policy: %v\n", err)
		os.Exit(1)
	}
}

// writeAtomic writes data to a temporary file next to path and renames it
// over path, so a reader never sees a half-written policy.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".policy-*.yaml")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}
