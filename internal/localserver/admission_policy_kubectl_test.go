package localserver

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// untilKubectl runs kubectl until done accepts its result and returns
// that result. Policies reach the plugins through informers and a
// refresh loop (once a second upstream), so the first requests after an
// apply may still see the previous policies.
func untilKubectl(t *testing.T, kubeconfig string, done func(out, errOut string, err error) bool, args ...string) (string, string, error) {
	t.Helper()
	for i := 0; i < 300; i++ {
		out, errOut, err := kubectl(t, kubeconfig, args...)
		if done(out, errOut, err) {
			return out, errOut, err
		}
	}
	t.Fatalf("kubectl %s never gave the expected answer", strings.Join(args, " "))
	return "", "", nil
}

func refused(_, _ string, err error) bool { return err != nil }

const fixedLimitPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-keys}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  validations:
  - expression: "!has(object.data) || size(object.data) <= 2"
    message: a ConfigMap may hold at most 2 keys
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: max-keys-binding}
spec:
  policyName: max-keys
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: fixed}}
`

// paramPolicy limits the keys of a ConfigMap to params.data.maxKeys,
// denied in team and warned and audited in soft, with the limit read from
// the ConfigMap team/limits.
const paramPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: key-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  matchConditions:
  - {name: not-the-limits, expression: "object.metadata.name != 'limits'"}
  validations:
  - expression: "!has(object.data) || size(object.data) <= int(params.data.maxKeys)"
    messageExpression: "'at most ' + params.data.maxKeys + ' keys, got ' + string(size(object.data))"
  auditAnnotations:
  - {key: keys, valueExpression: "string(has(object.data) ? size(object.data) : 0)"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: key-limit-team}
spec:
  policyName: key-limit
  paramRef: {name: limits, namespace: team, parameterNotFoundAction: Deny}
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: key-limit-soft}
spec:
  policyName: key-limit
  paramRef: {name: limits, namespace: team, parameterNotFoundAction: Deny}
  validationActions: [Warn, Audit]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: soft}}
`

func TestKubectlValidatingAdmissionPolicy(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	s := startServer(t, func(c *Config) { c.AuditLogPath = auditLog })
	admin := s.KubeconfigPath()
	for _, ns := range []string{"fixed", "team", "soft"} {
		mustKubectl(t, admin, "create", "namespace", ns)
	}
	threeKeys := []string{"--from-literal=a=1", "--from-literal=b=2", "--from-literal=c=3"}
	twoKeys := threeKeys[:2]

	// Deny: kube-apiserver's message, naming the policy and the binding.
	applyYAML(t, admin, fixedLimitPolicy)
	_, msg, _ := untilKubectl(t, admin, refused, append([]string{"-n", "fixed", "create", "configmap", "big", "--dry-run=server"}, threeKeys...)...)
	want := `error: failed to create configmap: configmaps "big" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-binding' denied request: a ConfigMap may hold at most 2 keys`
	if got := strings.TrimSpace(msg); got != want {
		t.Errorf("denied configmap:\n got %s\nwant %s", got, want)
	}
	mustKubectl(t, admin, append([]string{"-n", "fixed", "create", "configmap", "small"}, twoKeys...)...)

	// Params: the limit comes from team/limits; Deny in team, Warn and
	// Audit in soft.
	mustKubectl(t, admin, "-n", "team", "create", "configmap", "limits", "--from-literal=maxKeys=1")
	applyYAML(t, admin, paramPolicy)
	_, msg, _ = untilKubectl(t, admin, refused, append([]string{"-n", "team", "create", "configmap", "two", "--dry-run=server"}, twoKeys...)...)
	want = `error: failed to create configmap: configmaps "two" is forbidden: ValidatingAdmissionPolicy 'key-limit' with binding 'key-limit-team' denied request: at most 1 keys, got 2`
	if got := strings.TrimSpace(msg); got != want {
		t.Errorf("denied by the param's limit:\n got %s\nwant %s", got, want)
	}
	warning := "Warning: Validation failed for ValidatingAdmissionPolicy 'key-limit' with binding 'key-limit-soft': at most 1 keys, got 2"
	_, errOut, err := untilKubectl(t, admin, func(_, errOut string, _ error) bool { return strings.Contains(errOut, "Warning:") },
		append([]string{"-n", "soft", "create", "configmap", "warned"}, twoKeys...)...)
	if err != nil || strings.TrimSpace(errOut) != warning {
		t.Errorf("Warn action: err %v, stderr:\n got %s\nwant %s", err, strings.TrimSpace(errOut), warning)
	}
	if got := mustKubectl(t, admin, "-n", "soft", "get", "configmap", "warned", "-o", "name"); got != "configmap/warned\n" {
		t.Errorf("the warned ConfigMap was not created: %q", got)
	}
	annotations := auditAnnotations(t, auditLog, "/api/v1/namespaces/soft/configmaps", "create")
	wantFailure := `[{"message":"at most 1 keys, got 2","policy":"key-limit","binding":"key-limit-soft","expressionIndex":0,"validationActions":["Warn","Audit"]}]`
	if annotations["validation.policy.admission.k8s.io/validation_failure"] != wantFailure || annotations["key-limit/keys"] != "2" {
		t.Errorf("audit annotations of the warned create = %v, want validation_failure %s and key-limit/keys 2", annotations, wantFailure)
	}

	// A new limit in the param applies without touching the policy.
	mustKubectl(t, admin, "-n", "team", "patch", "configmap", "limits", "--type=merge", "-p", `{"data":{"maxKeys":"3"}}`)
	untilKubectl(t, admin, func(_, _ string, err error) bool { return err == nil }, append([]string{"-n", "team", "create", "configmap", "two", "--dry-run=server"}, twoKeys...)...)
	mustKubectl(t, admin, append([]string{"-n", "team", "create", "configmap", "two"}, twoKeys...)...)

	// A syntax error is refused at create with the compiler's message; a
	// type error against the matched kind's schema is reported in
	// status.typeChecking.
	msg = kubectlErr(t, admin, "create", "-f", writeFile(t, "syntax.yaml", `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: syntax}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  validations:
  - expression: "size(object.data) <="
`))
	want = `The ValidatingAdmissionPolicy "syntax" is invalid: spec.validations[0].expression: Invalid value: "size(object.data) <=": compilation failed: ERROR: <input>:1:21: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}
 | size(object.data) <=
 | ....................^`
	if msg != want {
		t.Errorf("syntax error:\n got %s\nwant %s", msg, want)
	}
	mustKubectl(t, admin, "create", "-f", writeFile(t, "typo.yaml", `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: typo}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  validations:
  - expression: "object.spec.replicas < 3"
`))
	mustKubectl(t, admin, "wait", "--timeout=30s", "--for=jsonpath={.status.observedGeneration}=1", "validatingadmissionpolicy/typo")
	got := mustKubectl(t, admin, "get", "validatingadmissionpolicy", "typo", "-o", "jsonpath={.status.typeChecking.expressionWarnings[0].fieldRef}: {.status.typeChecking.expressionWarnings[0].warning}")
	want = "spec.validations[0].expression: /v1, Kind=ConfigMap: ERROR: <input>:1:7: undefined field 'spec'\n | object.spec.replicas < 3\n | ......^\n"
	if got != want {
		t.Errorf("type checking:\n got %q\nwant %q", got, want)
	}
	if got := mustKubectl(t, admin, "get", "validatingadmissionpolicy", "max-keys", "-o", "jsonpath={.status.observedGeneration} {.status.typeChecking}"); got != "1 {}" {
		t.Errorf("status of a well-typed policy = %q, want observedGeneration 1 and no warnings", got)
	}
}

// auditAnnotations returns the annotations of the last ResponseComplete
// event of verb on uri (without its query).
func auditAnnotations(t *testing.T, path, uri, verb string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Stage, RequestURI, Verb string
			Annotations             map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Stage == "ResponseComplete" && ev.Verb == verb && strings.SplitN(ev.RequestURI, "?", 2)[0] == uri {
			last = ev.Annotations
		}
	}
	return last
}

func TestKubectlMutatingAdmissionPolicy(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, nil)
	admin := s.KubeconfigPath()
	applyYAML(t, admin, `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata: {name: stamp}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  reinvocationPolicy: Never
  mutations:
  - patchType: ApplyConfiguration
    applyConfiguration:
      expression: 'Object{metadata: Object.metadata{labels: {"stamped": "yes"}}}'
  - patchType: JSONPatch
    jsonPatch:
      expression: '[JSONPatch{op: "add", path: "/data", value: {"owner": request.userInfo.username}}]'
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata: {name: stamp}
spec:
  policyName: stamp
`)
	jsonpath := "jsonpath={.metadata.labels.stamped} {.data.owner}"
	untilKubectl(t, admin, func(out, _ string, err error) bool { return err == nil && out != " " },
		"create", "configmap", "probe", "--dry-run=server", "-o", jsonpath)
	mustKubectl(t, admin, "create", "configmap", "stamped")
	if got := mustKubectl(t, admin, "get", "configmap", "stamped", "-o", jsonpath); got != "yes kubernetes-admin" {
		t.Errorf("mutated ConfigMap = %q, want the label and the creator", got)
	}
}

// TestKubectlPolicyParamsNeedReadAccess: whoever names a paramKind must
// be able to read every object of that kind (kube-apiserver's strategy
// check), so a policy cannot disclose what its author may not read.
func TestKubectlPolicyParamsNeedReadAccess(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, func(c *Config) { c.TokenAuthFile = writeFile(t, "tokens.csv", usersFile) })
	admin := s.KubeconfigPath()
	nina := userKubeconfig(t, s, "nina-token", nil, nil)
	mustKubectl(t, admin, "create", "clusterrole", "policy-author", "--verb=create,get", "--resource=validatingadmissionpolicies,configmaps")
	mustKubectl(t, admin, "create", "clusterrolebinding", "nina-authors", "--clusterrole=policy-author", "--user=nina")
	policy := func(kind string) string {
		return writeFile(t, kind+".yaml", `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: from-`+strings.ToLower(kind)+`}
spec:
  paramKind: {apiVersion: v1, kind: `+kind+`}
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  validations:
  - expression: "true"
`)
	}
	mustKubectl(t, nina, "create", "-f", policy("ConfigMap"))
	msg := kubectlErr(t, nina, "create", "-f", policy("Secret"))
	want := `The ValidatingAdmissionPolicy "from-secret" is invalid: spec.paramKind: Forbidden: user &{nina 3 [system:authenticated] map[]} must have "get" permission on all objects of the referenced paramKind (kind=Secret, apiVersion=v1)`
	if msg != want {
		t.Errorf("paramKind nina may not read:\n got %s\nwant %s", msg, want)
	}
}
