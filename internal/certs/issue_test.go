package certs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestIssue(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "issue-ca", 0)
	short := newTestCA(t, "short-ca", 90*24*time.Hour)
	type want struct {
		User         string
		Groups       []string
		ExtKeyUsages []string
		KeyUsages    []string
		DNSNames     []string
		IPAddresses  []string
		KeyAlgorithm string
		KeySize      int
		NotAfter     time.Time
	}
	tests := []struct {
		name    string
		ca      *CA
		req     IssueRequest
		want    want
		wantErr string
	}{
		{
			name: "client with groups",
			req:  IssueRequest{User: "alice", Groups: []string{"dev", "system:masters", "dev"}},
			want: want{
				User: "alice", Groups: []string{"dev", "system:masters"},
				ExtKeyUsages: []string{"client auth"}, KeyUsages: []string{"digital signature", "key encipherment"},
				KeyAlgorithm: "ECDSA", KeySize: 256, NotAfter: testNow.Add(DefaultExpiry),
			},
		},
		{
			name: "server with DNS and IP SANs, rsa",
			req: IssueRequest{User: "kube-apiserver", Usage: UsageServer, Hosts: []string{"kubernetes.default", "10.0.0.1", "*.example.com"},
				Key: KeySpec{Algo: AlgoRSA}, Expiry: 30 * 24 * time.Hour},
			want: want{
				User: "kube-apiserver", Groups: []string{}, ExtKeyUsages: []string{"server auth"},
				KeyUsages: []string{"digital signature", "key encipherment"},
				DNSNames:  []string{"kubernetes.default", "*.example.com"}, IPAddresses: []string{"10.0.0.1"},
				KeyAlgorithm: "RSA", KeySize: 2048, NotAfter: testNow.Add(30 * 24 * time.Hour),
			},
		},
		{
			name: "client and server",
			req:  IssueRequest{User: "node1", Usage: UsageClientServer, Hosts: []string{"node1"}, Groups: []string{"system:nodes"}},
			want: want{
				User: "node1", Groups: []string{"system:nodes"}, ExtKeyUsages: []string{"client auth", "server auth"},
				KeyUsages: []string{"digital signature", "key encipherment"}, DNSNames: []string{"node1"},
				KeyAlgorithm: "ECDSA", KeySize: 256, NotAfter: testNow.Add(DefaultExpiry),
			},
		},
		{name: "expiry outlives the CA", ca: short, req: IssueRequest{User: "alice"},
			wantErr: "expiry 1y outlives the CA (expires 2026-04-01T00:00:00Z); use at most 90d"},
		{name: "empty user", req: IssueRequest{}, wantErr: "user is empty"},
		{name: "padded user", req: IssueRequest{User: " alice"}, wantErr: `user " alice": has leading or trailing spaces`},
		{name: "control character in group", req: IssueRequest{User: "a", Groups: []string{"x\ny"}}, wantErr: "contains control characters"},
		{name: "hosts on a client certificate", req: IssueRequest{User: "a", Hosts: []string{"x"}}, wantErr: "hosts are only for server certificates"},
		{name: "server without hosts", req: IssueRequest{User: "a", Usage: UsageServer}, wantErr: "needs at least one host"},
		{name: "bad host", req: IssueRequest{User: "a", Usage: UsageServer, Hosts: []string{"bad host"}}, wantErr: `host "bad host": expected an IP address or a DNS name`},
		{name: "bad usage", req: IssueRequest{User: "a", Usage: "email"}, wantErr: `usage "email": must be one of client, server, client,server`},
		{name: "negative expiry", req: IssueRequest{User: "a", Expiry: -time.Hour}, wantErr: "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ca
			if tc.ca != nil {
				c = tc.ca
			}
			tc.req.Now = testNow
			issued, err := Issue(c, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Issue() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			info := Describe(issued.Cert, "x.crt", testNow)
			got := want{info.User, info.Groups, info.ExtKeyUsages, info.KeyUsages, info.DNSNames, info.IPAddresses, info.KeyAlgorithm, info.KeySize, info.NotAfter}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Issue() mismatch (-want +got):\n%s", diff)
			}
			if err := issued.Cert.CheckSignatureFrom(c.Cert); err != nil {
				t.Errorf("not signed by the CA: %v", err)
			}
			if !issued.Cert.NotBefore.Equal(testNow.Add(-backdate)) {
				t.Errorf("NotBefore = %v", issued.Cert.NotBefore)
			}
		})
	}
}

func TestExpiryErrorMax(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "ca", 100*24*time.Hour)
	_, err := Issue(ca, IssueRequest{User: "a", Expiry: 200 * 24 * time.Hour, Now: testNow.Add(36 * time.Hour)})
	var ee *ExpiryError
	if !errors.As(err, &ee) {
		t.Fatalf("error = %v, want ExpiryError", err)
	}
	// 100d minus 1.5d leaves 98.5d: the suggestion rounds down to 98d,
	// which then works.
	if ee.Max != 98*24*time.Hour {
		t.Errorf("Max = %v, want 98d", ee.Max)
	}
	if _, err := Issue(ca, IssueRequest{User: "a", Expiry: ee.Max, Now: testNow.Add(36 * time.Hour)}); err != nil {
		t.Errorf("issuing with the suggested maximum: %v", err)
	}
	_, err = Issue(ca, IssueRequest{User: "a", Now: testNow.Add(200 * 24 * time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "the CA expired on") {
		t.Errorf("expired CA error = %v", err)
	}
}
