package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kauth/kauth/internal/localserver/api"
	"github.com/kauth/kauth/internal/localserver/storage"
)

func Example() {
	a, err := api.New(storage.NewMemory(), api.Hooks{})
	if err != nil {
		panic(err)
	}
	// kauth serve puts its filter chain (authentication, authorization...)
	// in front; the bare handler still answers reads.
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/api/v1/namespaces", "application/json",
		strings.NewReader(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}`))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)

	resp, err = http.Get(srv.URL + "/api/v1/namespaces/team/configmaps/missing")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println(strings.TrimSpace(string(body)))
	// Output:
	// 201 Created
	// 404 Not Found
	// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"missing\" not found","reason":"NotFound","details":{"name":"missing","kind":"configmaps"},"code":404}
}
