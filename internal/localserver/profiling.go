package localserver

import (
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/server/mux"
	"k8s.io/apiserver/pkg/server/routes"
)

// withProfiling serves Go's profiles under /debug/pprof with
// k8s.io/apiserver's routes.Profiling, as kube-apiserver does with
// --profiling (its default): the index, every runtime profile
// (goroutine, heap, allocs, block, mutex, threadcreate), cmdline, a CPU
// profile, symbol and trace. The handler sits behind the whole chain, so
// a request is authenticated and must be allowed the nonResourceURL
// /debug/pprof/* (only system:masters is, by default). Off, the paths are
// the API's (404).
func withProfiling(enabled bool, api http.Handler) http.Handler {
	if !enabled {
		return api
	}
	m := mux.NewPathRecorderMux("kauth-profiling")
	routes.Profiling{}.Install(m)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/debug/pprof" || strings.HasPrefix(p, "/debug/pprof/") {
			m.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
