package authwebhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	authorizationv1beta1 "k8s.io/api/authorization/v1beta1"
	sigsjson "sigs.k8s.io/json"
)

// Groups and versions kube-apiserver's webhook clients send (v1, and
// v1beta1 when --authentication-token-webhook-version or
// --authorization-webhook-version says so). The two versions have the
// same JSON shape; the answer carries the request's apiVersion.
var (
	tokenReviewVersions = []string{"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"}
	sarVersions         = []string{"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1"}
)

// DecodeTokenReview reads a TokenReview as kube-apiserver sends it.
func DecodeTokenReview(body []byte) (*authenticationv1.TokenReview, error) {
	var tr authenticationv1.TokenReview
	if err := decodeReview(body, "TokenReview", tokenReviewVersions, &tr); err != nil {
		return nil, err
	}
	if tr.Spec.Token == "" {
		return nil, errors.New("spec.token: required")
	}
	return &tr, nil
}

// DecodeSubjectAccessReview reads a SubjectAccessReview as kube-apiserver
// sends it.
func DecodeSubjectAccessReview(body []byte) (*authorizationv1.SubjectAccessReview, error) {
	var sar authorizationv1.SubjectAccessReview
	if err := decodeReview(body, "SubjectAccessReview", sarVersions, &sar); err != nil {
		return nil, err
	}
	if sar.APIVersion != sarVersions[1] {
		return &sar, nil
	}
	// v1beta1 names the groups "group"; everything else has v1's shape.
	var beta authorizationv1beta1.SubjectAccessReview
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(body, &beta); err != nil {
		return nil, fmt.Errorf("decoding SubjectAccessReview: %w", err)
	}
	sar.Spec.Groups = beta.Spec.Groups
	return &sar, nil
}

// decodeReview checks apiVersion and kind, then decodes JSON with
// case-sensitive field names as the API server's decoder does. Unknown
// fields are ignored, so a newer kube-apiserver that sends fields this
// version does not know is still answered.
func decodeReview(body []byte, kind string, versions []string, into any) error {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body: expected a JSON " + kind)
	}
	if err := json.Unmarshal(body, &tm); err != nil {
		return fmt.Errorf("expected a JSON %s: %w", kind, err)
	}
	if tm.Kind != kind || !contains(versions, tm.APIVersion) {
		return fmt.Errorf("got apiVersion %q kind %q: expected kind %s of %s", tm.APIVersion, tm.Kind, kind, strings.Join(versions, " or "))
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(body, into); err != nil {
		return fmt.Errorf("decoding %s: %w", kind, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
