package rbacdiff

import (
	"context"
	"fmt"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/internal/rbac"
)

// Live is the side name that reads the cluster.
const Live = "live"

// Options name the two sides of a diff. A side is anything a loader
// source may be (a file, a folder, "-", git:REF:PATH) or "live".
type Options struct {
	Old, New string
	// Bootstrap adds the default roles and bindings of Kubernetes v1.37 to
	// each side read from files (a live cluster has its own).
	Bootstrap bool
	Stdin     io.Reader
	Dir       string
	// Client reaches the cluster for a live side.
	Client func() (kubernetes.Interface, error)
}

// Run loads both sides and diffs them.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Old == "-" && o.New == "-" {
		return nil, &rbac.SourceError{Err: fmt.Errorf("only one side can be read from standard input")}
	}
	// The sides are independent: read them at the same time.
	var old *rbac.Index
	var oldErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		old, oldErr = o.load(ctx, o.Old)
	}()
	new, err := o.load(ctx, o.New)
	<-done
	if oldErr != nil {
		return nil, oldErr
	}
	if err != nil {
		return nil, err
	}
	return Diff(old, new), nil
}

func (o Options) load(ctx context.Context, side string) (*rbac.Index, error) {
	src := rbac.Sources{Stdin: o.Stdin, Dir: o.Dir}
	if side == Live {
		if o.Client == nil {
			return nil, fmt.Errorf("live: no cluster client")
		}
		c, err := o.Client()
		if err != nil {
			return nil, err
		}
		src.Live = c
	} else {
		src.From, src.Bootstrap = []string{side}, o.Bootstrap
	}
	l, err := rbac.Load(ctx, src)
	if err != nil {
		return nil, err
	}
	return l.Index, nil
}
