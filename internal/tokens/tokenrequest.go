package tokens

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// MinTokenRequestDuration is the shortest lifetime the TokenRequest API
// accepts (ExpirationSeconds of at least 600).
const MinTokenRequestDuration = 10 * time.Minute

// RequestedToken is a token the cluster issued through TokenRequest.
type RequestedToken struct {
	Token      string   `json:"token"`
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	Audiences  []string `json:"audiences,omitempty"`
	Expiration string   `json:"expiration"`
}

// RequestServiceAccountToken asks the cluster for a token of service
// account namespace/name through the TokenRequest API (the
// serviceaccounts/token subresource). A zero duration leaves the lifetime
// to the server (one hour by default).
func RequestServiceAccountToken(ctx context.Context, client kubernetes.Interface, namespace, name string, audiences []string, duration time.Duration) (*RequestedToken, error) {
	if duration != 0 && duration < MinTokenRequestDuration {
		return nil, fmt.Errorf("--duration %s: the TokenRequest API accepts at least %s", duration, MinTokenRequestDuration)
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: audiences}}
	if duration != 0 {
		secs := int64(duration / time.Second)
		req.Spec.ExpirationSeconds = &secs
	}
	resp, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("requesting a token for service account %s/%s: %w", namespace, name, err)
	}
	if resp.Status.Token == "" {
		return nil, fmt.Errorf("requesting a token for service account %s/%s: the server returned no token", namespace, name)
	}
	return &RequestedToken{
		Token: resp.Status.Token, Namespace: namespace, Name: name, Audiences: resp.Spec.Audiences,
		Expiration: resp.Status.ExpirationTimestamp.UTC().Format(time.RFC3339),
	}, nil
}
