package apf

import (
	"context"
	"errors"
	"fmt"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kauth/kauth/internal/loader"
)

// LoadConfig reads FlowSchemas and PriorityLevelConfigurations
// (flowcontrol.apiserver.k8s.io/v1) from files, folders or "-" with
// internal/loader. With no sources it returns the default configuration.
// Objects are defaulted and validated as the API server would; every
// rejected object is reported as "file:line: Kind name: field: reason".
func LoadConfig(ctx context.Context, sources []string, opts loader.Options) (*Config, error) {
	if len(sources) == 0 {
		return DefaultConfig(), nil
	}
	objs, err := loader.Load(ctx, sources, opts)
	if err != nil {
		return nil, err
	}
	return ConfigFromObjects(objs)
}

// ConfigFromObjects builds a validated configuration from loaded objects.
// Objects of other kinds are ignored; objects of other flowcontrol
// versions are an error.
func ConfigFromObjects(objs []loader.Object) (*Config, error) {
	var fss []*flowcontrolv1.FlowSchema
	var pls []*flowcontrolv1.PriorityLevelConfiguration
	sources := map[string]Source{}
	var errs []error
	add := func(key string, src loader.Source) bool {
		if prev, ok := sources[key]; ok {
			errs = append(errs, fmt.Errorf("%s: %s: defined twice (also at %s)", src, key, prev))
			return false
		}
		sources[key] = Source{File: src.File, Line: src.Line}
		return true
	}
	for _, o := range objs {
		switch obj := o.Object.(type) {
		case *flowcontrolv1.FlowSchema:
			fs := obj.DeepCopy()
			DefaultFlowSchema(fs)
			if el := ValidateFlowSchema(fs); len(el) > 0 {
				errs = append(errs, fieldErrors(o.Source, "FlowSchema", fs.Name, el)...)
				continue
			}
			if add("FlowSchema/"+fs.Name, o.Source) {
				fss = append(fss, fs)
			}
		case *flowcontrolv1.PriorityLevelConfiguration:
			pl := obj.DeepCopy()
			DefaultPriorityLevel(pl)
			if el := ValidatePriorityLevel(pl); len(el) > 0 {
				errs = append(errs, fieldErrors(o.Source, "PriorityLevelConfiguration", pl.Name, el)...)
				continue
			}
			if add("PriorityLevelConfiguration/"+pl.Name, o.Source) {
				pls = append(pls, pl)
			}
		default:
			gvk := loader.GVK(o.Object)
			if gvk.Group == flowcontrolv1.GroupName && gvk.Version != "v1" {
				errs = append(errs, fmt.Errorf("%s: %s: apiVersion %s is not supported; use flowcontrol.apiserver.k8s.io/v1", o.Source, gvk.Kind, gvk.GroupVersion()))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(fss) == 0 && len(pls) == 0 {
		return nil, errors.New("no FlowSchema or PriorityLevelConfiguration (flowcontrol.apiserver.k8s.io/v1) found in the configuration")
	}
	return NewConfig(fss, pls, sources), nil
}

func fieldErrors(src loader.Source, kind, name string, el field.ErrorList) []error {
	var out []error
	for _, e := range el {
		out = append(out, fmt.Errorf("%s: %s %q: %w", src, kind, name, e))
	}
	return out
}
