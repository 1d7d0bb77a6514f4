package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	} `json:"object"`
}

// TestThousandWatchesSeeEveryEventInOrder opens 1,000 concurrent watches
// (HTTP/2, raw JSON watch stream) on one ConfigMap, then updates it: every
// watch receives every MODIFIED event, in order, with increasing
// resourceVersions, and nothing else.
func TestThousandWatchesSeeEveryEventInOrder(t *testing.T) {
	t.Parallel()
	watchers, updates := 1000, pick(20, 200)
	s := startServer(t, nil)
	admin := newClient(t, s, "admin")
	var created struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("target", map[string]string{"seq": "0"})), &created); err != nil {
		t.Fatal(err)
	}
	// Another object in the same namespace, changed in between, must not
	// reach watches of "target".
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("other", nil))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := cmPath("") + "?watch=1&fieldSelector=metadata.name%3Dtarget&resourceVersion=" + created.Metadata.ResourceVersion
	bodies := make([]*json.Decoder, watchers)
	for i := range watchers {
		resp, err := admin.request(ctx, http.MethodGet, path, "")
		if err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("watch %d: HTTP %d", i, resp.StatusCode)
		}
		bodies[i] = json.NewDecoder(resp.Body)
	}
	// Every watch is registered (its headers came back): the updates reach
	// them through the live fan-out, not the history replay.
	for i := 1; i <= updates; i++ {
		admin.must(t, http.StatusOK, http.MethodPut, cmPath("target"), configMap("target", map[string]string{"seq": strconv.Itoa(i)}))
		if i%5 == 0 {
			admin.must(t, http.StatusOK, http.MethodPut, cmPath("other"), configMap("other", map[string]string{"seq": strconv.Itoa(i)}))
		}
	}
	errs := make([]error, watchers)
	var wg sync.WaitGroup
	for i, dec := range bodies {
		wg.Go(func() { errs[i] = readInOrder(dec, updates) })
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("watch %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d watches missed or reordered events", failed, watchers)
	}
}

func readInOrder(dec *json.Decoder, updates int) error {
	var lastRV uint64
	for want := 1; want <= updates; want++ {
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			return fmt.Errorf("event %d: %w", want, err)
		}
		rv, err := strconv.ParseUint(ev.Object.Metadata.ResourceVersion, 10, 64)
		if err != nil {
			return fmt.Errorf("event %d: resourceVersion %q: %w", want, ev.Object.Metadata.ResourceVersion, err)
		}
		switch {
		case ev.Type != "MODIFIED" || ev.Object.Metadata.Name != "target":
			return fmt.Errorf("event %d: got %s %s, want MODIFIED target", want, ev.Type, ev.Object.Metadata.Name)
		case ev.Object.Data["seq"] != strconv.Itoa(want):
			return fmt.Errorf("event %d: got seq %s", want, ev.Object.Data["seq"])
		case rv <= lastRV:
			return fmt.Errorf("event %d: resourceVersion %d after %d", want, rv, lastRV)
		}
		lastRV = rv
	}
	return nil
}
