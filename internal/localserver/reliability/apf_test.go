package reliability_test

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kauth/kauth/internal/localserver"
)

// withAPF turns API Priority and Fairness on and reports whether this
// build of the server has it (Config.EnablePriorityAndFairness).
func withAPF(c *localserver.Config) bool {
	f := reflect.ValueOf(c).Elem().FieldByName("EnablePriorityAndFairness")
	if !f.IsValid() || f.Kind() != reflect.Bool {
		return false
	}
	f.SetBool(true)
	return true
}

// TestAPFSmallLimitServesRequests overloads a server running API Priority
// and Fairness with a total of 6 seats (--max-requests-inflight=4,
// --max-mutating-requests-inflight=2) from 64 concurrent GETs of one
// token user. kube-apiserver gives each priority level
// ceil(6 × shares / total shares) seats (workload-low: 3), so the first
// requests are served at once and the excess waits in queues or gets 429;
// the admin (system:masters, exempt) is served throughout.
func TestAPFSmallLimitServesRequests(t *testing.T) {
	t.Parallel()
	hasAPF := false
	s := startServer(t, func(c *localserver.Config) {
		hasAPF = withAPF(c)
		c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight = 4, 2
		c.TokenAuthFile = writeTokens(t, `heavy-token-0123456789,heavy,1001,"heavy"`)
	})
	if !hasAPF {
		t.Skip("this build of kauth serve has no API Priority and Fairness")
	}
	admin := newClient(t, s, "admin")
	heavy := newClient(t, s, "heavy-token-0123456789")
	grantConfigMaps(t, s, admin, "heavy")
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("x", nil))
	var ok, tooMany atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			resp, err := heavy.request(context.Background(), http.MethodGet, cmPath("x"), "")
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				tooMany.Add(1)
			}
		})
	}
	admin.must(t, http.StatusOK, http.MethodGet, cmPath("x"), "")
	wg.Wait()
	if ok.Load() == 0 {
		t.Errorf("none of 64 concurrent GETs was served (%d got 429)", tooMany.Load())
	}
}
