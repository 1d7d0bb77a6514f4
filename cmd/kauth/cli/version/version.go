// Package version implements "kauth version".
package version

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
)

// Info is what "kauth version" reports.
type Info struct {
	Version    string `json:"version"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
	Kubernetes string `json:"kubernetes"`
	Commit     string `json:"commit,omitempty"`
}

// kubernetesTarget is the kube-apiserver version whose behaviour kauth
// reproduces.
const kubernetesTarget = "v1.37"

type versionOptions struct {
	IO     *output.Streams
	Format output.Format
}

// NewCmd builds "kauth version".
func NewCmd(f *cli.Factory) *cobra.Command {
	opts := &versionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the kauth version and the Kubernetes version it follows",
		Example: `  # Print the version
  kauth version

  # As JSON
  kauth version -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format = format
			return runVersion(opts)
		},
	}
}

func runVersion(o *versionOptions) error {
	info := Read()
	return output.Print(o.IO, o.Format, info, func() *output.TableView {
		t := &output.TableView{Headers: []string{"KAUTH", "KUBERNETES", "GO", "PLATFORM"}}
		t.AddRow(info.Version, info.Kubernetes, info.GoVersion, info.Platform)
		return t
	})
}

// Read collects the version from the build information.
func Read() Info {
	info := Info{
		Version:    "(devel)",
		GoVersion:  runtime.Version(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
		Kubernetes: kubernetesTarget,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
	}
	return info
}
