package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCombineResourceGroup: the resource column of can-i --list reads as
// kubectl prints it, the group on the resource before any subresource.
func TestCombineResourceGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		resources, groups, want []string
	}{
		{[]string{"pods"}, []string{""}, []string{"pods"}},
		{[]string{"pods/log"}, []string{""}, []string{"pods/log"}},
		{[]string{"deployments"}, []string{"apps"}, []string{"deployments.apps"}},
		{[]string{"deployments/scale"}, []string{"apps", "extensions"}, []string{"deployments.apps/scale", "deployments.extensions/scale"}},
		{[]string{"*"}, []string{"*"}, []string{"*.*"}},
		{[]string{"*/scale"}, []string{"apps"}, []string{"*.apps/scale"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, combineResourceGroup(tt.resources, tt.groups)); diff != "" {
			t.Errorf("combineResourceGroup(%q, %q) (-want +got):\n%s", tt.resources, tt.groups, diff)
		}
	}
}
