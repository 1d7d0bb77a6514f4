package reliability_test

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestVerboseServeLogsRequestsNotTokens runs "kauth serve -v 6": the
// k8s.io libraries log at that verbosity as in kube-apiserver, so every
// request gets httplog's "HTTP" line (verb, URI, status, latency) and
// refusals their "Forbidden" and "Unable to authenticate" lines. Requests
// carry good and bad bearer tokens, a websocket protocol token, tokens in
// ?access_token=, ?token= and ?bearer=, and a TokenRequest whose answer
// holds a new service-account token: none of these tokens, nor their
// base64 forms, appears in the output; the query values are logged as
// REDACTED.
func TestVerboseServeLogsRequestsNotTokens(t *testing.T) {
	t.Parallel()
	const (
		good  = "verbose-good-7a6b5c4d3e2f1a0b"
		other = "verbose-dave-0f1e2d3c4b5a6978"
		wrong = "verbose-wrong-8899aabbccddeeff"
	)
	tokens := writeTokens(t, good+`,carol,5001,"system:masters"`, other+`,dave,5002`)
	srv := startChild(t, "-v", "6", "--token-auth-file", tokens)
	anon := anonymousClient(t, srv) // no client certificate: the tokens decide
	as := func(token string) *client {
		return &client{base: srv.url, token: token, hc: anon.hc, tr: anon.tr}
	}
	carol, dave, bad := as(good), as(other), as(wrong)

	carol.must(t, http.StatusOK, http.MethodGet, cmPath(""), "")
	dave.must(t, http.StatusForbidden, http.MethodGet, "/api/v1/namespaces/kube-system/secrets", "")
	bad.must(t, http.StatusUnauthorized, http.MethodGet, cmPath(""), "")
	for _, q := range []string{"access_token", "token", "bearer"} {
		anon.must(t, http.StatusForbidden, http.MethodGet, cmPath("")+"?"+q+"="+good, "")
	}
	anon.must(t, http.StatusForbidden, http.MethodGet, cmPath(""), "",
		"Sec-WebSocket-Protocol", "base64url.bearer.authorization.k8s.io."+strings.TrimRight(b64url(good), "="))
	carol.must(t, http.StatusCreated, http.MethodPost, "/api/v1/namespaces/default/serviceaccounts", `{"metadata":{"name":"verbose"}}`)
	tr := carol.must(t, http.StatusCreated, http.MethodPost, "/api/v1/namespaces/default/serviceaccounts/verbose/token", `{"spec":{}}`)
	saToken := regexp.MustCompile(`"token":"([^"]+)"`).FindSubmatch(tr)
	if saToken == nil {
		t.Fatalf("TokenRequest answer without a token: %s", tr)
	}
	// A request's log line is written before its answer is sent, so once
	// carol's final GET is answered, every line above is there.
	carol.must(t, http.StatusOK, http.MethodGet, cmPath("")+"?limit=1", "")

	logs := srv.stderr.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`msg=HTTP verb=LIST URI=/api/v1/namespaces/default/configmaps .* resp=200`),
		regexp.MustCompile(`msg=HTTP verb=LIST URI=/api/v1/namespaces/default/configmaps .* resp=401`),
		regexp.MustCompile(`msg=HTTP verb=LIST URI=/api/v1/namespaces/kube-system/secrets .* resp=403`),
		regexp.MustCompile(`msg=HTTP verb=LIST URI="/api/v1/namespaces/default/configmaps\?access_token=REDACTED" .* resp=403`),
		regexp.MustCompile(`msg=HTTP verb=LIST URI="/api/v1/namespaces/default/configmaps\?bearer=REDACTED" .* resp=403`),
		regexp.MustCompile(`msg=HTTP verb=POST URI=/api/v1/namespaces/default/serviceaccounts/verbose/token .* resp=201`),
		regexp.MustCompile(`msg="Unable to authenticate the request" err="invalid bearer token"`),
		regexp.MustCompile(`level=V4 msg=Forbidden URI="/api/v1/namespaces/default/configmaps\?token=REDACTED"`),
	} {
		if !want.MatchString(logs) {
			t.Errorf("kauth serve -v 6 output lacks %s", want)
		}
	}
	for name, secret := range map[string]string{
		"carol's token": good, "dave's token": other, "the wrong token": wrong, "the service-account token": string(saToken[1]),
		"carol's token in base64url": strings.TrimRight(b64url(good), "="), "carol's token in base64": base64.StdEncoding.EncodeToString([]byte(good)),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("kauth serve -v 6 output contains %s", name)
		}
	}
	t.Logf("kauth serve -v 6: %d lines, %d of them HTTP request lines; no token", strings.Count(logs, "\n"), strings.Count(logs, "msg=HTTP "))
}
