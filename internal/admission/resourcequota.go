package admission

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/resourcequota"
	resourcequotaapi "k8s.io/apiserver/pkg/admission/plugin/resourcequota/apis/resourcequota"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"

	"github.com/kauth/kauth/internal/quota"
)

// quotaEvaluatorWorkers is kube-apiserver's number of quota evaluators.
const quotaEvaluatorWorkers = 5

// ignoredQuotaResources are the resources kube-apiserver never charges
// to a quota.
var ignoredQuotaResources = map[schema.GroupResource]struct{}{
	{Resource: "bindings"}:                                                 {},
	{Resource: "componentstatuses"}:                                        {},
	{Group: "authentication.k8s.io", Resource: "tokenreviews"}:             {},
	{Group: "authentication.k8s.io", Resource: "selfsubjectreviews"}:       {},
	{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}:      {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}:  {},
	{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}: {},
	{Group: "authorization.k8s.io", Resource: "selfsubjectrulesreviews"}:   {},
	{Resource: "events"}:                         {},
	{Group: "events.k8s.io", Resource: "events"}: {},
}

// quotaConfiguration is the evaluators of internal/quota (pods, services,
// claims and the legacy object counts) with kube-apiserver's ignored
// resources.
func quotaConfiguration(cfg Config) quotav1.Configuration {
	return generic.NewConfiguration(quota.NewRegistry(cfg.Now).List(), ignoredQuotaResources)
}

// newResourceQuota is k8s.io/apiserver's ResourceQuota plugin (the same
// evaluation queue, messages and status.used increments as
// kube-apiserver) measuring with internal/quota's evaluators.
func newResourceQuota(cfg Config) (admission.Interface, error) {
	p, err := resourcequota.NewResourceQuota(&resourcequotaapi.Configuration{}, quotaEvaluatorWorkers)
	if err != nil {
		return nil, err
	}
	return &quotaPlugin{QuotaAdmission: p, cfg: cfg}, nil
}

// quotaPlugin hands the plugin its quota configuration once the generic
// initializer has given it the stop channel (the setter needs it).
type quotaPlugin struct {
	*resourcequota.QuotaAdmission
	cfg Config
}

func (q *quotaPlugin) ValidateInitialization() error {
	q.SetQuotaConfiguration(quotaConfiguration(q.cfg))
	return q.QuotaAdmission.ValidateInitialization()
}
