package tokens

import (
	"fmt"
	"strings"
	"testing"
)

// staticFile returns a token file of n users with groups.
func staticFile(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "tok%040d,user-%d,%d,\"dev,ops\"\n", i, i, i)
	}
	return []byte(b.String())
}

func BenchmarkParseStatic10k(b *testing.B) {
	data := staticFile(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ParseStatic("tokens.csv", data)
	}
}

func BenchmarkLintStatic10k(b *testing.B) {
	data := staticFile(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		LintStatic("tokens.csv", data, 0o600)
	}
}
