package output

import (
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestTextWidthMatchesRunewidth(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "abc", "granted", "pods/exec [web, db]", "~!@#$%^&*()_+{}|:<>?", "a\tb", "x\x7f", "héllo", "日本", "e\u0301", "\r\n"} {
		if got, want := textWidth(s), runewidth.StringWidth(s); got != want {
			t.Errorf("textWidth(%q) = %d, runewidth says %d", s, got, want)
		}
	}
}
