package rbac

import (
	"context"
	"slices"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// DefaultMatrixVerbs returns the columns of an access matrix unless the
// caller chooses others.
func DefaultMatrixVerbs() []string {
	return []string{"get", "list", "watch", "create", "update", "patch", "delete"}
}

// Access values of a matrix cell.
const (
	AccessYes = "yes"
	AccessNo  = "no"
	// AccessNA marks a verb the resource does not serve.
	AccessNA = "n/a"
)

// MatrixRequest asks what a user may do to many resources.
type MatrixRequest struct {
	User user.Info
	// Namespace limits the matrix to namespaced resources asked in it;
	// empty asks every resource cluster-wide.
	Namespace string
	Verbs     []string      // DefaultMatrixVerbs() when empty
	Resources []APIResource // BuiltinResources when empty
}

// Matrix is an access matrix: resources by verbs.
type Matrix struct {
	User      string      `json:"user"`
	Groups    []string    `json:"groups,omitempty"`
	Namespace string      `json:"namespace,omitempty"`
	Verbs     []string    `json:"verbs"`
	Rows      []MatrixRow `json:"rows"`
}

// MatrixRow is one resource; Access maps each verb to yes, no or n/a.
type MatrixRow struct {
	Resource string            `json:"resource"` // resource.group
	Access   map[string]string `json:"access"`
}

// BuildMatrix asks az every (resource, verb) question of req, sorted by
// resource name.
func BuildMatrix(ctx context.Context, az authorizer.Authorizer, req MatrixRequest) (Matrix, error) {
	verbs := req.Verbs
	if len(verbs) == 0 {
		verbs = DefaultMatrixVerbs()
	}
	resources := req.Resources
	if len(resources) == 0 {
		resources = BuiltinResources()
	}
	m := Matrix{User: req.User.GetName(), Groups: req.User.GetGroups(), Namespace: req.Namespace, Verbs: verbs}
	for _, r := range resources {
		if req.Namespace != "" && !r.Namespaced {
			continue
		}
		row := MatrixRow{Resource: r.GroupResource(), Access: make(map[string]string, len(verbs))}
		for _, v := range verbs {
			if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, v) {
				row.Access[v] = AccessNA
				continue
			}
			d, _, err := az.Authorize(ctx, authorizer.AttributesRecord{
				User: req.User, Verb: v, Namespace: req.Namespace, APIGroup: r.Group, APIVersion: r.Version,
				Resource: r.Resource, ResourceRequest: true,
			})
			if err != nil {
				return Matrix{}, err
			}
			row.Access[v] = AccessNo
			if d == authorizer.DecisionAllow {
				row.Access[v] = AccessYes
			}
		}
		m.Rows = append(m.Rows, row)
	}
	slices.SortFunc(m.Rows, func(a, b MatrixRow) int {
		switch {
		case a.Resource < b.Resource:
			return -1
		case a.Resource > b.Resource:
			return 1
		}
		return 0
	})
	return m, nil
}
