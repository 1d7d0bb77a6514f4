package apfupstream

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kauth/kauth/internal/apf"
)

// Arrivals returns a client's arrival times in nanoseconds from time 0,
// as the workload contract's semantics section defines them (restated
// here from the contract, not taken from kauth's simulator).
func Arrivals(c *apf.Client, seed uint64, duration int64) ([]int64, error) {
	var out []int64
	switch {
	case c.Trace != "":
		for _, o := range c.Offsets {
			if int64(o) < duration {
				out = append(out, int64(o))
			}
		}
	case c.Arrival == "" || c.Arrival == "constant":
		for k := int64(0); ; k++ {
			t := float64(c.Start.Duration) + math.Round(float64(k)*1e9/c.Rate)
			if t >= float64(duration) {
				break
			}
			out = append(out, int64(t))
		}
	case c.Arrival == "poisson":
		h := fnv.New64a()
		h.Write([]byte(c.Name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		t := float64(c.Start.Duration)
		for {
			t += math.Round(rng.ExpFloat64() / c.Rate * 1e9)
			if t >= float64(duration) {
				break
			}
			out = append(out, int64(t))
		}
	default:
		return nil, fmt.Errorf("client %s: arrival %q is not constant or poisson", c.Name, c.Arrival)
	}
	return out, nil
}

// Digest is the request digest the APF filter builds for the client's
// requests: the RequestInfo as k8s.io/apiserver's request info resolver
// would fill it for such a URL, and the user with the groups taken
// literally.
func Digest(c *apf.Client) (*request.RequestInfo, user.Info) {
	u := &user.DefaultInfo{Name: c.User, Groups: c.Groups}
	if c.NonResourceURL != "" {
		return &request.RequestInfo{IsResourceRequest: false, Path: c.NonResourceURL, Verb: c.Verb}, u
	}
	prefix, version := "api", "v1"
	parts := []string{}
	if c.APIGroup != "" {
		prefix = "apis"
	}
	path := []string{"", prefix}
	if c.APIGroup != "" {
		path = append(path, c.APIGroup)
	}
	path = append(path, version)
	if c.Namespace != "" && c.Resource != "namespaces" {
		path = append(path, "namespaces", c.Namespace)
	}
	path = append(path, c.Resource)
	parts = append(parts, c.Resource)
	if c.Subresource != "" {
		path = append(path, "NAME", c.Subresource)
		parts = append(parts, "NAME", c.Subresource)
	}
	return &request.RequestInfo{
		IsResourceRequest: true,
		Path:              strings.Join(path, "/"),
		Verb:              c.Verb,
		APIPrefix:         prefix,
		APIGroup:          c.APIGroup,
		APIVersion:        version,
		Namespace:         c.Namespace,
		Resource:          c.Resource,
		Subresource:       c.Subresource,
		Parts:             parts,
	}, u
}

// WaitStats summarises waits (nanoseconds) as the contract says: mean,
// p50 and p99 by nearest rank (the value at rank ceil(p/100 × n)), max.
func WaitStats(waits []int64) apf.WaitStats {
	n := len(waits)
	if n == 0 {
		return apf.WaitStats{}
	}
	s := append([]int64(nil), waits...)
	slices.Sort(s)
	var sum float64
	for _, w := range s {
		sum += float64(w)
	}
	rank := func(p float64) float64 {
		k := min(max(int(math.Ceil(p/100*float64(n))), 1), n)
		return float64(s[k-1]) / 1e9
	}
	return apf.WaitStats{Mean: sum / float64(n) / 1e9, P50: rank(50), P99: rank(99), Max: float64(s[n-1]) / 1e9}
}
