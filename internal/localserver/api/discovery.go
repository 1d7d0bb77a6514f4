package api

import (
	"net/http"
	"runtime"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/apiserver/pkg/endpoints/discovery"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/kauth/kauth/internal/localserver/registry"
)

// serverVersion is what /version reports: the kube-apiserver release whose
// behaviour kauth serve follows.
var serverVersion = version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2+kauth", GitTreeState: "clean",
	GoVersion: runtime.Version(), Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH}

var (
	readWriteVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	noCollection   = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	createVerbs    = []string{"create"}
	subVerbs       = []string{"get", "patch", "update"}
	discoveryGV    = apidiscoveryv2.SchemeGroupVersion
)

type subresource struct {
	name  string
	gvk   schema.GroupVersionKind
	verbs []string
}

// subresourcesOf lists a kind's subresources for discovery, sorted.
func subresourcesOf(k *registry.Kind) []subresource {
	var out []subresource
	for name := range k.Subresources {
		verbs := subVerbs
		if name == "finalize" {
			verbs = []string{"update"}
		}
		out = append(out, subresource{name: name, gvk: k.GVK, verbs: verbs})
	}
	if k.Resource == "serviceaccounts" {
		out = append(out, subresource{name: "token", gvk: authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), verbs: createVerbs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (a *API) serveNonResource(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimSuffix(req.URL.Path, "/")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case strings.HasPrefix(path, "/openapi/"):
		a.serveOpenAPI(w, req)
	case path == "/version":
		a.writeJSON(w, http.StatusOK, serverVersion)
	case path == "/api":
		a.serveGroups(w, req, true)
	case path == "/apis":
		a.serveGroups(w, req, false)
	case path == "/api/v1":
		a.serveResourceList(w, req, schema.GroupVersion{Version: "v1"})
	case len(parts) == 2 && parts[0] == "apis":
		a.serveGroup(w, req, parts[1])
	case len(parts) == 3 && parts[0] == "apis":
		a.serveResourceList(w, req, schema.GroupVersion{Group: parts[1], Version: parts[2]})
	default:
		a.writeError(w, req, notFound())
	}
}

// groupVersions returns the served group/versions, core first.
func (a *API) groupVersions() []schema.GroupVersion {
	seen := map[schema.GroupVersion]bool{}
	var out []schema.GroupVersion
	for _, k := range a.reg.Kinds() {
		gv := k.GVK.GroupVersion()
		if !seen[gv] {
			seen[gv] = true
			out = append(out, gv)
		}
	}
	return out
}

func (a *API) serveGroups(w http.ResponseWriter, req *http.Request, legacy bool) {
	if wantsAggregated(req, a) {
		a.writeAggregated(w, req, legacy)
		return
	}
	if legacy {
		a.writeObject(w, req, http.StatusOK, schema.GroupVersion{}, &metav1.APIVersions{
			Versions:                   []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: req.Host}},
		})
		return
	}
	list := &metav1.APIGroupList{}
	for _, gv := range a.groupVersions() {
		if gv.Group != "" {
			list.Groups = append(list.Groups, apiGroup(gv))
		}
	}
	a.writeObject(w, req, http.StatusOK, schema.GroupVersion{}, list)
}

func apiGroup(gv schema.GroupVersion) metav1.APIGroup {
	v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
	return metav1.APIGroup{Name: gv.Group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v}
}

func (a *API) serveGroup(w http.ResponseWriter, req *http.Request, group string) {
	for _, gv := range a.groupVersions() {
		if gv.Group == group && group != "" {
			g := apiGroup(gv)
			a.writeObject(w, req, http.StatusOK, schema.GroupVersion{}, &g)
			return
		}
	}
	a.writeError(w, req, notFound())
}

func (a *API) serveResourceList(w http.ResponseWriter, req *http.Request, gv schema.GroupVersion) {
	list := &metav1.APIResourceList{GroupVersion: gv.String()}
	for _, k := range a.reg.Kinds() {
		if k.GVK.GroupVersion() != gv {
			continue
		}
		list.APIResources = append(list.APIResources, apiResource(k))
		for _, s := range subresourcesOf(k) {
			r := metav1.APIResource{Name: k.Resource + "/" + s.name, Namespaced: k.Namespaced, Kind: s.gvk.Kind, Verbs: s.verbs}
			if s.gvk.GroupVersion() != gv {
				r.Group, r.Version = s.gvk.Group, s.gvk.Version
			}
			list.APIResources = append(list.APIResources, r)
		}
	}
	if len(list.APIResources) == 0 {
		a.writeError(w, req, notFound())
		return
	}
	a.writeObject(w, req, http.StatusOK, schema.GroupVersion{}, list)
}

func singular(k *registry.Kind) string {
	if k.Singular != "" {
		return k.Singular
	}
	return strings.ToLower(k.GVK.Kind)
}

func verbsOf(k *registry.Kind) []string {
	switch {
	case k.Ephemeral:
		return createVerbs
	case k.NoDeleteCollection:
		return noCollection
	}
	return readWriteVerbs
}

func apiResource(k *registry.Kind) metav1.APIResource {
	r := metav1.APIResource{Name: k.Resource, SingularName: singular(k), Namespaced: k.Namespaced, Kind: k.GVK.Kind,
		Verbs: verbsOf(k), ShortNames: k.ShortNames, Categories: k.Categories}
	if !k.Ephemeral {
		r.StorageVersionHash = discovery.StorageVersionHash(k.GVK.Group, k.GVK.Version, k.GVK.Kind)
	}
	return r
}

// wantsAggregated reports whether the client asked for aggregated
// discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) first.
func wantsAggregated(req *http.Request, a *API) bool {
	opts, _, err := negotiation.NegotiateOutputMediaType(req, a.codecs, restrictions{})
	return err == nil && opts.Convert != nil && opts.Convert.Group == discoveryGV.Group
}

func (a *API) writeAggregated(w http.ResponseWriter, req *http.Request, legacy bool) {
	list := &apidiscoveryv2.APIGroupDiscoveryList{}
	for _, gv := range a.groupVersions() {
		if (gv.Group == "") != legacy {
			continue
		}
		v := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		for _, k := range a.reg.Kinds() {
			if k.GVK.GroupVersion() == gv {
				v.Resources = append(v.Resources, resourceDiscovery(k))
			}
		}
		g := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: gv.Group}, Versions: []apidiscoveryv2.APIVersionDiscovery{v}}
		list.Items = append(list.Items, g)
	}
	responsewritersWriteDiscovery(a, w, req, list)
}

func resourceDiscovery(k *registry.Kind) apidiscoveryv2.APIResourceDiscovery {
	scope := apidiscoveryv2.ScopeCluster
	if k.Namespaced {
		scope = apidiscoveryv2.ScopeNamespace
	}
	gvk := metav1.GroupVersionKind{Group: k.GVK.Group, Version: k.GVK.Version, Kind: k.GVK.Kind}
	r := apidiscoveryv2.APIResourceDiscovery{Resource: k.Resource, ResponseKind: &gvk, Scope: scope,
		SingularResource: singular(k), Verbs: verbsOf(k), ShortNames: k.ShortNames, Categories: k.Categories}
	for _, s := range subresourcesOf(k) {
		sg := metav1.GroupVersionKind{Group: s.gvk.Group, Version: s.gvk.Version, Kind: s.gvk.Kind}
		r.Subresources = append(r.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: s.name, ResponseKind: &sg, Verbs: s.verbs})
	}
	return r
}
