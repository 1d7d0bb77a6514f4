package apf

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// ObjectList is a kubectl-appliable "kind: List" of the configuration's
// objects, priority levels first so that flow schemas never dangle.
type ObjectList struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []map[string]any `json:"items"`
}

// List renders cfg as a List, without status or empty creation
// timestamps, as kubectl prints objects for apply.
func (c *Config) List() (*ObjectList, error) {
	l := &ObjectList{APIVersion: "v1", Kind: "List", Items: []map[string]any{}}
	var objs []runtime.Object
	for _, pl := range c.PriorityLevels {
		objs = append(objs, pl)
	}
	for _, fs := range c.FlowSchemas {
		objs = append(objs, fs)
	}
	for _, o := range objs {
		m, err := cleanObject(o)
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, m)
	}
	return l, nil
}

func cleanObject(o runtime.Object) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", o, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok && md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	return m, nil
}
