package rbacdiffbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kauth/kauth/cmd/kauth/cli/root"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
	"github.com/kauth/kauth/internal/rbacdiff"
)

const bindings = 10000

func generate(seed uint64) *rbac.Policy {
	return rbactest.Generate(rbactest.Config{Seed: seed, Bindings: bindings, Queries: 1}).Policy
}

// mutate returns a copy of old where about percent of the roles and
// bindings are replaced by the same-named objects of other, removed, or
// given one more subject.
func mutate(old, other *rbac.Policy, percent int) *rbac.Policy {
	return rbactest.Mutate(rand.New(rand.NewPCG(uint64(percent), 1)), old, other, percent, 2000, false)
}

// The pairs every benchmark diffs: OLD is one generated policy, NEW a
// mutation of it or an unrelated policy of the same size.
type pair struct {
	name     string
	old, new *rbac.Policy
}

var pairs = sync.OnceValue(func() []pair {
	old, other := generate(42), generate(43)
	out := []pair{}
	for _, pc := range []int{1, 10, 50, 100} {
		out = append(out, pair{fmt.Sprintf("change=%d%%", pc), old, mutate(old, other, pc)})
	}
	return append(out, pair{"unrelated", old, other})
})

// BenchmarkDiff measures Diff on indexed policies of 10,000 bindings.
func BenchmarkDiff(b *testing.B) {
	for _, tc := range pairs() {
		b.Run(tc.name, func(b *testing.B) {
			oldIdx, newIdx := rbac.NewIndex(tc.old), rbac.NewIndex(tc.new)
			var res *rbacdiff.Result
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				res = rbacdiff.Diff(oldIdx, newIdx)
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(res.Changes)), "changes")
			b.ReportMetric(float64(res.Escalations()), "escalations")
			b.ReportMetric(float64(len(res.Objects)), "objects")
		})
	}
}

// yamlFiles writes each pair's two sides to YAML files once.
var yamlFiles = sync.OnceValues(func() (map[string][2]string, error) {
	dir, err := os.MkdirTemp("", "rbacdiff-bench-")
	if err != nil {
		return nil, err
	}
	yamlDir = dir
	write := func(name string, p *rbac.Policy) (string, error) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return path, rbactest.WriteYAML(f, p)
	}
	out := map[string][2]string{}
	oldPath := ""
	for i, tc := range pairs() {
		if oldPath == "" {
			if oldPath, err = write("old.yaml", tc.old); err != nil {
				return nil, err
			}
		}
		newPath, err := write(fmt.Sprintf("new-%d.yaml", i), tc.new)
		if err != nil {
			return nil, err
		}
		out[tc.name] = [2]string{oldPath, newPath}
	}
	return out, nil
})

// yamlDir is the folder of yamlFiles, removed by TestMain.
var yamlDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if yamlDir != "" {
		os.RemoveAll(yamlDir)
	}
	os.Exit(code)
}

// yamlPairs are the pairs the whole-path benchmarks read from files.
var yamlPairs = []string{"change=1%", "change=50%", "unrelated"}

// BenchmarkRunFromYAML measures the core of the command: read both
// sides from YAML files, validate, aggregate, index and diff.
func BenchmarkRunFromYAML(b *testing.B) {
	files, err := yamlFiles()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range yamlPairs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				if _, err := rbacdiff.Run(context.Background(), rbacdiff.Options{Old: files[name][0], New: files[name][1]}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkCommand measures "kauth rbac diff OLD.yaml NEW.yaml -o FORMAT"
// end to end, as the binary runs it: flags, load, diff and rendering
// (to a discarded stdout).
func BenchmarkCommand(b *testing.B) {
	files, err := yamlFiles()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range yamlPairs {
		for _, format := range []string{"table", "json", "markdown"} {
			b.Run(name+"/o="+format, func(b *testing.B) {
				var out countingWriter
				cpu := cpuTime()
				for b.Loop() {
					out = 0
					streams := &output.Streams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}
					if code := root.Main([]string{"rbac", "diff", files[name][0], files[name][1], "-o", format}, streams); code != 0 {
						b.Fatalf("exit code %d", code)
					}
				}
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
				b.ReportMetric(float64(out)/1e6, "MB-out")
			})
		}
	}
}

// countingWriter discards what it is given and counts the bytes.
type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
