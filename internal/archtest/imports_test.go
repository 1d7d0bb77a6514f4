package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/kauth/kauth"

// rule denies imports with a prefix in files under a folder.
type rule struct {
	under  string   // folder, relative to the module root
	except []string // sub-folders the rule does not apply to
	deny   []string // import paths; a path also denies the packages below it
	exact  []string // import paths denied alone, not the packages below them
	why    string
}

var rules = []rule{
	{
		under: "internal", except: []string{"internal/output"},
		deny: []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/charmbracelet/lipgloss", "charm.land/lipgloss", module + "/cmd/", module + "/internal/output"},
		why:  "core packages take and return values; commands and rendering live in cmd/kauth and internal/output",
	},
	{
		under: ".",
		deny:  []string{"k8s.io/kubernetes", "io/ioutil", "github.com/pkg/errors"},
		exact: []string{"log"},
		why:   "k8s.io/kubernetes only in tools with their own go.mod; log/slog and stdlib wrapping instead of log and pkg/errors",
	},
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "tools" || strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, r := range rules {
				if denied(r, filepath.ToSlash(rel), path) {
					t.Errorf("%s imports %q: %s", rel, path, r.why)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func denied(r rule, rel, path string) bool {
	if r.under != "." && !strings.HasPrefix(rel, r.under+"/") {
		return false
	}
	for _, e := range r.except {
		if strings.HasPrefix(rel, e+"/") {
			return false
		}
	}
	for _, d := range r.exact {
		if path == d {
			return true
		}
	}
	for _, d := range r.deny {
		if path == d || strings.HasPrefix(path, d+"/") || strings.HasSuffix(d, "/") && strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

// TestOnlyMainExits checks that os.Exit appears in cmd/kauth/main.go and
// test mains only.
func TestOnlyMainExits(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "tools" || rel == "bench" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || rel == filepath.Join("cmd", "kauth", "main.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), "os.Exit(") {
			t.Errorf("%s calls os.Exit: only cmd/kauth/main.go exits; return an error instead", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s", dir)
	}
	return dir
}
