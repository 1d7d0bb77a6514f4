// Package rbacdiffbench holds the Go benchmarks of "kauth rbac diff" on
// two generated policies of 10,000 bindings each (internal/rbac/rbactest):
// OLD against a copy where 1%, 10%, 50% or 100% of the roles and bindings
// were replaced, removed or given a subject, and against an unrelated
// policy of the same size; then the command's whole path from YAML files.
//
// Run them with:
//
//	go test ./bench/rbacdiff -run '^$' -bench Diff -benchtime 3x
//	go test ./bench/rbacdiff -run '^$' -bench RunFromYAML -benchtime 3x
//	go test ./bench/rbacdiff -run '^$' -bench Command -benchtime 1x
//
// BenchmarkDiff is rbacdiff.Diff on indexed policies; BenchmarkRunFromYAML
// adds reading, validating, aggregating and indexing both sides;
// BenchmarkCommand runs "kauth rbac diff OLD.yaml NEW.yaml -o FORMAT" as
// the binary does, rendering to a discarded stdout. Besides ns/op (wall)
// they report cpu-s/op (CPU time of every thread), which varies far less
// with the load of the shared 2-core machine.
//
// Figures on the 2-core machine (Nov 2026), before and after rule
// compilation, rule masks and bitmap flip sets (commits 22ac905..f0e2acd;
// outputs byte-equal). Before: the engine asked once per atom through a
// one-role index, flips kept in maps of string atoms.
//
//	Diff           changes   before cpu-s  before wall   after cpu-s  after wall
//	change=1%        4,312        0.86        0.36-1.7        0.14     0.07-0.13
//	change=10%      44,989        3.58         1.6-8.4        0.55-0.67  0.28-0.45
//	change=50%     163,041       13.0          8.6            1.2-1.3    0.66-1.0
//	change=100%    228,410       15.9         16.2            1.1-1.2    0.53-0.80
//	unrelated      299,067       25.7        14.8-21.4        1.5-1.8    0.80 (load ~3)
//
// Wall ranges span machine loads from about 1 to 8 (other sessions
// running); "after" wall at low load is about CPU/2 (both cores).
//
//	RunFromYAML (load + diff)   cpu-s    wall
//	change=1%                   1.6      0.84 (load ~3)
//	change=50%                  2.7      1.4  (load ~3)
//	unrelated                   3.1      1.6  (load ~3)
//
// Reading two 10,000-binding YAML files (YAML parsing in internal/loader)
// costs about 0.7 s of wall and 1.4 s of CPU of these; the rest is the
// diff.
//
//	Command (load + diff + render, load ~5)   table      json       markdown
//	change=1%     (1-3 MB out)                2.2 s      1.5 s      1.5 s
//	change=50%    (23-113 MB out)             3.3 s      3.6 s      2.1 s
//	unrelated     (43-209 MB out)             4.1 s      3.0 s      2.4 s
//
// Before, a large table took minutes (every footer line copied the whole
// rendered table; fixed in internal/output) and a large markdown comment
// seconds (a strings.Replacer built per cell).
package rbacdiffbench
