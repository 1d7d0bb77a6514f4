package apf

// Typed binary heaps: container/heap's interface calls cost too much at
// a million events.

func compLess(a, b completion) bool { return a.t < b.t || a.t == b.t && a.seq < b.seq }

func (s *sim) pushCompletion(c completion) {
	s.seq++
	c.seq = s.seq
	h := append(s.comps, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !compLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	s.comps = h
}

func (s *sim) popCompletion() completion {
	h := s.comps
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && compLess(h[r], h[l]) {
			m = r
		}
		if !compLess(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.comps = h
	return top
}

// Arrivals: a heap of clients by (next arrival, client index), so that
// same-instant arrivals come in file order.
func (s *sim) arrLess(a, b *simClient) bool {
	return a.arr.next < b.arr.next || a.arr.next == b.arr.next && a.idx < b.idx
}

func (s *sim) pushArrival(c *simClient) {
	s.arrHeap = append(s.arrHeap, c)
	i := len(s.arrHeap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.arrLess(s.arrHeap[i], s.arrHeap[p]) {
			break
		}
		s.arrHeap[i], s.arrHeap[p] = s.arrHeap[p], s.arrHeap[i]
		i = p
	}
}

func (s *sim) popArrival() {
	n := len(s.arrHeap) - 1
	s.arrHeap[0] = s.arrHeap[n]
	s.arrHeap = s.arrHeap[:n]
	s.fixArrival()
}

// fixArrival restores the heap after the top's key grew.
func (s *sim) fixArrival() {
	h := s.arrHeap
	i, n := 0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.arrLess(h[r], h[l]) {
			m = r
		}
		if !s.arrLess(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
