package localserver

import (
	"net/http"
	"net/url"
	"strings"
)

// redactedQueryParams are query parameters whose values look like
// credentials a client misplaced in a URL: they never authenticate (bearer
// tokens are read from the Authorization header only), and their values
// are kept out of logs.
var redactedQueryParams = []string{"access_token", "token", "bearer"}

// withRedactedRequestURI replaces the values of redactedQueryParams in
// r.RequestURI with REDACTED before the chain sees the request.
// k8s.io/apiserver logs r.RequestURI verbatim (httplog's "HTTP" line at
// -v 3, authorization's "Forbidden" at -v 4, internal errors); the URL the
// handlers serve (r.URL) is unchanged, and the audit log redacts its own
// copy.
func withRedactedRequestURI(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uri, ok := redactRequestURI(r.RequestURI); ok {
			r = r.WithContext(r.Context()) // a shallow copy: the caller's request is not changed
			r.RequestURI = uri
		}
		h.ServeHTTP(w, r)
	})
}

// redactRequestURI returns uri with the values of redactedQueryParams
// replaced, and whether it changed anything.
func redactRequestURI(uri string) (string, bool) {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri, false
	}
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		for _, name := range redactedQueryParams {
			if strings.EqualFold(key, name) {
				params[i] = k + "=REDACTED"
				changed = true
			}
		}
	}
	if !changed {
		return uri, false
	}
	return path + "?" + strings.Join(params, "&"), true
}
