package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

type tokenAuth map[string]user.Info

func (t tokenAuth) AuthenticateToken(_ context.Context, token string) (*authenticator.Response, bool, error) {
	u, ok := t[token]
	if !ok {
		return nil, false, errors.New("invalid bearer token")
	}
	return &authenticator.Response{User: u, Audiences: authenticator.Audiences{"https://kauth"}}, true, nil
}

func TestReviews(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{
		Authorizer:         newTestAuthorizer(),
		TokenAuthenticator: tokenAuth{"good": &user.DefaultInfo{Name: "bob", Groups: []string{"devs"}}},
	})
	ctx := context.Background()
	tr, err := ts.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "good"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "bob", Groups: []string{"devs"}}, Audiences: []string{"https://kauth"}}
	if diff := cmp.Diff(want, tr.Status); diff != "" {
		t.Errorf("token review (-want +got):\n%s", diff)
	}
	tr, _ = ts.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "bad"}}, metav1.CreateOptions{})
	if tr.Status.Authenticated || tr.Status.Error != "invalid bearer token" {
		t.Errorf("bad token review: %+v", tr.Status)
	}
	if _, err := ts.client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{}, metav1.CreateOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("empty token: %v", err)
	}

	ssr, err := ts.client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || ssr.Status.UserInfo.Username != "admin" {
		t.Errorf("self subject review: %v %+v", err, ssr)
	}

	tests := []struct {
		name  string
		spec  authorizationv1.SubjectAccessReviewSpec
		allow bool
	}{
		{"alice gets pods", authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "default"}}, true},
		{"alice deletes pods", authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "pods", Namespace: "default"}}, false},
		{"masters", authorizationv1.SubjectAccessReviewSpec{User: "x", Groups: []string{"system:masters"}, NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"}}, true},
	}
	for _, tc := range tests {
		sar, err := ts.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: tc.spec}, metav1.CreateOptions{})
		if err != nil || sar.Status.Allowed != tc.allow {
			t.Errorf("%s: %v %+v", tc.name, err, sar)
		}
	}
	_, err = ts.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "a"}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("SAR without attributes: %v", err)
	}
	lsar := &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "default"}}}
	if out, err := ts.client.AuthorizationV1().LocalSubjectAccessReviews("default").Create(ctx, lsar, metav1.CreateOptions{}); err != nil || !out.Status.Allowed {
		t.Errorf("local SAR: %v %+v", err, out)
	}
	lsar.Spec.ResourceAttributes.Namespace = "other"
	if _, err := ts.client.AuthorizationV1().LocalSubjectAccessReviews("default").Create(ctx, lsar, metav1.CreateOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("local SAR in another namespace: %v", err)
	}
	ssrr, err := ts.client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: "default"}}, metav1.CreateOptions{})
	if err != nil || len(ssrr.Status.ResourceRules) != 1 || ssrr.Status.ResourceRules[0].Verbs[0] != "*" {
		t.Errorf("rules review: %v %+v", err, ssrr)
	}
}

func TestReviewsWithoutHooks(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	_, err := ts.client.AuthenticationV1().TokenReviews().Create(context.Background(), &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("token review without an authenticator: %v", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot"}}
	if _, err := ts.client.CoreV1().ServiceAccounts("default").Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.client.CoreV1().ServiceAccounts("default").CreateToken(context.Background(), "bot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("token request without an issuer: %v", err)
	}
}

func TestWatchOverHTTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	first, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"k": "v"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: first.ResourceVersion, LabelSelector: "k=v"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Labels: map[string]string{"k": "v"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 2 {
		ev := <-w.ResultChan()
		got = append(got, fmt.Sprintf("%s %s", ev.Type, ev.Object.(*corev1.ConfigMap).Name))
	}
	if diff := cmp.Diff([]string{"ADDED b", "DELETED a"}, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	// Watch-list: initial events, then the bookmark that ends them.
	wl, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: new(true), AllowWatchBookmarks: true,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Stop()
	got = nil
	for ev := range wl.ResultChan() {
		cm := ev.Object.(*corev1.ConfigMap)
		got = append(got, fmt.Sprintf("%s %s %s", ev.Type, cm.Name, cm.Annotations["k8s.io/initial-events-end"]))
		if ev.Type == watch.Bookmark {
			break
		}
	}
	if diff := cmp.Diff([]string{"ADDED b ", "ADDED unlabelled ", "BOOKMARK  true"}, got); diff != "" {
		t.Fatalf("watch-list events (-want +got):\n%s", diff)
	}
}

func TestWatchTooOldIs410(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	// The bbolt and memory stores keep a window of events; resourceVersion
	// 1 is outside it once the window has moved on.
	for i := range 4100 {
		_, _ = ts.store.Create(ctx, corev1.SchemeGroupVersion.WithResource("configmaps"),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprint("c", i)}})
	}
	w, err := ts.client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != http.StatusGone {
		t.Fatalf("got %s %+v, want ERROR 410", ev.Type, ev.Object)
	}
}

func TestListPagesAndTables(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	for i := range 5 {
		if _, err := ts.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("c", i)}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := metav1.ListOptions{Limit: 2}
	for {
		l, err := ts.client.CoreV1().ConfigMaps("default").List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range l.Items {
			names = append(names, cm.Name)
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	if diff := cmp.Diff([]string{"c0", "c1", "c2", "c3", "c4"}, names); diff != "" {
		t.Fatalf("pages (-want +got):\n%s", diff)
	}
	var table metav1.Table
	raw, err := ts.client.CoreV1().RESTClient().Get().Namespace("default").Resource("configmaps").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if diff := cmp.Diff([]string{"Name", "Data", "Age"}, cols); diff != "" || table.Kind != "Table" || len(table.Rows) != 5 {
		t.Fatalf("table %s %d rows, columns (-want +got):\n%s", table.Kind, len(table.Rows), diff)
	}
	if table.Rows[0].Cells[0] != "c0" || table.Rows[0].Cells[1] != float64(1) {
		t.Fatalf("first row = %v", table.Rows[0].Cells)
	}
}

func TestProtobufClient(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	cfg := rest.CopyConfig(ts.config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pb"}, Data: map[string]string{"a": "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().ConfigMaps("default").Get(ctx, "pb", metav1.GetOptions{})
	if err != nil || got.Data["a"] != "b" {
		t.Fatalf("protobuf get: %v %+v", err, got)
	}
	w, err := client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := <-w.ResultChan(); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "pb" {
		t.Fatalf("protobuf watch: %+v", ev)
	}
}

func TestListResourceVersions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	a, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exact, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if err != nil || len(exact.Items) != 1 || exact.ResourceVersion != a.ResourceVersion {
		t.Fatalf("exact list: %v %+v", err, exact)
	}
	// Raw, because client-go retries a 504 with Retry-After ten times and
	// the store waits three seconds for the version each time.
	if code, body := ts.raw(t, "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=99999&resourceVersionMatch=NotOlderThan", "", ""); code != 504 {
		t.Fatalf("list newer than the store: %d %s, want 504", code, body)
	}
	if _, err := cms.List(ctx, metav1.ListOptions{ResourceVersionMatch: metav1.ResourceVersionMatchExact}); !apierrors.IsInvalid(err) {
		t.Fatalf("match without a resourceVersion: %v, want 422", err)
	}
	if l, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err != nil || len(l.Items) != 2 {
		t.Fatalf("list at any version: %v", err)
	}
}
