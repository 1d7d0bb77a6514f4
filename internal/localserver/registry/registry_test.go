package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

func kind(t *testing.T, r *Registry, resource string) *Kind {
	t.Helper()
	for _, k := range r.Kinds() {
		if k.Resource == resource {
			return k
		}
	}
	t.Fatalf("no kind for %s", resource)
	return nil
}

func TestRegistryServesTheIssueKinds(t *testing.T) {
	t.Parallel()
	var got []string
	for _, k := range New().Kinds() {
		got = append(got, k.GVR().String())
	}
	want := []string{
		"/v1, Resource=configmaps", "/v1, Resource=events", "/v1, Resource=limitranges", "/v1, Resource=namespaces", "/v1, Resource=pods",
		"/v1, Resource=resourcequotas", "/v1, Resource=secrets", "/v1, Resource=serviceaccounts",
		"admissionregistration.k8s.io/v1, Resource=mutatingadmissionpolicies", "admissionregistration.k8s.io/v1, Resource=mutatingadmissionpolicybindings",
		"admissionregistration.k8s.io/v1, Resource=mutatingwebhookconfigurations",
		"admissionregistration.k8s.io/v1, Resource=validatingadmissionpolicies", "admissionregistration.k8s.io/v1, Resource=validatingadmissionpolicybindings",
		"admissionregistration.k8s.io/v1, Resource=validatingwebhookconfigurations",
		"authentication.k8s.io/v1, Resource=selfsubjectreviews", "authentication.k8s.io/v1, Resource=tokenreviews",
		"authorization.k8s.io/v1, Resource=localsubjectaccessreviews", "authorization.k8s.io/v1, Resource=selfsubjectaccessreviews",
		"authorization.k8s.io/v1, Resource=selfsubjectrulesreviews", "authorization.k8s.io/v1, Resource=subjectaccessreviews",
		"certificates.k8s.io/v1, Resource=certificatesigningrequests",
		"flowcontrol.apiserver.k8s.io/v1, Resource=flowschemas", "flowcontrol.apiserver.k8s.io/v1, Resource=prioritylevelconfigurations",
		"rbac.authorization.k8s.io/v1, Resource=clusterrolebindings", "rbac.authorization.k8s.io/v1, Resource=clusterroles",
		"rbac.authorization.k8s.io/v1, Resource=rolebindings", "rbac.authorization.k8s.io/v1, Resource=roles",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("kinds (-want +got):\n%s", diff)
	}
	r := New()
	if _, ok := r.ByKind(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role"}); !ok {
		t.Fatal("ByKind(Role) not found")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	r := New()
	meta := metav1.ObjectMeta{Name: "x", Namespace: "ns"}
	tests := []struct {
		resource string
		obj      runtime.Object
		want     []string // error strings; nil means valid
	}{
		{"roles", &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, nil},
		{"roles", &rbacv1.Role{ObjectMeta: meta, Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/x"}, Verbs: []string{"get"}}}},
			[]string{`rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs`}},
		{"roles", &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "a/b", Namespace: "ns"}},
			[]string{`metadata.name: Invalid value: "a/b": may not contain '/'`}},
		{"clusterroles", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "c"}, AggregationRule: &rbacv1.AggregationRule{}},
			[]string{"aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"}},
		{"clusterrolebindings", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "c"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "sa"}}},
			[]string{`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`, "subjects[0].namespace: Required value"}},
		{"validatingwebhookconfigurations", &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "v"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{
				{Name: "a.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptrTo("https://127.0.0.1:1/v")}, SideEffects: ptrTo(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}},
				{Name: "a.example.com", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptrTo("https://127.0.0.1:1/v")}, AdmissionReviewVersions: []string{"v1"}},
			}},
			[]string{"webhooks[1].sideEffects: Required value: must specify one of None, NoneOnDryRun", `webhooks[1].name: Duplicate value: "a.example.com"`}},
		{"namespaces", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name"}},
			[]string{`metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"bad key": "v"}},
			[]string{`data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`}},
		// kube-apiserver's ValidateConfigMap: a key in both bags, and at most
		// 1 MiB of values in all (Data and BinaryData together).
		{"configmaps", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"k": "v"}, BinaryData: map[string][]byte{"k": []byte("v")}},
			[]string{`data[k]: Invalid value: "k": duplicate of key present in binaryData`}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"a": strings.Repeat("x", 1<<20)}, BinaryData: map[string][]byte{"b": []byte("y")}},
			[]string{`[]: Too long: may not be more than 1048576 bytes`}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"a": strings.Repeat("x", 1<<20)}}, nil},
		{"secrets", &corev1.Secret{ObjectMeta: meta, Data: map[string][]byte{"bad key": nil}},
			[]string{`data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`}},
		{"secrets", &corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil}},
			[]string{"data[tls.key]: Required value"}},
		{"pods", &corev1.Pod{ObjectMeta: meta, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "c"}, {Name: "c", Image: "i"}}}},
			[]string{"spec.containers[0].image: Required value", `spec.containers[1].name: Duplicate value: "c"`}},
		{"flowschemas", &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "f"}, Spec: flowcontrolv1.FlowSchemaSpec{MatchingPrecedence: 20000}},
			[]string{"spec.matchingPrecedence: Invalid value: 20000: must not be greater than 10000", "spec.priorityLevelConfiguration.name: Required value: must reference a priority level"}},
		// The whole of kube-apiserver's flowcontrol validation (the same
		// rules kauth apf lint applies), not just the required fields.
		{"flowschemas", &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "f"}, Spec: flowcontrolv1.FlowSchemaSpec{MatchingPrecedence: 1,
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "p"},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{Subjects: []flowcontrolv1.Subject{{Kind: "User", User: &flowcontrolv1.UserSubject{Name: "u"}}},
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, ClusterScope: true}}}}}},
			[]string{"spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1"}},
		{"prioritylevelconfigurations", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To[int32](10), LendablePercent: ptr.To[int32](0),
				LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{Queues: 4, HandSize: 8, QueueLengthLimit: 10}}}}},
			[]string{"spec.limited.limitResponse.queuing.handSize: Invalid value: 8: should not be greater than queues (4)"}},
		{"certificatesigningrequests", &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c"},
			Spec: certificatesv1.CertificateSigningRequestSpec{Request: []byte("x"), SignerName: "nodomain", ExpirationSeconds: ptr.To[int32](60)}},
			[]string{`spec.request: Invalid value: "eA==": PEM block type must be CERTIFICATE REQUEST`,
				`spec.signerName: Invalid value: "nodomain": must be a fully qualified domain and path of the form 'example.com/signer-name'`,
				"spec.usages: Required value",
				"spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)"}},
	}
	for _, tc := range tests {
		k := kind(t, r, tc.resource)
		var got []string
		for _, e := range k.Strategy.Validate(tc.obj) {
			got = append(got, e.Error())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.resource, diff)
		}
	}
}

func TestDefaultsAndUpdateRules(t *testing.T) {
	t.Parallel()
	r := New()
	ctx := context.Background()

	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns", ResourceVersion: "1"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "u"}, {Kind: "ServiceAccount", Name: "sa", Namespace: "ns"}}}
	k := kind(t, r, "rolebindings")
	k.Strategy.PrepareForCreate(ctx, rb)
	if rb.RoleRef.APIGroup != rbacv1.GroupName || rb.Subjects[0].APIGroup != rbacv1.GroupName || rb.Subjects[1].APIGroup != "" {
		t.Errorf("binding defaults: %+v", rb)
	}
	changed := rb.DeepCopy()
	changed.RoleRef.Name = "other"
	errs := k.Strategy.ValidateUpdate(changed, rb)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "roleRef: Invalid value") {
		t.Errorf("roleRef change: %v", errs)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	kind(t, r, "pods").Strategy.PrepareForCreate(ctx, pod)
	c := pod.Spec.Containers[0]
	if pod.Status.Phase != corev1.PodPending || pod.Spec.ServiceAccountName != "default" || c.ImagePullPolicy != corev1.PullAlways || c.TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("pod defaults: %+v", pod)
	}

	pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{}}}},
		Status: flowcontrolv1.PriorityLevelConfigurationStatus{Conditions: []flowcontrolv1.PriorityLevelConfigurationCondition{{Type: "x"}}}}
	kind(t, r, "prioritylevelconfigurations").Strategy.PrepareForCreate(ctx, pl)
	q := pl.Spec.Limited.LimitResponse.Queuing
	if *pl.Spec.Limited.NominalConcurrencyShares != 30 || q.Queues != 64 || q.HandSize != 8 || q.QueueLengthLimit != 50 || len(pl.Status.Conditions) != 0 {
		t.Errorf("priority level defaults: %+v", pl.Spec.Limited)
	}

	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "ns"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{"memory": resource.MustParse("1Gi")}, Min: corev1.ResourceList{"cpu": resource.MustParse("100m")}}}}}
	kind(t, r, "limitranges").Strategy.PrepareForCreate(ctx, lr)
	item := lr.Spec.Limits[0]
	if item.Default.Memory().String() != "1Gi" || item.DefaultRequest.Memory().String() != "1Gi" || item.DefaultRequest.Cpu().String() != "100m" {
		t.Errorf("limit range defaults: %+v", item)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", ResourceVersion: "1"}, StringData: map[string]string{"k": "v"}, Immutable: ptr.To(true)}
	ks := kind(t, r, "secrets")
	ks.Strategy.PrepareForCreate(ctx, secret)
	if secret.Type != corev1.SecretTypeOpaque || string(secret.Data["k"]) != "v" || secret.StringData != nil {
		t.Errorf("secret defaults: %+v", secret)
	}
	edited := secret.DeepCopy()
	edited.Data["k"] = []byte("w")
	if errs := ks.Strategy.ValidateUpdate(edited, secret); len(errs) != 1 || errs[0].Error() != "data: Forbidden: field is immutable when `immutable` is set" {
		t.Errorf("immutable secret: %v", errs)
	}
}

func TestSubresources(t *testing.T) {
	t.Parallel()
	r := New()
	ctx := context.Background()
	k := kind(t, r, "certificatesigningrequests")
	old := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: certificatesv1.CertificateSigningRequestSpec{Username: "alice"}}
	req := old.DeepCopy()
	req.Spec.Username = "mallory"
	req.Labels = map[string]string{"sneaky": "yes"}
	req.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Reason: "ok"}}
	req.Status.Certificate = []byte("forged")
	k.Subresources["approval"].PrepareForUpdate(ctx, req, old)
	if req.Spec.Username != "alice" || req.Labels != nil || len(req.Status.Certificate) != 0 || len(req.Status.Conditions) != 1 || req.Status.Conditions[0].Status != corev1.ConditionTrue {
		t.Errorf("approval kept more than the approval conditions: %+v", req)
	}
	both := req.DeepCopy()
	both.Status.Conditions = append(both.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue})
	if errs := k.ValidateUpdateFor("approval")(both, old); len(errs) == 0 {
		t.Error("approved and denied together was accepted")
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}}
	upd := ns.DeepCopy()
	upd.Spec.Finalizers = nil
	kind(t, r, "namespaces").Strategy.PrepareForUpdate(ctx, upd, ns)
	if len(upd.Spec.Finalizers) != 1 {
		t.Error("a plain namespace update removed spec.finalizers; only /finalize may")
	}
	kind(t, r, "namespaces").Subresources["finalize"].PrepareForUpdate(ctx, upd, ns)
	upd.Spec.Finalizers = nil
	kind(t, r, "namespaces").Subresources["finalize"].PrepareForUpdate(ctx, upd, ns)
	if len(upd.Spec.Finalizers) != 0 {
		t.Error("/finalize did not change spec.finalizers")
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	r := New()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created := metav1.NewTime(now.Add(-90 * time.Minute))
	tests := []struct {
		resource string
		obj      runtime.Object
		want     []any
	}{
		{"clusterrolebindings", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", CreationTimestamp: created}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "u1"}, {Kind: "User", Name: "u2"}, {Kind: "ServiceAccount", Name: "sa", Namespace: "ns"}}},
			[]any{"b", "ClusterRole/view", "90m", "u1, u2", "", "ns/sa"}},
		{"roles", &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", CreationTimestamp: created}}, []any{"r", "2026-01-02T01:34:05Z"}},
		{"certificatesigningrequests", &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c", CreationTimestamp: created},
			Spec:   certificatesv1.CertificateSigningRequestSpec{SignerName: "kubernetes.io/kube-apiserver-client", Username: "alice", ExpirationSeconds: ptr.To[int32](86400)},
			Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved}}, Certificate: []byte("x")}},
			[]any{"c", "90m", "kubernetes.io/kube-apiserver-client", "alice", "24h", "Approved,Issued"}},
		{"prioritylevelconfigurations", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "exempt"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: "Exempt"}},
			[]any{"exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "<unknown>"}},
	}
	for _, tc := range tests {
		tbl, err := kind(t, r, tc.resource).Table([]runtime.Object{tc.obj}, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, tbl.Rows[0].Cells); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.resource, diff)
		}
		if len(tbl.ColumnDefinitions) != len(tc.want) {
			t.Errorf("%s: %d columns for %d cells", tc.resource, len(tbl.ColumnDefinitions), len(tc.want))
		}
	}
}

// TestValidateCSRUsages pins kube-apiserver's CSR usage rules: every known
// key usage is accepted whatever the signer (the signer, not the API,
// refuses usages it does not sign: the CSR then gets a Failed condition),
// unknown and repeated usages are refused, and no usages is Required.
func TestValidateCSRUsages(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "carol"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	request := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	k := kind(t, New(), "certificatesigningrequests")
	tests := []struct {
		name   string
		usages []certificatesv1.KeyUsage
		want   []string
	}{
		{"client signer with server auth", []certificatesv1.KeyUsage{certificatesv1.UsageServerAuth, certificatesv1.UsageClientAuth}, nil},
		{"unknown usage", []certificatesv1.KeyUsage{"client auth", "bogus"},
			[]string{`spec.usages[1]: Unsupported value: "bogus": supported values: "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"`}},
		{"repeated usage", []certificatesv1.KeyUsage{"client auth", "client auth"}, []string{`spec.usages[1]: Duplicate value: "client auth"`}},
		{"no usages", nil, []string{"spec.usages: Required value"}},
	}
	for _, tc := range tests {
		csr := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "c"},
			Spec: certificatesv1.CertificateSigningRequestSpec{Request: request, SignerName: certificatesv1.KubeAPIServerClientSignerName, Usages: tc.usages}}
		var got []string
		for _, e := range k.Strategy.Validate(csr) {
			got = append(got, e.Error())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
