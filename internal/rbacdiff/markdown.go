package rbacdiff

import (
	"fmt"
	"strings"

	"github.com/kauth/kauth/internal/rbac"
)

// ResourceText renders what a change is about: kubectl's
// resource.group/subresource, a non-resource URL, and the names it is
// limited to.
func (c Change) ResourceText() string {
	if c.NonResourceURL != "" {
		return c.NonResourceURL
	}
	s := c.Resource
	if c.APIGroup != "" {
		s += "." + c.APIGroup
	}
	if c.Subresource != "" {
		s += "/" + c.Subresource
	}
	if len(c.ResourceNames) > 0 {
		s += " [" + strings.Join(c.ResourceNames, ", ") + "]"
	}
	return s
}

// NamespaceText renders the scope: a namespace or cluster-wide.
func (c Change) NamespaceText() string {
	if c.Namespace == "" {
		return "(cluster-wide)"
	}
	return c.Namespace
}

// ViaText renders the bindings and roles behind a change.
func (c Change) ViaText() string {
	out := make([]string, len(c.Via))
	for i, v := range c.Via {
		out[i] = viaText(v)
	}
	return strings.Join(out, ", ")
}

func viaText(v rbac.Via) string {
	b := v.Binding.Kind + "/" + v.Binding.Name
	if v.Binding.Namespace != "" {
		b = v.Binding.Kind + "/" + v.Binding.Namespace + "/" + v.Binding.Name
	}
	return b + " -> " + v.Role.Kind + "/" + v.Role.Name
}

// String renders Kind name or ServiceAccount ns/name.
func (s Subject) String() string {
	if s.Namespace != "" {
		return s.Kind + " " + s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

// Markdown renders the result for a pull-request comment.
func (r *Result) Markdown() string {
	var b strings.Builder
	b.WriteString("### RBAC: change in effective permissions\n\n")
	if len(r.Changes) == 0 {
		b.WriteString("No change in effective permissions.\n")
	} else {
		fmt.Fprintf(&b, "%d changes for %d subjects", len(r.Changes), r.subjects())
		if n := r.Escalations(); n > 0 {
			fmt.Fprintf(&b, ", **%d escalations**", n)
		}
		b.WriteString(".\n\n| | Subject | Change | Verbs | Resource | Namespace | Via |\n|---|---|---|---|---|---|---|\n")
		for _, c := range r.Changes {
			mark := ""
			if c.Escalation {
				mark = ":warning: " + strings.Join(c.Risks, ", ")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mark, md(c.Subject.String()), c.Change, md(strings.Join(c.Verbs, ", ")),
				md(c.ResourceText()), md(c.NamespaceText()), md(c.ViaText()))
		}
	}
	if len(r.Objects) > 0 {
		b.WriteString("\n<details><summary>Objects</summary>\n\n| Change | Kind | Namespace | Name |\n|---|---|---|---|\n")
		for _, o := range r.Objects {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", o.Change, o.Kind, md(o.Namespace), md(o.Name))
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func (r *Result) subjects() int {
	seen := map[Subject]bool{}
	for _, c := range r.Changes {
		seen[c.Subject] = true
	}
	return len(seen)
}

// md escapes text for a Markdown table cell.
func md(s string) string { return mdEscaper.Replace(s) }

// mdEscaper is built once: a Replacer is safe for concurrent use.
var mdEscaper = strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;")
