package admission

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelect(t *testing.T) {
	t.Parallel()
	defaults := []string{NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, MutatingAdmissionPolicy, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota}
	tests := []struct {
		name             string
		enable, disable  []string
		want             []string
		wantSkippedFirst string
		wantErr          string
	}{
		{name: "defaults", want: defaults, wantSkippedFirst: "TaintNodesByCondition"},
		{name: "enable keeps the fixed order", enable: []string{AlwaysDeny, AlwaysPullImages, NamespaceCreator},
			want: []string{NamespaceLifecycle, NamespaceCreator, LimitRanger, ServiceAccount, AlwaysPullImages, PodSecurity, MutatingAdmissionPolicy, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook, ResourceQuota, AlwaysDeny}, wantSkippedFirst: "TaintNodesByCondition"},
		{name: "disable", disable: []string{ResourceQuota, PodSecurity, "Priority", MutatingAdmissionPolicy},
			want: []string{NamespaceLifecycle, LimitRanger, ServiceAccount, MutatingAdmissionWebhook, ValidatingAdmissionPolicy, ValidatingAdmissionWebhook}, wantSkippedFirst: "TaintNodesByCondition"},
		{name: "unknown", enable: []string{"Nope"}, disable: []string{"Neither"},
			wantErr: `enable-admission-plugins plugin "Nope" is unknown; disable-admission-plugins plugin "Neither" is unknown`},
		{name: "overlap", enable: []string{LimitRanger, AlwaysDeny}, disable: []string{AlwaysDeny, LimitRanger},
			wantErr: `[AlwaysDeny LimitRanger] in enable-admission-plugins and disable-admission-plugins overlapped`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Select(tt.enable, tt.disable)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Select error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Enabled); diff != "" {
				t.Errorf("enabled (-want +got):\n%s", diff)
			}
			if len(got.Skipped) == 0 || got.Skipped[0] != tt.wantSkippedFirst {
				t.Errorf("skipped = %v, want it to start with %s", got.Skipped, tt.wantSkippedFirst)
			}
		})
	}
}

func TestDefaultEnabledIsUpstreamsSet(t *testing.T) {
	t.Parallel()
	got := DefaultEnabled()
	if len(got) != len(defaultOn) {
		t.Fatalf("DefaultEnabled has %d plugins, want %d: some default name is not in the ordered list", len(got), len(defaultOn))
	}
	all := OrderedPlugins()
	if all[len(all)-1] != AlwaysDeny || all[len(all)-2] != ResourceQuota {
		t.Errorf("ResourceQuota and AlwaysDeny must run last, got %v", all[len(all)-2:])
	}
	if !slices.IsSortedFunc(got, func(a, b string) int { return slices.Index(all, a) - slices.Index(all, b) }) {
		t.Errorf("DefaultEnabled is not in plugin order: %v", got)
	}
}
