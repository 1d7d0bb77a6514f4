package rbac

import (
	"context"
	"errors"
	"fmt"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac/bootstrappolicy"
)

// BootstrapSource is the source name of the objects --bootstrap-policy
// adds.
const BootstrapSource = "bootstrap-policy"

// Sources says where a policy comes from; any combination is allowed.
type Sources struct {
	// From are loader sources: files, folders, "-" and git:REF:PATH.
	From []string
	// Bootstrap adds the default roles and bindings of Kubernetes v1.37;
	// objects of the other sources with the same kind and name replace
	// them.
	Bootstrap bool
	// Live reads the four kinds from a cluster when set.
	Live  kubernetes.Interface
	Stdin io.Reader
	Dir   string
}

// Loaded is an indexed policy and what loading it found.
type Loaded struct {
	Index *Index
	// Objects counts the RBAC objects in the policy; Skipped the objects
	// of other kinds.
	Objects int `json:"objects"`
	Skipped int `json:"skipped"`
	// Aggregated names the ClusterRoles whose rules aggregation changed.
	Aggregated []string `json:"aggregated,omitempty"`
}

// SourceError is a problem with the policy's input (an unreadable or
// invalid file, an invalid RBAC object), as opposed to a failure to reach
// a cluster.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// ErrNoSources is returned when Sources names nothing to load.
var ErrNoSources = errors.New("no policy to read: expected --from PATH, --bootstrap-policy or --live")

// Load reads, validates, aggregates and indexes a policy.
func Load(ctx context.Context, s Sources) (*Loaded, error) {
	if len(s.From) == 0 && !s.Bootstrap && s.Live == nil {
		return nil, &SourceError{ErrNoSources}
	}
	var top []loader.Object
	if len(s.From) > 0 {
		objs, err := loader.Load(ctx, s.From, loader.Options{Stdin: s.Stdin, Dir: s.Dir})
		if err != nil {
			return nil, &SourceError{err}
		}
		top = objs
	}
	if s.Live != nil {
		objs, err := loader.LoadLive(ctx, s.Live, loader.RBACKinds...)
		if err != nil {
			return nil, err
		}
		top = append(top, objs...)
	}
	if s.Bootstrap {
		base, err := bootstrapObjects()
		if err != nil {
			return nil, err
		}
		top = Layer(base, top)
	}
	p, skipped, err := FromObjects(top)
	if err != nil {
		return nil, &SourceError{err}
	}
	aggregated := Aggregate(p)
	return &Loaded{Index: NewIndex(p), Objects: p.Len(), Skipped: skipped, Aggregated: aggregated}, nil
}

func bootstrapObjects() ([]loader.Object, error) {
	objs, err := bootstrappolicy.Objects()
	if err != nil {
		return nil, fmt.Errorf("reading the bootstrap policy: %w", err)
	}
	out := make([]loader.Object, len(objs))
	for i, o := range objs {
		out[i] = loader.Object{Object: o, Source: loader.Source{File: BootstrapSource}}
	}
	return out, nil
}
