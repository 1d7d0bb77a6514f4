package apf

import (
	"fmt"
	"sort"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap"
	"k8s.io/utils/ptr"
)

// Source is where an object was read from.
type Source struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

func (s Source) String() string {
	if s.File == "" {
		return "built-in"
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Config is one APF configuration: the FlowSchemas and the priority
// levels in force, defaulted as the API server defaults them.
type Config struct {
	FlowSchemas    []*flowcontrolv1.FlowSchema
	PriorityLevels []*flowcontrolv1.PriorityLevelConfiguration
	// Sources maps "FlowSchema/name" and "PriorityLevelConfiguration/name"
	// to where the object came from; built-in objects have none.
	Sources map[string]Source
	// Added names the mandatory objects that were supplied because the
	// user configuration lacked them.
	Added []string
}

// Source returns where the object of kind and name came from.
func (c *Config) Source(kind, name string) Source { return c.Sources[kind+"/"+name] }

// DefaultConfig returns Kubernetes' built-in configuration: the
// mandatory and suggested objects of k8s.io/apiserver's bootstrap package.
func DefaultConfig() *Config {
	c := &Config{Sources: map[string]Source{}}
	for _, pl := range append(append([]*flowcontrolv1.PriorityLevelConfiguration{}, bootstrap.MandatoryPriorityLevelConfigurations...), bootstrap.SuggestedPriorityLevelConfigurations...) {
		c.PriorityLevels = append(c.PriorityLevels, withTypeMeta(pl.DeepCopy()))
	}
	for _, fs := range append(append([]*flowcontrolv1.FlowSchema{}, bootstrap.MandatoryFlowSchemas...), bootstrap.SuggestedFlowSchemas...) {
		c.FlowSchemas = append(c.FlowSchemas, withTypeMetaFS(fs.DeepCopy()))
	}
	c.sort()
	return c
}

// NewConfig builds a configuration from user objects, as the APF
// controller digests them: defaults applied, the mandatory exempt and
// catch-all objects added when missing. It does not validate; call
// [Validate] first.
func NewConfig(fss []*flowcontrolv1.FlowSchema, pls []*flowcontrolv1.PriorityLevelConfiguration, sources map[string]Source) *Config {
	c := &Config{Sources: map[string]Source{}}
	for k, v := range sources {
		c.Sources[k] = v
	}
	have := map[string]bool{}
	for _, pl := range pls {
		pl = withTypeMeta(pl.DeepCopy())
		DefaultPriorityLevel(pl)
		have["PriorityLevelConfiguration/"+pl.Name] = true
		c.PriorityLevels = append(c.PriorityLevels, pl)
	}
	for _, fs := range fss {
		fs = withTypeMetaFS(fs.DeepCopy())
		DefaultFlowSchema(fs)
		have["FlowSchema/"+fs.Name] = true
		c.FlowSchemas = append(c.FlowSchemas, fs)
	}
	// kube-apiserver imagines the mandatory priority levels and supplies
	// the mandatory flow schemas when the API has none of that name.
	for _, pl := range bootstrap.MandatoryPriorityLevelConfigurations {
		if !have["PriorityLevelConfiguration/"+pl.Name] {
			c.PriorityLevels = append(c.PriorityLevels, withTypeMeta(pl.DeepCopy()))
			c.Added = append(c.Added, "PriorityLevelConfiguration/"+pl.Name)
		}
	}
	for _, fs := range bootstrap.MandatoryFlowSchemas {
		if !have["FlowSchema/"+fs.Name] {
			c.FlowSchemas = append(c.FlowSchemas, withTypeMetaFS(fs.DeepCopy()))
			c.Added = append(c.Added, "FlowSchema/"+fs.Name)
		}
	}
	sort.Strings(c.Added)
	c.sort()
	return c
}

// sort puts flow schemas in matching order (matchingPrecedence, then
// name, as apihelpers.FlowSchemaSequence sorts them) and levels by name.
func (c *Config) sort() {
	sort.SliceStable(c.FlowSchemas, func(i, j int) bool { return fsLess(c.FlowSchemas[i], c.FlowSchemas[j]) })
	sort.SliceStable(c.PriorityLevels, func(i, j int) bool { return c.PriorityLevels[i].Name < c.PriorityLevels[j].Name })
}

func fsLess(a, b *flowcontrolv1.FlowSchema) bool {
	if a.Spec.MatchingPrecedence != b.Spec.MatchingPrecedence {
		return a.Spec.MatchingPrecedence < b.Spec.MatchingPrecedence
	}
	return a.Name < b.Name
}

// PriorityLevel returns the level of that name, or nil.
func (c *Config) PriorityLevel(name string) *flowcontrolv1.PriorityLevelConfiguration {
	for _, pl := range c.PriorityLevels {
		if pl.Name == name {
			return pl
		}
	}
	return nil
}

// DefaultFlowSchema applies the flowcontrol/v1 defaults to fs.
func DefaultFlowSchema(fs *flowcontrolv1.FlowSchema) {
	if fs.Spec.MatchingPrecedence == 0 {
		fs.Spec.MatchingPrecedence = 1000
	}
}

// DefaultPriorityLevel applies the flowcontrol/v1 defaults to pl
// (nominalConcurrencyShares 30 for limited levels, 0 for exempt,
// lendablePercent 0, queues 64, handSize 8, queueLengthLimit 50).
func DefaultPriorityLevel(pl *flowcontrolv1.PriorityLevelConfiguration) {
	if e := pl.Spec.Exempt; e != nil {
		if e.NominalConcurrencyShares == nil {
			e.NominalConcurrencyShares = ptr.To[int32](0)
		}
		if e.LendablePercent == nil {
			e.LendablePercent = ptr.To[int32](0)
		}
	}
	l := pl.Spec.Limited
	if l == nil {
		return
	}
	if l.NominalConcurrencyShares == nil {
		l.NominalConcurrencyShares = ptr.To[int32](30)
	}
	if l.LendablePercent == nil {
		l.LendablePercent = ptr.To[int32](0)
	}
	if q := l.LimitResponse.Queuing; q != nil {
		if q.HandSize == 0 {
			q.HandSize = 8
		}
		if q.Queues == 0 {
			q.Queues = 64
		}
		if q.QueueLengthLimit == 0 {
			q.QueueLengthLimit = 50
		}
	}
}

func withTypeMeta(pl *flowcontrolv1.PriorityLevelConfiguration) *flowcontrolv1.PriorityLevelConfiguration {
	pl.TypeMeta = metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "PriorityLevelConfiguration"}
	return pl
}

func withTypeMetaFS(fs *flowcontrolv1.FlowSchema) *flowcontrolv1.FlowSchema {
	fs.TypeMeta = metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "FlowSchema"}
	return fs
}
