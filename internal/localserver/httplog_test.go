package localserver

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactRequestURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"/api/v1/pods", "/api/v1/pods"},
		{"/api/v1/pods?limit=5", "/api/v1/pods?limit=5"},
		{"/api/v1/pods?access_token=s3cret", "/api/v1/pods?access_token=REDACTED"},
		{"/api/v1/pods?limit=5&Token=s3cret&watch=1", "/api/v1/pods?limit=5&Token=REDACTED&watch=1"},
		{"/api/v1/pods?access%5Ftoken=s3cret&bearer=a&bearer=b", "/api/v1/pods?access%5Ftoken=REDACTED&bearer=REDACTED&bearer=REDACTED"},
		{"/api/v1/pods?token", "/api/v1/pods?token=REDACTED"},
		{"/api/v1/pods?%zz=token", "/api/v1/pods?%zz=token"},
	}
	for _, tc := range tests {
		got, changed := redactRequestURI(tc.in)
		if got != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("redactRequestURI(%q) = %q, %v; want %q", tc.in, got, changed, tc.want)
		}
	}
}

// FuzzRedactRequestURI: for any request URI, no value of a redacted
// parameter (as net/url reads the query) survives, and the path is kept.
func FuzzRedactRequestURI(f *testing.F) {
	for _, s := range []string{"/api?access_token=abc", "/x?a=1&token=zz&b", "/?bearer=%41%42", "/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		got, _ := redactRequestURI(uri)
		path, _, _ := strings.Cut(uri, "?")
		if !strings.HasPrefix(got, path) {
			t.Fatalf("path changed: %q -> %q", uri, got)
		}
		_, query, _ := strings.Cut(got, "?")
		values, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		for _, name := range redactedQueryParams {
			for k, vs := range values {
				if !strings.EqualFold(k, name) {
					continue
				}
				for _, v := range vs {
					if v != "REDACTED" {
						t.Fatalf("%s=%q survives in %q (from %q)", k, v, got, uri)
					}
				}
			}
		}
	})
}
