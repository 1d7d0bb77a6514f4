package authzchain

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/authn"
)

func TestBuildFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policy := filepath.Join(dir, "abac.jsonl")
	if err := os.WriteFile(policy, []byte(`{"user":"legacy"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	authzCfg := filepath.Join(dir, "authz.yaml")
	if err := os.WriteFile(authzCfg, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n- {type: ABAC, name: abac}\n- {type: RBAC, name: rbac}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		flags   Flags
		want    []string
		wantErr string
	}{
		{"modes", Flags{Modes: []string{"RBAC", "ABAC"}, PolicyFile: policy}, []string{"rbac", "abac"}, ""},
		{"config file", Flags{ConfigFile: authzCfg, PolicyFile: policy}, []string{"abac", "rbac"}, ""},
		{"config without policy file", Flags{ConfigFile: authzCfg}, nil, "ABAC needs --authorization-policy-file"},
		{"config and modes", Flags{ConfigFile: authzCfg, Modes: []string{"RBAC"}}, nil, "mutually exclusive"},
		{"ABAC without file", Flags{Modes: []string{"ABAC"}}, nil, "needs --authorization-policy-file"},
		{"file without ABAC", Flags{Modes: []string{"RBAC"}, PolicyFile: policy}, nil, "only used with --authorization-mode ABAC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Build(tc.flags, BuildOptions{RBAC: testRBAC(t)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Build() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, b.Names); diff != "" {
				t.Errorf("Names mismatch (-want +got):\n%s", diff)
			}
			d, _, _ := b.Authorize(context.Background(), authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "legacy"}, Verb: "get", Resource: "secrets", Namespace: "x", ResourceRequest: true})
			if d != authorizer.DecisionAllow {
				t.Errorf("ABAC user: %v, want Allow", d)
			}
		})
	}
}

func TestWebhookAuthorizerBreaker(t *testing.T) {
	t.Parallel()
	b := newSARBackend(t)
	b.broken.Store(true)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5}
	built, err := Build(Flags{Modes: []string{"Webhook", "RBAC"}, Webhook: WebhookFlags{ConfigFile: b.kubeconfig(t), AuthorizedTTL: DefaultAuthorizedTTL, UnauthorizedTTL: DefaultUnauthorizedTTL}},
		BuildOptions{RBAC: testRBAC(t), RetryBackoff: &backoff, Breaker: authn.BreakerOptions{Failures: 3, Cooldown: time.Minute, Now: clock}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		a := authorizer.AttributesRecord{User: &user.DefaultInfo{Name: "bob"}, Verb: "get", Resource: "pods", Namespace: "team-a", Name: string(rune('a' + i)), ResourceRequest: true}
		// failurePolicy NoOpinion: RBAC still answers while the webhook is down.
		if d, _, _ := built.Authorize(context.Background(), a); d != authorizer.DecisionAllow {
			t.Fatalf("request %d: %v, want Allow from RBAC", i, d)
		}
	}
	if got := b.calls.Load(); got != 3 {
		t.Errorf("backend calls = %d, want 3 before the breaker opened", got)
	}
	if diff := cmp.Diff([]string{authn.BreakerOpen}, []string{built.Breakers[0].State().State}); diff != "" {
		t.Errorf("breaker state mismatch (-want +got):\n%s", diff)
	}
	if got := built.Breakers[0].Name(); got != "webhook-breaker-authorization-webhook-default" {
		t.Errorf("Name() = %q", got)
	}
}
