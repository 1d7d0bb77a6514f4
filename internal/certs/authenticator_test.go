package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
)

// TestAPIServerAuthenticator feeds issued certificates to
// k8s.io/apiserver's own x509 authenticator, configured as kube-apiserver
// configures it for --client-ca-file, and checks who it authenticates.
// The authenticator reads the wall clock, so this test issues at
// time.Now().
func TestAPIServerAuthenticator(t *testing.T) {
	t.Parallel()
	now := time.Now()
	dir := t.TempDir()
	if _, err := InitCA(InitCARequest{CommonName: "apiserver-client-ca", Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	otherDir := t.TempDir()
	if _, err := InitCA(InitCARequest{CommonName: "other", Now: now}, otherDir, false); err != nil {
		t.Fatal(err)
	}
	other, err := LoadCA(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := x509request.DefaultVerifyOptions()
	opts.Roots = x509.NewCertPool()
	opts.Roots.AddCert(ca.Cert)
	auth := x509request.New(opts, x509request.CommonNameUserConversion)

	type who struct {
		Name   string
		Groups []string
	}
	tests := []struct {
		name   string
		ca     *CA
		req    IssueRequest
		want   *who
		wantOK bool
	}{
		{"user and groups", ca, IssueRequest{User: "alice", Groups: []string{"dev", "system:masters"}}, &who{"alice", []string{"dev", "system:masters"}}, true},
		{"no groups, rsa", ca, IssueRequest{User: "system:node:n1", Key: KeySpec{Algo: AlgoRSA}}, &who{"system:node:n1", []string{}}, true},
		// The groups share one multi-valued RDN, a DER SET: they come back
		// sorted by encoding (shorter first), which is the order the
		// apiserver and inspect both report.
		{"groups in DER SET order", ca, IssueRequest{User: "bob", Groups: []string{"c-group", "aa", "b"}}, &who{"bob", []string{"b", "aa", "c-group"}}, true},
		{"client and server", ca, IssueRequest{User: "n2", Usage: UsageClientServer, Hosts: []string{"n2"}}, &who{"n2", []string{}}, true},
		{"server only is refused", ca, IssueRequest{User: "api", Usage: UsageServer, Hosts: []string{"api"}}, nil, false},
		{"another CA is refused", other, IssueRequest{User: "eve"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.req.Now = now
			issued, err := Issue(tc.ca, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{issued.Cert}}
			resp, ok, err := auth.AuthenticateRequest(r)
			if ok != tc.wantOK {
				t.Fatalf("authenticated = %v (err %v), want %v", ok, err, tc.wantOK)
			}
			if !ok {
				return
			}
			got := &who{resp.User.GetName(), append([]string{}, resp.User.GetGroups()...)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("authenticated as (-want +got):\n%s", diff)
			}
			// inspect reports the same identity.
			info := Describe(issued.Cert, "x", now)
			if diff := cmp.Diff(tc.want, &who{info.User, info.Groups}); diff != "" {
				t.Errorf("Describe() identity differs from the apiserver's (-apiserver +inspect):\n%s", diff)
			}
		})
	}
}
