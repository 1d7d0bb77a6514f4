package rbaclint

import (
	"fmt"
	"strings"
)

// SARIF is the subset of a SARIF 2.1.0 log that code scanning reads.
type SARIF struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is one run of one tool.
type SARIFRun struct {
	Tool    SARIFTool     `json:"tool"`
	Results []SARIFResult `json:"results"`
}

// SARIFTool describes kauth and its rules.
type SARIFTool struct {
	Driver SARIFDriver `json:"driver"`
}

// SARIFDriver is the tool's identity and rule catalog.
type SARIFDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []SARIFRule `json:"rules"`
}

// SARIFRule is one reportingDescriptor.
type SARIFRule struct {
	ID                   string         `json:"id"`
	ShortDescription     SARIFText      `json:"shortDescription"`
	Help                 SARIFText      `json:"help"`
	DefaultConfiguration SARIFLevel     `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

// SARIFText is a message.
type SARIFText struct {
	Text string `json:"text"`
}

// SARIFLevel is a default level.
type SARIFLevel struct {
	Level string `json:"level"`
}

// SARIFResult is one finding.
type SARIFResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   SARIFText       `json:"message"`
	Locations []SARIFLocation `json:"locations"`
}

// SARIFLocation points at a file and line.
type SARIFLocation struct {
	PhysicalLocation SARIFPhysical `json:"physicalLocation"`
}

// SARIFPhysical is an artifact and a region.
type SARIFPhysical struct {
	ArtifactLocation SARIFArtifact `json:"artifactLocation"`
	Region           *SARIFRegion  `json:"region,omitempty"`
}

// SARIFArtifact is a file URI relative to the repository root.
type SARIFArtifact struct {
	URI string `json:"uri"`
}

// SARIFRegion is a start line.
type SARIFRegion struct {
	StartLine int `json:"startLine"`
}

func sarifLevel(s Severity) string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "note"
}

// ToSARIF renders the result as a SARIF 2.1.0 log for code scanning.
func (r *Result) ToSARIF() SARIF {
	run := SARIFRun{Tool: SARIFTool{Driver: SARIFDriver{Name: "kauth", InformationURI: "https://github.com/kauth/kauth/blob/main/docs/rbac.md"}}, Results: []SARIFResult{}}
	for _, rule := range Rules() {
		help := rule.Hint
		if len(rule.Equivalents) > 0 {
			help += ". Equivalent checks: " + strings.Join(rule.Equivalents, ", ")
		}
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, SARIFRule{ID: rule.ID, ShortDescription: SARIFText{rule.Title}, Help: SARIFText{help},
			DefaultConfiguration: SARIFLevel{sarifLevel(rule.Severity)}, Properties: map[string]any{"tags": []string{"security", "rbac"}}})
	}
	for _, f := range r.Findings {
		loc := SARIFPhysical{ArtifactLocation: SARIFArtifact{URI: f.File}}
		if f.Line > 0 {
			loc.Region = &SARIFRegion{StartLine: f.Line}
		}
		run.Results = append(run.Results, SARIFResult{RuleID: f.Rule, Level: sarifLevel(f.Severity), Message: SARIFText{f.Message + ". " + f.Hint},
			Locations: []SARIFLocation{{PhysicalLocation: loc}}})
	}
	return SARIF{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []SARIFRun{run}}
}

// GitHubAnnotations renders each finding as a GitHub Actions workflow
// command (::error file=F,line=L,title=RULE::MESSAGE), one per line.
func (r *Result) GitHubAnnotations() []string {
	out := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		level := "notice"
		switch f.Severity {
		case SeverityError:
			level = "error"
		case SeverityWarning:
			level = "warning"
		}
		props := "file=" + escapeProperty(f.File)
		if f.Line > 0 {
			props += fmt.Sprintf(",line=%d", f.Line)
		}
		props += ",title=" + escapeProperty("kauth "+f.Rule)
		out = append(out, fmt.Sprintf("::%s %s::%s", level, props, escapeData(f.Message+" (hint: "+f.Hint+")")))
	}
	return out
}

// escapeData and escapeProperty follow @actions/core's command escaping.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
