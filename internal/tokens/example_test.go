package tokens_test

import (
	"fmt"

	"github.com/kauth/kauth/internal/tokens"
)

// Groups go into one field that encoding/csv quotes, which is what
// kube-apiserver's reader expects.
func ExampleEncodeStaticLine() {
	line, _ := tokens.EncodeStaticLine("Xq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345", "alice", "1001", []string{"dev", "ops"}, nil, false)
	fmt.Print(line)
	// Output: Xq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345,alice,1001,"dev,ops"
}

// Unquoted groups become extra columns that kube-apiserver ignores.
func ExampleLintStatic() {
	res := tokens.LintStatic("tokens.csv", []byte("Xq3v9LrT0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345,alice,1001,dev,ops\n"), 0o600)
	for _, f := range res.Findings {
		fmt.Printf("%d %s %s\n", f.Line, f.Severity, f.Rule)
	}
	// Output: 1 warning extra-columns
}
