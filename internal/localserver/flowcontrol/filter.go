package flowcontrol

import (
	"fmt"
	"net/http"
	"strconv"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kauth/kauth/internal/apf"
)

var watchVerbs = sets.New("watch")

// WithPriorityAndFairness limits the requests of h as kube-apiserver's
// filter of the same name does. It needs the request info and the user
// in the request's context (it runs after authentication).
func (c *Controller) WithPriorityAndFairness(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info, ok := request.RequestInfoFrom(ctx)
		if !ok {
			http.Error(w, "no RequestInfo found in the context", http.StatusInternalServerError)
			return
		}
		u, ok := request.UserFrom(ctx)
		if !ok {
			http.Error(w, "no User found in context", http.StatusInternalServerError)
			return
		}
		isWatch := watchVerbs.Has(info.Verb)
		if c.opts.LongRunning != nil && c.opts.LongRunning(r, info) && !isWatch {
			h.ServeHTTP(w, r)
			return
		}
		req := apf.Request{User: u.GetName(), Groups: u.GetGroups(), Verb: info.Verb}
		if info.IsResourceRequest {
			req.APIGroup, req.Resource, req.Subresource = info.APIGroup, info.Resource, info.Subresource
			req.Namespace, req.Name = info.Namespace, info.Name
		} else {
			req.NonResourceURL = info.Path
		}
		cl, ok := c.classify(req)
		if !ok {
			http.Error(w, fmt.Sprintf("no priority level for flow schema %q", cl.flowSchema), http.StatusInternalServerError)
			return
		}
		w.Header().Set(flowcontrolv1.ResponseHeaderMatchedPriorityLevelConfigurationUID, string(cl.level.levelUID()))
		w.Header().Set(flowcontrolv1.ResponseHeaderMatchedFlowSchemaUID, string(cl.fsUID))

		t := &ticket{flowSchema: cl.flowSchema, distinguisher: cl.distinguisher, user: u.GetName(), info: info}
		now := c.now()
		if !cl.level.arrive(now, c.nanos(now), t, hashFlowID(cl.flowSchema, cl.distinguisher)) || !cl.level.wait(ctx, c, t) {
			c.dropped.RecordDroppedRequest(cl.level.cfg.Name)
			w.Header().Set("Retry-After", strconv.Itoa(int(c.dropped.GetRetryAfter(cl.level.cfg.Name))))
			http.Error(w, "Too many requests, please try again later.", http.StatusTooManyRequests)
			return
		}
		if isWatch {
			// A watch holds its seat while it starts, not while it runs.
			cl.level.finish(c.nanos(c.now()), t)
			h.ServeHTTP(w, r)
			return
		}
		defer func() { cl.level.finish(c.nanos(c.now()), t) }()
		h.ServeHTTP(w, r)
	})
}
