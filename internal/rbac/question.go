package rbac

import (
	"fmt"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Question is an access question as "kubectl auth can-i" takes it.
type Question struct {
	Verb string
	// Target is TYPE, TYPE/NAME or a non-resource path starting with "/".
	// TYPE resolves as kubectl resolves it: plural, singular, short name,
	// or resource.group.
	Target      string
	Name        string // when not given as TYPE/NAME
	Namespace   string
	Subresource string
	User        user.Info // nil for who-can
}

// Resolved is a Question made into request attributes, with kubectl's
// warnings about it.
type Resolved struct {
	Attributes authorizer.AttributesRecord
	// Resource is the resolved resource (empty for non-resource paths).
	Resource APIResource
	Warnings []string
}

// Resolve turns q into request attributes. As in kubectl, "pods/log"
// means the pod named "log" (a warning says so when "log" is a known
// subresource): subresources are asked with Subresource.
func Resolve(q Question) (Resolved, error) {
	if q.Verb == "" {
		return Resolved{}, fmt.Errorf("VERB is required")
	}
	if strings.HasPrefix(q.Target, "/") {
		if q.Name != "" || q.Subresource != "" {
			return Resolved{}, fmt.Errorf("a non-resource URL %q takes no NAME or --subresource", q.Target)
		}
		return Resolved{Attributes: authorizer.AttributesRecord{User: q.User, Verb: q.Verb, Path: q.Target}}, nil
	}
	if q.Target == "" {
		return Resolved{}, fmt.Errorf("RESOURCE is required: a resource type such as pods, deploy or deployments.apps, or a non-resource URL such as /healthz")
	}
	typ, name, hasName := strings.Cut(q.Target, "/")
	if hasName && q.Name != "" {
		return Resolved{}, fmt.Errorf("name given twice: %q and %q", q.Target, q.Name)
	}
	if !hasName {
		name = q.Name
	}
	res, known, warning := ResolveResource(typ)
	r := Resolved{Resource: res}
	if warning != "" {
		r.Warnings = append(r.Warnings, warning)
	}
	if known && res.Resource != "*" && !res.Namespaced && q.Namespace != "" {
		// kubectl warns and still asks in the namespace; RBAC then also
		// reads that namespace's RoleBindings.
		w := fmt.Sprintf("resource '%s' is not namespace scoped", res.Resource)
		if res.Group != "" {
			w += fmt.Sprintf(" in group '%s'", res.Group)
		}
		r.Warnings = append(r.Warnings, w)
	}
	if hasName && knownSubresources[name] && q.Subresource == "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%q asks about the %s named %q, as kubectl does; use --subresource %s to ask about the subresource", q.Target, typ, name, name))
	}
	r.Attributes = authorizer.AttributesRecord{
		User: q.User, Verb: q.Verb, Namespace: q.Namespace, APIGroup: res.Group, APIVersion: res.Version,
		Resource: res.Resource, Subresource: q.Subresource, Name: name, ResourceRequest: true,
	}
	return r, nil
}

// knownSubresources are subresources of built-in resources, for the
// TYPE/NAME warning.
var knownSubresources = map[string]bool{
	"log": true, "exec": true, "attach": true, "portforward": true, "proxy": true, "status": true,
	"scale": true, "eviction": true, "binding": true, "ephemeralcontainers": true, "resize": true,
	"approval": true, "token": true, "finalize": true,
}
