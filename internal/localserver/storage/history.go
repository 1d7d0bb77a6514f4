package storage

import (
	"sort"
	"time"
)

// The event history is kept per resource, as kube-apiserver keeps one
// watch cache per resource: a burst of writes to configmaps does not push
// the recent events of pods out of reach. Each resource's ring starts at
// minHistory events, doubles while everything in it is younger than
// historyFreshness (so a watch that re-connects within that time can
// resume), and halves again once its newest quarter has grown older than
// that, as the watch cache's capacity does. maxHistory bounds the memory a
// resource may hold; kube-apiserver's bound is larger, but it has etcd's
// own history to fall back on and kauth has not.
const (
	minHistory       = 100
	maxHistory       = 4096
	historyFreshness = 75 * time.Second
)

// history is one resource's ring of recent events, in resourceVersion
// order. start and end count events ever added; the ring holds
// [start, end).
type history struct {
	ring  []event
	start int
	end   int
	// evicted is the resourceVersion of the newest event dropped from the
	// ring: a watch or snapshot from any resourceVersion >= evicted still
	// sees every later event of this resource.
	evicted uint64
}

func newHistory() *history {
	return &history{ring: make([]event, minHistory)}
}

func (h *history) len() int { return h.end - h.start }

func (h *history) full() bool { return h.len() == len(h.ring) }

// at returns the i-th event counted from the oldest one held.
func (h *history) at(i int) *event { return &h.ring[(h.start+i)%len(h.ring)] }

// add appends ev, resizing the ring first and dropping the oldest event
// when it is still full.
func (h *history) add(ev event) {
	h.resize(ev.at)
	if h.full() {
		h.evicted = h.at(0).rv
		*h.at(0) = event{}
		h.start++
	}
	h.ring[h.end%len(h.ring)] = ev
	h.end++
}

func (h *history) resize(now time.Time) {
	if !h.full() {
		return
	}
	n := len(h.ring)
	switch {
	case now.Sub(h.at(0).at) < historyFreshness && n < maxHistory:
		h.setCapacity(min(2*n, maxHistory))
	case now.Sub(h.at(n-n/4).at) > historyFreshness && n > minHistory:
		h.setCapacity(max(n/2, minHistory))
	}
}

// setCapacity copies the ring into one of capacity n, keeping the newest
// events when it shrinks.
func (h *history) setCapacity(n int) {
	if drop := h.len() - n; drop > 0 {
		h.evicted = h.at(drop - 1).rv
		h.start += drop
	}
	ring := make([]event, n)
	for i := h.start; i < h.end; i++ {
		ring[i%n] = h.ring[i%len(h.ring)]
	}
	h.ring = ring
}

// after returns the events newer than rv, oldest first.
func (h *history) after(rv uint64) []event {
	n := h.len()
	first := sort.Search(n, func(i int) bool { return h.at(i).rv > rv })
	out := make([]event, 0, n-first)
	for i := first; i < n; i++ {
		out = append(out, *h.at(i))
	}
	return out
}
