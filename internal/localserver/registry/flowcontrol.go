package registry

import (
	"context"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kauth/kauth/internal/apf"
)

// Defaults of flowcontrol.apiserver.k8s.io/v1 (kube-apiserver's
// SetDefaults_* for FlowSchema and PriorityLevelConfiguration).
const (
	defaultMatchingPrecedence       = 1000
	defaultNominalConcurrencyShares = 30
	defaultQueues                   = 64
	defaultHandSize                 = 8
	defaultQueueLengthLimit         = 50
)

func flowcontrolKinds() []*Kind {
	gv := flowcontrolv1.SchemeGroupVersion
	fs := statusStrategy(simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validateFlowSchema, defaultFlowSchema),
		func() runtime.Object { return &flowcontrolv1.FlowSchema{} },
		func(obj, old runtime.Object) {
			obj.(*flowcontrolv1.FlowSchema).Status = old.(*flowcontrolv1.FlowSchema).Status
		})
	pl := statusStrategy(simpleStrategy(false, apivalidation.NameIsDNSSubdomain, validatePriorityLevel, defaultPriorityLevel),
		func() runtime.Object { return &flowcontrolv1.PriorityLevelConfiguration{} },
		func(obj, old runtime.Object) {
			obj.(*flowcontrolv1.PriorityLevelConfiguration).Status = old.(*flowcontrolv1.PriorityLevelConfiguration).Status
		})
	return []*Kind{
		{
			GVK: gv.WithKind("FlowSchema"), Resource: "flowschemas", Singular: "flowschema",
			New: func() runtime.Object { return &flowcontrolv1.FlowSchema{} }, NewList: func() runtime.Object { return &flowcontrolv1.FlowSchemaList{} },
			Strategy: fs,
			Subresources: map[string]Subresource{"status": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				f, o := obj.(*flowcontrolv1.FlowSchema), old.(*flowcontrolv1.FlowSchema)
				f.ObjectMeta, f.Spec = o.ObjectMeta, o.Spec
			}}},
			Columns: []metav1.TableColumnDefinition{nameColumn(),
				column("PriorityLevel", "Name of the referenced PriorityLevelConfiguration", 0),
				column("MatchingPrecedence", "The matching precedence of this FlowSchema", 0),
				column("DistinguisherMethod", "The type of distinguisher method, if any", 0), ageColumn(),
				column("MissingPL", "Whether the referenced PriorityLevelConfiguration does not exist", 0)},
			Row: flowSchemaRow,
		},
		{
			GVK: gv.WithKind("PriorityLevelConfiguration"), Resource: "prioritylevelconfigurations", Singular: "prioritylevelconfiguration",
			New:      func() runtime.Object { return &flowcontrolv1.PriorityLevelConfiguration{} },
			NewList:  func() runtime.Object { return &flowcontrolv1.PriorityLevelConfigurationList{} },
			Strategy: pl,
			Subresources: map[string]Subresource{"status": {PrepareForUpdate: func(_ context.Context, obj, old runtime.Object) {
				p, o := obj.(*flowcontrolv1.PriorityLevelConfiguration), old.(*flowcontrolv1.PriorityLevelConfiguration)
				p.ObjectMeta, p.Spec = o.ObjectMeta, o.Spec
			}}},
			Columns: []metav1.TableColumnDefinition{nameColumn(), column("Type", "Type of this priority level", 0),
				column("NominalConcurrencyShares", "Concurrency shares of this priority level", 0),
				column("Queues", "Number of queues of this priority level", 0),
				column("HandSize", "Hand size of this priority level", 0),
				column("QueueLengthLimit", "Length of the queues of this priority level", 0), ageColumn()},
			Row: priorityLevelRow,
		},
	}
}

// statusStrategy clears status on create and keeps the stored status on
// update of the main resource.
func statusStrategy(st Strategy, zero func() runtime.Object, keepStatus func(obj, old runtime.Object)) Strategy {
	create, update := st.PrepareForCreate, st.PrepareForUpdate
	st.PrepareForCreate = func(ctx context.Context, obj runtime.Object) {
		keepStatus(obj, zero())
		create(ctx, obj)
	}
	st.PrepareForUpdate = func(ctx context.Context, obj, old runtime.Object) {
		keepStatus(obj, old)
		update(ctx, obj, old)
	}
	return st
}

func defaultFlowSchema(obj runtime.Object) {
	f := obj.(*flowcontrolv1.FlowSchema)
	if f.Spec.MatchingPrecedence == 0 {
		f.Spec.MatchingPrecedence = defaultMatchingPrecedence
	}
}

func defaultPriorityLevel(obj runtime.Object) {
	p := obj.(*flowcontrolv1.PriorityLevelConfiguration)
	if l := p.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares == nil {
			l.NominalConcurrencyShares = ptr.To[int32](defaultNominalConcurrencyShares)
		}
		if l.LendablePercent == nil {
			l.LendablePercent = ptr.To[int32](0)
		}
		if q := l.LimitResponse.Queuing; q != nil {
			if q.Queues == 0 {
				q.Queues = defaultQueues
			}
			if q.HandSize == 0 {
				q.HandSize = defaultHandSize
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = defaultQueueLengthLimit
			}
		}
	}
	if e := p.Spec.Exempt; e != nil {
		if e.NominalConcurrencyShares == nil {
			e.NominalConcurrencyShares = ptr.To[int32](0)
		}
		if e.LendablePercent == nil {
			e.LendablePercent = ptr.To[int32](0)
		}
	}
}

// validateFlowSchema and validatePriorityLevel are kube-apiserver's
// flowcontrol validation, from internal/apf (the rules kauth apf lint
// applies), less the name checks validateMeta already makes.
func validateFlowSchema(obj runtime.Object) field.ErrorList {
	return withoutName(apf.ValidateFlowSchema(obj.(*flowcontrolv1.FlowSchema)))
}

func validatePriorityLevel(obj runtime.Object) field.ErrorList {
	return withoutName(apf.ValidatePriorityLevel(obj.(*flowcontrolv1.PriorityLevelConfiguration)))
}

func withoutName(errs field.ErrorList) field.ErrorList {
	out := errs[:0]
	for _, e := range errs {
		if e.Field != "metadata.name" {
			out = append(out, e)
		}
	}
	return out
}

func flowSchemaRow(obj runtime.Object, now time.Time) []any {
	f := obj.(*flowcontrolv1.FlowSchema)
	method := "<none>"
	if f.Spec.DistinguisherMethod != nil {
		method = string(f.Spec.DistinguisherMethod.Type)
	}
	missing := "?"
	for _, c := range f.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			missing = string(c.Status)
			break
		}
	}
	return []any{f.Name, f.Spec.PriorityLevelConfiguration.Name, int64(f.Spec.MatchingPrecedence), method, age(f.CreationTimestamp, now), missing}
}

func priorityLevelRow(obj runtime.Object, now time.Time) []any {
	p := obj.(*flowcontrolv1.PriorityLevelConfiguration)
	var ncs, queues, hand, qlen any = "<none>", "<none>", "<none>", "<none>"
	if l := p.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares != nil {
			ncs = int64(*l.NominalConcurrencyShares)
		}
		if q := l.LimitResponse.Queuing; q != nil {
			queues, hand, qlen = int64(q.Queues), int64(q.HandSize), int64(q.QueueLengthLimit)
		}
	}
	return []any{p.Name, string(p.Spec.Type), ncs, queues, hand, qlen, age(p.CreationTimestamp, now)}
}
