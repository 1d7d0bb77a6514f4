package apf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Workload is an APFWorkload file (see docs/apf.md).
type Workload struct {
	Kind                   string   `yaml:"kind" json:"kind"`
	ServerConcurrencyLimit int      `yaml:"serverConcurrencyLimit" json:"serverConcurrencyLimit"`
	Duration               Duration `yaml:"duration" json:"duration"`
	Seed                   uint64   `yaml:"seed" json:"seed"`
	QueueWaitLimit         Duration `yaml:"queueWaitLimit" json:"queueWaitLimit"`
	Config                 []string `yaml:"config" json:"config,omitempty"`
	Clients                []Client `yaml:"clients" json:"clients"`

	// File is the path the workload was read from; relative trace and
	// config paths are relative to its folder.
	File string `yaml:"-" json:"-"`
	// lines maps client index to its line in the file.
	lines []int
}

// Client is one source of requests.
type Client struct {
	Name           string   `yaml:"name" json:"name"`
	User           string   `yaml:"user" json:"user"`
	Groups         []string `yaml:"groups" json:"groups,omitempty"`
	Verb           string   `yaml:"verb" json:"verb"`
	APIGroup       string   `yaml:"apiGroup" json:"apiGroup,omitempty"`
	Resource       string   `yaml:"resource" json:"resource,omitempty"`
	Subresource    string   `yaml:"subresource" json:"subresource,omitempty"`
	Namespace      string   `yaml:"namespace" json:"namespace,omitempty"`
	NonResourceURL string   `yaml:"nonResourceURL" json:"nonResourceURL,omitempty"`
	Rate           float64  `yaml:"rate" json:"rate,omitempty"`
	Arrival        string   `yaml:"arrival" json:"arrival,omitempty"`
	Start          Duration `yaml:"start" json:"start,omitempty"`
	ServiceTime    Duration `yaml:"serviceTime" json:"serviceTime"`
	Seats          int      `yaml:"seats" json:"seats,omitempty"`
	Trace          string   `yaml:"trace" json:"trace,omitempty"`

	// Offsets are the trace's arrival offsets, filled by [LoadTraces].
	Offsets []time.Duration `yaml:"-" json:"-"`
}

// Request is the client's request for classification.
func (c Client) Request() Request {
	return Request{User: c.User, Groups: c.Groups, Verb: c.Verb, APIGroup: c.APIGroup, Resource: c.Resource,
		Subresource: c.Subresource, Namespace: c.Namespace, NonResourceURL: c.NonResourceURL}
}

// Duration is a Go duration written as a string ("1.5s", "250ms").
type Duration struct{ time.Duration }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 1.5s or 250ms", n.Line)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (examples: 1.5s, 250ms)", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// The defaults of the workload file.
const (
	DefaultQueueWaitLimit = 15 * time.Second
	maxArrivals           = 50_000_000
)

// ParseWorkload reads a workload file's bytes; path names it in errors.
// Trace files are not read: see [LoadTraces].
func ParseWorkload(path string, data []byte) (*Workload, error) {
	w := &Workload{File: path}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(w); err != nil {
		return nil, fmt.Errorf("%s:%s", path, yamlErr(err, &root))
	}
	w.lines = clientLines(&root)
	if w.QueueWaitLimit.Duration == 0 {
		w.QueueWaitLimit.Duration = DefaultQueueWaitLimit
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.Seats == 0 {
			c.Seats = 1
		}
		if c.Arrival == "" && c.Trace == "" {
			c.Arrival = "constant"
		}
	}
	if err := w.validate(); err != nil {
		return nil, err
	}
	return w, nil
}

// yamlErr turns a yaml error into "line: message" and, when the line holds
// a field of the file, names it (and its client): "line: clients[i]
// (name): field: message", as the errors of validate do.
func yamlErr(err error, root *yaml.Node) string {
	msg := err.Error()
	if errors.Is(err, io.EOF) {
		return "1: empty workload file; expected kind: APFWorkload"
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			line, text := rest[:i], strings.ReplaceAll(rest[i+2:], "\n  ", "; ")
			field := ""
			// yaml's "field colour not found in type apf.Client".
			if f, tail, ok := strings.Cut(strings.TrimPrefix(text, "field "), " not found in type "); ok && strings.HasPrefix(text, "field ") {
				field, text = f, "unknown field"
				if _, more, ok := strings.Cut(tail, "; "); ok {
					text += "; " + more
				}
			}
			if n, err := strconv.Atoi(line); err == nil {
				return line + ": " + fieldAt(root, n, field) + text
			}
			return line + ": " + text
		}
	}
	return "1: " + strings.ReplaceAll(msg, "\n  ", "; ")
}

// fieldAt names the field on line (key, if not empty, is its name) as
// "field: " or "clients[i] (name): field: ", or "" when no field is there.
func fieldAt(root *yaml.Node, line int, key string) string {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return ""
	}
	at := func(k, v *yaml.Node) bool {
		return (key == "" || k.Value == key) && (k.Line == line || (v.Kind == yaml.ScalarNode && v.Line == line))
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "clients" && v.Kind == yaml.SequenceNode {
			for ci, c := range v.Content {
				if c.Kind != yaml.MappingNode {
					continue
				}
				name := ""
				for j := 0; j+1 < len(c.Content); j += 2 {
					if c.Content[j].Value == "name" {
						name = c.Content[j+1].Value
					}
				}
				for j := 0; j+1 < len(c.Content); j += 2 {
					if at(c.Content[j], c.Content[j+1]) {
						return fmt.Sprintf("clients[%d] (%s): %s: ", ci, name, c.Content[j].Value)
					}
				}
			}
		}
		if at(k, v) {
			return k.Value + ": "
		}
	}
	return ""
}

func clientLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "clients" && m.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, it := range m.Content[i+1].Content {
				lines = append(lines, it.Line)
			}
			return lines
		}
	}
	return nil
}

// clientErr formats an error about client i: "file:line: clients[i] (name): field: msg".
func (w *Workload) clientErr(i int, field, format string, args ...any) error {
	line := 1
	if i < len(w.lines) {
		line = w.lines[i]
	}
	return fmt.Errorf("%s:%d: clients[%d] (%s): %s: %s", w.File, line, i, w.Clients[i].Name, field, fmt.Sprintf(format, args...))
}

func (w *Workload) validate() error {
	switch {
	case w.Kind != "APFWorkload":
		return fmt.Errorf("%s:1: kind: must be APFWorkload, got %q", w.File, w.Kind)
	case w.ServerConcurrencyLimit <= 0:
		return fmt.Errorf("%s:1: serverConcurrencyLimit: must be positive (--max-requests-inflight + --max-mutating-requests-inflight), got %d", w.File, w.ServerConcurrencyLimit)
	case w.Duration.Duration <= 0:
		return fmt.Errorf("%s:1: duration: must be positive, got %s", w.File, w.Duration.Duration)
	case w.QueueWaitLimit.Duration < 0:
		return fmt.Errorf("%s:1: queueWaitLimit: must be positive, got %s", w.File, w.QueueWaitLimit.Duration)
	case len(w.Clients) == 0:
		return fmt.Errorf("%s:1: clients: expected at least one client", w.File)
	}
	seen := map[string]int{}
	var total float64
	for i, c := range w.Clients {
		if c.Name == "" {
			return w.clientErr(i, "name", "required")
		}
		if j, ok := seen[c.Name]; ok {
			return w.clientErr(i, "name", "duplicate client name (also clients[%d])", j)
		}
		seen[c.Name] = i
		if err := w.validateClient(i); err != nil {
			return err
		}
		if c.Trace == "" {
			total += c.Rate * (w.Duration.Seconds() - c.Start.Seconds())
		}
	}
	if total > maxArrivals {
		return fmt.Errorf("%s:1: clients: about %.0f arrivals in total; at most %d are supported", w.File, total, maxArrivals)
	}
	return nil
}

func (w *Workload) validateClient(i int) error {
	c := w.Clients[i]
	switch {
	case c.User == "":
		return w.clientErr(i, "user", "required")
	case c.Verb == "":
		return w.clientErr(i, "verb", "required (a Kubernetes verb such as get or list)")
	case c.Verb != strings.ToLower(c.Verb):
		return w.clientErr(i, "verb", "must be lower case, got %q", c.Verb)
	case c.NonResourceURL != "" && (c.Resource != "" || c.APIGroup != "" || c.Subresource != "" || c.Namespace != ""):
		return w.clientErr(i, "nonResourceURL", "cannot be combined with apiGroup, resource, subresource or namespace")
	case c.NonResourceURL == "" && c.Resource == "":
		return w.clientErr(i, "resource", "required (or nonResourceURL)")
	case c.NonResourceURL != "" && !strings.HasPrefix(c.NonResourceURL, "/"):
		return w.clientErr(i, "nonResourceURL", "must start with /, got %q", c.NonResourceURL)
	case c.ServiceTime.Duration <= 0:
		return w.clientErr(i, "serviceTime", "must be positive, got %s", c.ServiceTime.Duration)
	case c.Seats < 1:
		return w.clientErr(i, "seats", "must be at least 1, got %d", c.Seats)
	case c.Start.Duration < 0:
		return w.clientErr(i, "start", "must not be negative, got %s", c.Start.Duration)
	}
	if c.Trace != "" {
		if c.Rate != 0 || c.Arrival != "" {
			return w.clientErr(i, "trace", "cannot be combined with rate or arrival")
		}
		return nil
	}
	switch {
	case c.Rate <= 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0):
		return w.clientErr(i, "rate", "must be positive (arrivals per second), got %v", c.Rate)
	case c.Arrival != "constant" && c.Arrival != "poisson":
		return w.clientErr(i, "arrival", "must be constant or poisson, got %q", c.Arrival)
	}
	return nil
}

// LoadTraces reads the trace files of the clients that name one, with
// readFile (os.ReadFile in the CLI). Relative paths are relative to the
// workload file's folder.
func LoadTraces(w *Workload, readFile func(string) ([]byte, error)) error {
	for i := range w.Clients {
		c := &w.Clients[i]
		if c.Trace == "" {
			continue
		}
		p := c.Trace
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(w.File), p)
		}
		data, err := readFile(p)
		if err != nil {
			return w.clientErr(i, "trace", "%v", err)
		}
		offs, err := ParseTrace(p, data, w.Duration.Duration)
		if err != nil {
			return err
		}
		c.Offsets = offs
	}
	return nil
}

// ParseTrace reads one arrival offset per line (Go durations, ascending;
// # comments and blank lines allowed), dropping offsets at or after
// duration.
func ParseTrace(path string, data []byte, duration time.Duration) ([]time.Duration, error) {
	var out []time.Duration
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	prev := time.Duration(-1)
	for sc.Scan() {
		line++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a duration (examples: 1.5s, 250ms)", path, line, s)
		}
		if d < 0 {
			return nil, fmt.Errorf("%s:%d: offset %s is negative", path, line, d)
		}
		if d < prev {
			return nil, fmt.Errorf("%s:%d: offset %s is before the previous one (%s); offsets must be ascending", path, line, d, prev)
		}
		prev = d
		if d < duration {
			if len(out) >= maxArrivals {
				return nil, fmt.Errorf("%s:%d: more than %d arrivals", path, line, maxArrivals)
			}
			out = append(out, d)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	return out, nil
}

// arrivals generates a client's arrival times in nanoseconds.
type arrivals struct {
	c       *Client
	k       int64
	next    int64
	end     int64
	rng     *rand.Rand
	poisson bool
	done    bool
}

func newArrivals(c *Client, seed uint64, duration time.Duration) *arrivals {
	a := &arrivals{c: c, end: int64(duration)}
	switch {
	case c.Trace != "":
	case c.Arrival == "poisson":
		h := fnv.New64a()
		h.Write([]byte(c.Name))
		a.rng = rand.New(rand.NewPCG(seed, h.Sum64()))
		a.poisson = true
		a.next = int64(c.Start.Duration)
	}
	a.advance()
	return a
}

// advance moves to the next arrival; done is set past the end. Times
// are compared with the end in floating point first, so that a tiny rate
// cannot overflow int64.
func (a *arrivals) advance() {
	var next float64
	switch {
	case a.c.Trace != "":
		if a.k >= int64(len(a.c.Offsets)) {
			a.done = true
			return
		}
		next = float64(a.c.Offsets[a.k])
	case a.poisson:
		next = float64(a.next) + math.Round(a.rng.ExpFloat64()/a.c.Rate*1e9)
	default:
		next = float64(a.c.Start.Duration) + math.Round(float64(a.k)*1e9/a.c.Rate)
	}
	a.k++
	if next >= float64(a.end) || math.IsNaN(next) {
		a.done = true
		return
	}
	a.next = int64(next)
}

// ReadWorkload reads and checks a workload file and its trace files with
// readFile (os.ReadFile in the CLI).
func ReadWorkload(path string, readFile func(string) ([]byte, error)) (*Workload, error) {
	data, err := readFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading workload %s: %w", path, err)
	}
	w, err := ParseWorkload(path, data)
	if err != nil {
		return nil, err
	}
	if err := LoadTraces(w, readFile); err != nil {
		return nil, err
	}
	return w, nil
}

// ConfigDir is the folder the workload's config: paths are relative to.
func (w *Workload) ConfigDir() string { return filepath.Dir(w.File) }
