package tokens

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// ListBootstrapTokens lists the bootstrap-token Secrets in kube-system,
// sorted by id, each checked as kube-apiserver would check it (without
// the token secret, which is never returned).
func ListBootstrapTokens(ctx context.Context, client kubernetes.Interface, now time.Time) ([]BootstrapInfo, error) {
	sel := fields.OneTermEqualSelector("type", string(bootstrapapi.SecretTypeBootstrapToken)).String()
	list, err := client.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("listing bootstrap tokens in %s: %w", metav1.NamespaceSystem, err)
	}
	out := []BootstrapInfo{}
	for i := range list.Items {
		s := &list.Items[i]
		// The field selector is a server-side filter; check again so a
		// server that ignores it cannot slip other Secrets in.
		if s.Type != bootstrapapi.SecretTypeBootstrapToken {
			continue
		}
		out = append(out, *InspectBootstrapSecret(s, "", now))
	}
	slices.SortFunc(out, func(a, b BootstrapInfo) int {
		return strings.Compare(a.SecretName, b.SecretName)
	})
	return out, nil
}

// BootstrapTokenID returns the id of a bootstrap token given as its id or
// as the whole token (as kubeadm accepts both). The error never contains
// the token.
func BootstrapTokenID(idOrToken string) (string, error) {
	id := idOrToken
	if i := strings.IndexByte(idOrToken, '.'); i >= 0 {
		if !bootstraputil.IsValidBootstrapToken(idOrToken) {
			return "", fmt.Errorf("%w: expected an id of the form %s or a token of the form %s", ErrNotBootstrapToken, bootstrapapi.BootstrapTokenIDPattern, bootstrapapi.BootstrapTokenPattern)
		}
		id = idOrToken[:i]
	}
	if !bootstraputil.IsValidBootstrapTokenID(id) {
		return "", fmt.Errorf("%w: %q is not a token id, expected the form %s", ErrNotBootstrapToken, id, bootstrapapi.BootstrapTokenIDPattern)
	}
	return id, nil
}

// DeleteBootstrapToken deletes the Secret of a bootstrap token, given its
// id or the whole token, and returns the Secret's name.
func DeleteBootstrapToken(ctx context.Context, client kubernetes.Interface, idOrToken string) (string, error) {
	id, err := BootstrapTokenID(idOrToken)
	if err != nil {
		return "", err
	}
	name := bootstraputil.BootstrapTokenSecretName(id)
	if err := client.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return "", fmt.Errorf("deleting secret %s/%s: %w", metav1.NamespaceSystem, name, err)
	}
	return name, nil
}
