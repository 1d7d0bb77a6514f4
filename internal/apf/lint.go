package apf

import (
	"errors"
	"fmt"
	"sort"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"

	"github.com/kauth/kauth/internal/loader"
)

// Finding is one lint result.
type Finding struct {
	Severity string `json:"severity"` // error or warning
	Check    string `json:"check"`
	Object   string `json:"object"`
	Source   string `json:"source"`
	Message  string `json:"message"`
}

// Lint checks, in order of the reasons an operator would care:
const (
	CheckInvalid          = "invalid"           // the API would reject the object
	CheckDangling         = "dangling"          // schema points at a missing level
	CheckShadowed         = "shadowed"          // schema can never match
	CheckPrecedenceTie    = "precedence-tie"    // overlapping schemas ordered only by name
	CheckUnusedLevel      = "unused-level"      // level no schema points at
	CheckNoIsolation      = "no-isolation"      // handSize == queues: every flow shares every queue
	CheckZeroConcurrency  = "zero-concurrency"  // nominal limit 0: runs only on borrowed seats
	CheckSingleQueue      = "single-queue"      // queuing with one queue: no fairness between flows
	CheckMandatoryMissing = "mandatory-missing" // exempt or catch-all supplied by the server
)

// LintResult is what Lint found.
type LintResult struct {
	ServerConcurrencyLimit int       `json:"serverConcurrencyLimit"`
	Findings               []Finding `json:"findings"`
}

// Lint checks loaded objects (with no objects: the default
// configuration) for problems the API server accepts silently or would
// reject, at the given server concurrency limit.
func Lint(objs []loader.Object, defaults bool, scl int) (*LintResult, error) {
	res := &LintResult{ServerConcurrencyLimit: scl, Findings: []Finding{}}
	var cfg *Config
	if defaults {
		cfg = DefaultConfig()
	} else {
		var valid []loader.Object
		for _, o := range objs {
			if f := invalidFinding(o); f != nil {
				res.Findings = append(res.Findings, *f)
				continue
			}
			valid = append(valid, o)
		}
		c, err := ConfigFromObjects(valid)
		if err != nil {
			var dup interface{ Unwrap() []error }
			if !errors.As(err, &dup) && len(res.Findings) > 0 {
				sortFindings(res.Findings)
				return res, nil
			}
			return nil, err
		}
		cfg = c
		for _, a := range cfg.Added {
			res.Findings = append(res.Findings, Finding{"warning", CheckMandatoryMissing, a, "built-in",
				"not in the configuration; kube-apiserver supplies the built-in object"})
		}
	}
	res.Findings = append(res.Findings, lintConfig(cfg, scl)...)
	sortFindings(res.Findings)
	return res, nil
}

func invalidFinding(o loader.Object) *Finding {
	var el []error
	var kind, name string
	switch obj := o.Object.(type) {
	case *flowcontrolv1.FlowSchema:
		fs := obj.DeepCopy()
		DefaultFlowSchema(fs)
		kind, name = "FlowSchema", fs.Name
		for _, e := range ValidateFlowSchema(fs) {
			el = append(el, e)
		}
	case *flowcontrolv1.PriorityLevelConfiguration:
		pl := obj.DeepCopy()
		DefaultPriorityLevel(pl)
		kind, name = "PriorityLevelConfiguration", pl.Name
		for _, e := range ValidatePriorityLevel(pl) {
			el = append(el, e)
		}
	}
	if len(el) == 0 {
		return nil
	}
	return &Finding{"error", CheckInvalid, kind + "/" + name, o.Source.String(), errors.Join(el...).Error()}
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Object != fs[j].Object {
			return fs[i].Object < fs[j].Object
		}
		return fs[i].Check < fs[j].Check
	})
}

func lintConfig(cfg *Config, scl int) []Finding {
	var out []Finding
	src := func(kind, name string) string { return cfg.Source(kind, name).String() }
	used := map[string]bool{}
	for _, fs := range cfg.FlowSchemas {
		pl := fs.Spec.PriorityLevelConfiguration.Name
		used[pl] = true
		if cfg.PriorityLevel(pl) == nil {
			out = append(out, Finding{"error", CheckDangling, "FlowSchema/" + fs.Name, src("FlowSchema", fs.Name),
				fmt.Sprintf("priority level %q does not exist; kube-apiserver ignores this schema", pl)})
		}
	}
	out = append(out, lintOrder(cfg, src)...)
	for _, l := range Limits(cfg, scl) {
		out = append(out, lintLevel(l, scl, used[l.Name], src)...)
	}
	return out
}

func lintOrder(cfg *Config, src func(kind, name string) string) []Finding {
	var out []Finding
	// Dangling schemas are ignored by the server: they shadow nothing.
	var fss []*flowcontrolv1.FlowSchema
	for _, fs := range cfg.FlowSchemas {
		if cfg.PriorityLevel(fs.Spec.PriorityLevelConfiguration.Name) != nil {
			fss = append(fss, fs)
		}
	}
	for j, b := range fss {
		// The mandatory catch-all is meant to be shadowed: it is the
		// fallback for what nothing else matches.
		for _, a := range fss[:j] {
			if b.Name == flowcontrolv1.FlowSchemaNameCatchAll {
				break
			}
			if covers(a, b) {
				out = append(out, Finding{"warning", CheckShadowed, "FlowSchema/" + b.Name, src("FlowSchema", b.Name),
					fmt.Sprintf("can never match: FlowSchema %q (matchingPrecedence %d) matches every request it matches first", a.Name, a.Spec.MatchingPrecedence)})
				break
			}
		}
		for _, a := range fss[:j] {
			if a.Spec.MatchingPrecedence == b.Spec.MatchingPrecedence && subjectsOverlap(a, b) {
				out = append(out, Finding{"warning", CheckPrecedenceTie, "FlowSchema/" + b.Name, src("FlowSchema", b.Name),
					fmt.Sprintf("shares matchingPrecedence %d with FlowSchema %q and their subjects overlap; only the names decide which matches first", b.Spec.MatchingPrecedence, a.Name)})
				break
			}
		}
	}
	return out
}

func lintLevel(l LevelLimits, scl int, used bool, src func(kind, name string) string) []Finding {
	var out []Finding
	obj := "PriorityLevelConfiguration/" + l.Name
	add := func(sev, check, msg string) {
		out = append(out, Finding{sev, check, obj, src("PriorityLevelConfiguration", l.Name), msg})
	}
	if !used {
		add("warning", CheckUnusedLevel, "no FlowSchema points at this priority level; its seats only serve others through lending")
	}
	if l.Exempt() {
		return out
	}
	if l.NominalConcurrencyLimit == 0 {
		add("warning", CheckZeroConcurrency, fmt.Sprintf("nominal concurrency limit is 0 at a server limit of %d (nominalConcurrencyShares %d); requests run only on borrowed seats", scl, l.NominalConcurrencyShares))
	}
	if l.Queues > 1 && l.HandSize == l.Queues {
		add("warning", CheckNoIsolation, fmt.Sprintf("handSize equals queues (%d): every flow may use every queue, so shuffle sharding isolates nothing", l.Queues))
	}
	if l.Queues == 1 {
		add("warning", CheckSingleQueue, "one queue: all flows share it, so there is no fairness between them")
	}
	return out
}
