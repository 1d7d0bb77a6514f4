package localserver

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	auditlog "k8s.io/apiserver/plugin/pkg/audit/log"
)

// redactedAnnotation marks audit events whose bodies kauth removed.
const redactedAnnotation = "kauth.io/redacted"

// auditing is the audit sink and policy of the chain; both nil when
// --audit-log-path is not set.
type auditing struct {
	sink   audit.Sink
	policy audit.PolicyRuleEvaluator
	close  func() error
}

// buildAudit opens the log backend of --audit-log-path ("-" is stdout, as
// in kube-apiserver) with the policy of --audit-policy-file. Without a
// policy file every request is logged at the Metadata level (kube-apiserver
// would log nothing).
func buildAudit(c *Config) (*auditing, error) {
	if c.AuditLogPath == "" {
		return &auditing{close: func() error { return nil }}, nil
	}
	pol := &auditinternal.Policy{Rules: []auditinternal.PolicyRule{{Level: auditinternal.LevelMetadata}}}
	if c.AuditPolicyFile != "" {
		p, err := policy.LoadPolicyFromFile(c.AuditPolicyFile)
		if err != nil {
			return nil, configError(fmt.Errorf("--audit-policy-file: %w", err))
		}
		pol = p
	}
	var out io.Writer = c.AuditOut
	closeFn := func() error { return nil }
	if c.AuditLogPath != "-" {
		f, err := os.OpenFile(c.AuditLogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, configError(fmt.Errorf("--audit-log-path: %w", err))
		}
		out, closeFn = f, f.Close
	}
	if out == nil {
		out = io.Discard
	}
	backend := auditlog.NewBackend(out, auditlog.FormatJson, auditv1.SchemeGroupVersion)
	return &auditing{sink: redactingSink{backend}, policy: policy.NewPolicyRuleEvaluator(pol), close: closeFn}, nil
}

// redactingSink keeps secrets out of the audit log whatever the policy's
// level: the bodies of TokenReviews (the token under review), of
// TokenRequests (the issued token) and of Secrets (bootstrap tokens,
// service-account tokens) are dropped and the event is annotated.
type redactingSink struct{ next audit.Sink }

func (r redactingSink) ProcessEvents(events ...*auditinternal.Event) bool {
	out := make([]*auditinternal.Event, len(events))
	for i, ev := range events {
		out[i] = redact(redactURI(ev))
	}
	return r.next.ProcessEvents(out...)
}

// redactURI hides the value of an access_token query parameter in the
// event's requestURI. Such a token never authenticates (bearer tokens are
// read from the Authorization header only), but kube-apiserver would still
// write it verbatim into the audit log; kauth does not keep a credential a
// client misplaced.
func redactURI(ev *auditinternal.Event) *auditinternal.Event {
	path, query, ok := strings.Cut(ev.RequestURI, "?")
	if !ok {
		return ev
	}
	params := strings.Split(query, "&")
	changed := false
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); err == nil && strings.EqualFold(key, "access_token") {
			params[i] = k + "=REDACTED"
			changed = true
		}
	}
	if !changed {
		return ev
	}
	cp := *ev
	cp.RequestURI = path + "?" + strings.Join(params, "&")
	return &cp
}

func redact(ev *auditinternal.Event) *auditinternal.Event {
	ref := ev.ObjectRef
	if ref == nil || (ev.RequestObject == nil && ev.ResponseObject == nil) {
		return ev
	}
	sensitive := (ref.APIGroup == "authentication.k8s.io" && ref.Resource == "tokenreviews") ||
		(ref.APIGroup == "" && ref.Resource == "serviceaccounts" && ref.Subresource == "token") ||
		(ref.APIGroup == "" && ref.Resource == "secrets")
	if !sensitive {
		return ev
	}
	cp := *ev
	cp.RequestObject, cp.ResponseObject = nil, nil
	cp.Annotations = make(map[string]string, len(ev.Annotations)+1)
	for k, v := range ev.Annotations {
		cp.Annotations[k] = v
	}
	cp.Annotations[redactedAnnotation] = "requestObject,responseObject"
	return &cp
}
