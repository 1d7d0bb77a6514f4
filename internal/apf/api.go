package apf

import (
	"context"
	"os"
	"strings"

	"github.com/kauth/kauth/internal/loader"
)

// ConfigSource says where a configuration comes from: files, folders or
// "-" read with internal/loader, or the default configuration when
// Sources is empty.
type ConfigSource struct {
	Sources []string
	Options loader.Options
}

// Load builds the configuration.
func (s ConfigSource) Load(ctx context.Context) (*Config, error) {
	return LoadConfig(ctx, s.Sources, s.Options)
}

// LimitsResult is what "kauth apf limits" reports.
type LimitsResult struct {
	ServerConcurrencyLimit int           `json:"serverConcurrencyLimit"`
	PriorityLevels         []LevelLimits `json:"priorityLevels"`
}

// ComputeLimits loads the configuration and computes every level's limits.
func ComputeLimits(ctx context.Context, src ConfigSource, scl int) (*LimitsResult, error) {
	cfg, err := src.Load(ctx)
	if err != nil {
		return nil, err
	}
	return &LimitsResult{ServerConcurrencyLimit: scl, PriorityLevels: Limits(cfg, scl)}, nil
}

// ClassifyResult is what "kauth apf classify" reports.
type ClassifyResult struct {
	Request Request `json:"request"`
	Classification
	Matched bool `json:"matched"`
}

// ClassifyRequest loads the configuration and classifies r, listing the
// schemas skipped before the match.
func ClassifyRequest(ctx context.Context, src ConfigSource, r Request) (*ClassifyResult, error) {
	cfg, err := src.Load(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := NewClassifier(cfg).Classify(r, true)
	return &ClassifyResult{Request: r, Classification: c, Matched: ok}, nil
}

// LintSources loads objects (none: the default configuration) and lints
// them.
func LintSources(ctx context.Context, src ConfigSource, scl int) (*LintResult, error) {
	if len(src.Sources) == 0 {
		return Lint(nil, true, scl)
	}
	objs, err := loader.Load(ctx, src.Sources, src.Options)
	if err != nil {
		return nil, err
	}
	return Lint(objs, false, scl)
}

// SimulateRequest names a workload file and how to run it.
type SimulateRequest struct {
	Workload string
	// Config overrides the workload's config: list when set.
	Config  ConfigSource
	Options SimulateOptions
}

// SimulateFile reads the workload (and its traces and configuration)
// and simulates it.
func SimulateFile(ctx context.Context, req SimulateRequest) (*Report, error) {
	w, err := ReadWorkload(req.Workload, os.ReadFile)
	if err != nil {
		return nil, err
	}
	src := req.Config
	if len(src.Sources) == 0 && len(w.Config) > 0 {
		src = ConfigSource{Sources: w.Config, Options: loader.Options{Dir: w.ConfigDir(), Stdin: req.Config.Options.Stdin}}
	}
	cfg, err := src.Load(ctx)
	if err != nil {
		return nil, err
	}
	return Simulate(w, cfg, req.Options)
}

// ParseResourceArg splits kubectl's RESOURCE forms: "pods",
// "pods/log", "deployments.apps", "deployments.apps/scale".
func ParseResourceArg(s string) (resource, subresource, group string) {
	resource, subresource, _ = strings.Cut(s, "/")
	resource, group, _ = strings.Cut(resource, ".")
	return resource, subresource, group
}
