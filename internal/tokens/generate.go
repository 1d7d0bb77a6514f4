package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
)

// TokenBytes is the number of random bytes in a generated static token:
// 256 bits, twice the 128-bit minimum, as 43 URL-safe base64 characters.
const TokenBytes = 32

// MinTokenLength is the shortest --token kauth accepts. 22 characters of
// URL-safe base64 carry 128 bits; anything shorter cannot reach that even
// when it is perfectly random.
const MinTokenLength = 22

// NewToken returns a fresh URL-safe token from r (crypto/rand.Reader when
// r is nil).
func NewToken(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, TokenBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidateToken checks a token chosen by hand. It must survive the CSV
// file and the HTTP Authorization header unchanged ("Bearer TOKEN" is
// split on spaces), so commas, quotes, whitespace and control characters
// are refused, and it must be at least MinTokenLength characters long.
// The error never contains the token.
func ValidateToken(token string) error {
	if token == "" {
		return fmt.Errorf("token is empty")
	}
	for i, c := range token {
		switch {
		case c == ',' || c == '"':
			return fmt.Errorf("token has %q at position %d; commas and quotes are not allowed", c, i+1)
		case unicode.IsSpace(c) || unicode.IsControl(c):
			return fmt.Errorf("token has whitespace or a control character at position %d", i+1)
		case c > unicode.MaxASCII:
			return fmt.Errorf("token has a non-ASCII character at position %d; HTTP headers carry ASCII", i+1)
		}
	}
	if len(token) < MinTokenLength {
		return fmt.Errorf("token is %d characters long, expected at least %d (128 bits of base64)", len(token), MinTokenLength)
	}
	if w := weakness(token); w != "" {
		return fmt.Errorf("token is weak: %s", w)
	}
	return nil
}

// weakness explains why a token is easy to guess, or returns "".
func weakness(token string) string {
	lower := strings.ToLower(token)
	found, at, covered := "", len(token), 0
	for _, word := range commonWords {
		i := strings.Index(lower, word)
		if i < 0 {
			continue
		}
		covered += strings.Count(lower, word) * len(word)
		if i < at {
			found, at = word, i
		}
	}
	// Common words that make up half the token or more dominate it.
	if covered*2 < len(token) {
		found = ""
	}
	if found != "" {
		return fmt.Sprintf("it is built around the common word %q", found)
	}
	if bits := entropyBits(token); bits < 64 {
		return fmt.Sprintf("it carries about %d bits of entropy, expected at least 128", bits)
	}
	return ""
}

// commonWords are words that people put in hand-made tokens. A token
// built around one is guessable whatever its length.
var commonWords = []string{
	"password", "passw0rd", "secret", "token", "admin", "changeme", "letmein",
	"kubernetes", "kubelet", "default", "qwerty", "123456", "abcdef", "test",
	"example", "welcome", "master", "root", "system", "cluster",
}

// entropyBits estimates the entropy of token: its length times the
// Shannon entropy per character of its own character distribution, capped
// by the alphabet its character classes suggest. Repetitive or
// single-class tokens score low.
func entropyBits(token string) int {
	if token == "" {
		return 0
	}
	counts := map[rune]int{}
	n := 0
	for _, c := range token {
		counts[c]++
		n++
	}
	shannon := 0.0
	for _, k := range counts {
		p := float64(k) / float64(n)
		shannon -= p * math.Log2(p)
	}
	alphabet := math.Log2(float64(alphabetSize(token)))
	return int(float64(n) * min(shannon, alphabet))
}

func alphabetSize(token string) int {
	var lower, upper, digit, other bool
	for _, c := range token {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	size := 0
	for _, class := range []struct {
		on bool
		n  int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 4}} {
		if class.on {
			size += class.n
		}
	}
	return max(size, 2)
}
