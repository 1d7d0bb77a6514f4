package quota

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/internal/loader"
)

// LiveWorkloads lists the workloads of a cluster that own their pods:
// Deployments, StatefulSets, DaemonSets, CronJobs, and the ReplicaSets,
// Jobs, ReplicationControllers and Pods no controller owns, so each pod
// template is seen once. A kind the server does not serve has none.
func LiveWorkloads(ctx context.Context, c kubernetes.Interface) ([]loader.Object, error) {
	all := metav1.ListOptions{}
	var out []loader.Object
	add := func(kind string, items []runtime.Object, err error) error {
		if apierrors.IsNotFound(err) {
			// The server does not serve the kind: it has none.
			return nil
		}
		if err != nil {
			return fmt.Errorf("listing %s from the cluster: %w", kind, err)
		}
		for _, o := range items {
			if m, ok := o.(metav1.Object); ok && metav1.GetControllerOf(m) != nil {
				continue
			}
			out = append(out, loader.Object{Object: o, Source: loader.Source{File: loader.LiveSource}})
		}
		return nil
	}
	steps := []func() error{
		func() error {
			l, err := c.AppsV1().Deployments("").List(ctx, all)
			return add("Deployments", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.AppsV1().StatefulSets("").List(ctx, all)
			return add("StatefulSets", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.AppsV1().DaemonSets("").List(ctx, all)
			return add("DaemonSets", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.AppsV1().ReplicaSets("").List(ctx, all)
			return add("ReplicaSets", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.BatchV1().CronJobs("").List(ctx, all)
			return add("CronJobs", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.BatchV1().Jobs("").List(ctx, all)
			return add("Jobs", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.CoreV1().ReplicationControllers("").List(ctx, all)
			return add("ReplicationControllers", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
		func() error {
			l, err := c.CoreV1().Pods("").List(ctx, all)
			return add("Pods", each(l, err, func(i int) runtime.Object { return &l.Items[i] }, func() int { return len(l.Items) }), err)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func each[L any](_ L, err error, at func(int) runtime.Object, n func() int) []runtime.Object {
	if err != nil {
		return nil
	}
	out := make([]runtime.Object, n())
	for i := range out {
		out[i] = at(i)
	}
	return out
}
