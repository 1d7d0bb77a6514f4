package rbaclint

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// Checks of ServiceAccounts and workloads: what a service account's token
// holds (through bindings to the account and to the groups its token
// carries), where its token is mounted, and who can act as it.

// heldRisk is one risk a service account's token holds, weighed in the
// scope of the binding that grants it.
type heldRisk struct {
	rule string
	base string // the risk's rule before scope picks a namespace variant
	ri   int    // the risk's index in linter.risks
	sev  Severity
	what string
	h    holding
}

// accountRisks lists the risks the token of service account s holds, most
// severe first. Suppressed grants (a lint-ignore on the binding, an
// allowed subject) do not count. What the groups of its token hold is
// worked out once per namespace; only risks with a companion permission
// are asked about the account itself.
func (l *linter) accountRisks(s Subject) []heldRisk {
	if out, done := l.accountMemo[s]; done {
		return out
	}
	l.indexHoldings()
	cands := l.subjectRisks(l.bySubject[s])
	for _, g := range accountUser(s).GetGroups() {
		cands = append(cands, l.groupRisks(g)...)
	}
	var out []heldRisk
	for _, sev := range []Severity{SeverityError, SeverityWarning, SeverityInfo} {
		for _, r := range cands {
			if r.sev == sev && (len(l.risks[r.ri].Requires) == 0 || l.accountHoldsRequired(s, r.h, l.risks[r.ri])) {
				out = append(out, r)
			}
		}
	}
	l.accountMemo[s] = out
	return out
}

// groupRisks are subjectRisks of a group's holdings, remembered.
func (l *linter) groupRisks(name string) []heldRisk {
	g := Subject{Kind: rbacv1.GroupKind, Name: name}
	if out, done := l.accountMemo[g]; done {
		return out
	}
	out := l.subjectRisks(l.bySubject[g])
	l.accountMemo[g] = out
	return out
}

// subjectRisks weighs the risks of holdings in their scopes, leaving out
// written-wildcard pseudo-risks and suppressed grants; companion
// permissions are not checked yet.
func (l *linter) subjectRisks(hs []holding) []heldRisk {
	pseudo := len(l.risks) - len(pseudoRisks())
	var out []heldRisk
	for _, h := range hs {
		for _, ri := range l.hits[ruleKey{h.role, h.index}] {
			risk := l.risks[ri]
			rule, sev, ok := l.weigh(risk, h.scope())
			if ri >= pseudo || !ok || l.ignored(h.binding, rule) || l.cfg.allows(h.subject, rule, l.now) {
				continue
			}
			out = append(out, heldRisk{rule: rule, base: risk.Rule, sev: sev, what: risk.What, h: h, ri: ri})
		}
	}
	return out
}

// indexHoldings builds bySubject once.
func (l *linter) indexHoldings() {
	if l.bySubject != nil {
		return
	}
	l.bySubject = map[Subject][]holding{}
	for _, h := range l.holding {
		l.bySubject[h.subject] = append(l.bySubject[h.subject], h)
	}
}

// accountHoldsRequired asks the engine for a risk's companion permission
// with the account's full identity.
func (l *linter) accountHoldsRequired(s Subject, h holding, r Risk) bool {
	if len(r.Requires) == 0 {
		return true
	}
	for _, req := range r.Requires {
		req.User, req.Namespace = accountUser(s), h.scope()
		if l.allowed(req) {
			return true
		}
	}
	return false
}

// needsToken tells whether the account's token grants anything beyond
// what every authenticated identity has: discovery, the self reviews, the
// public health paths, and whatever the default bindings give the groups
// of all (service-account) users, such as reading ClusterTrustBundles.
func (l *linter) needsToken(s Subject) bool {
	l.indexHoldings()
	lists := [][]holding{l.bySubject[s]}
	for _, g := range accountUser(s).GetGroups() {
		lists = append(lists, l.bySubject[Subject{Kind: rbacv1.GroupKind, Name: g}])
	}
	for _, hs := range lists {
		for _, h := range hs {
			if h.subject.Kind == rbacv1.GroupKind && !l.user(h.binding) {
				continue
			}
			if !discoveryOnly(l.rules[h.role][h.index], false, h.scope()) {
				return true
			}
		}
	}
	return false
}

// account returns the ServiceAccount object of s in the inputs, if any.
func (l *linter) account(s Subject) *account {
	for i := range l.accounts {
		a := &l.accounts[i]
		if a.key.Namespace == s.Namespace && a.key.Name == s.Name {
			return a
		}
	}
	return nil
}

// atObject builds a finding located at a ServiceAccount or workload.
func atObject(rule string, sev Severity, k rbac.ObjectKey, src loader.Source, msg string) Finding {
	r := mustRule(rule)
	if sev == "" {
		sev = r.Severity
	}
	return Finding{Rule: rule, Severity: sev, Message: msg, File: src.File, Line: src.Line, Kind: k.Kind, Name: k.Name, Namespace: k.Namespace, Subjects: []Subject{}, Hint: r.Hint}
}

// heldText renders held risks of at least severity min, grouped by
// binding, role and scope ("read secrets, bind roles cluster-wide via
// ClusterRoleBinding "b" (ClusterRole "r")"), the most severe first, with
// their bindings. A wildcard role is "every verb on every resource".
func heldText(risks []heldRisk, min Severity) (string, []rbac.ObjectKey) {
	type grant struct {
		binding, role rbac.ObjectKey
		scope         string
	}
	whats := map[grant][]string{}
	var order []grant
	var bindings []rbac.ObjectKey
	for _, r := range risks {
		if r.sev.Rank() < min.Rank() {
			continue
		}
		g := grant{r.h.binding, r.h.role, r.h.scope()}
		if _, seen := whats[g]; !seen {
			order = append(order, g)
		}
		switch {
		case r.rule == RuleFullWildcard:
			whats[g] = []string{r.what}
		case len(whats[g]) == 1 && whats[g][0] == fullWildcardWhat:
		case !slices.Contains(whats[g], r.what):
			whats[g] = append(whats[g], r.what)
		}
		if !slices.Contains(bindings, r.h.binding) {
			bindings = append(bindings, r.h.binding)
		}
	}
	items := make([]string, len(order))
	for i, g := range order {
		items[i] = fmt.Sprintf("%s %s via %s (%s)", abbreviate(whats[g], 3), scopeText([]string{g.scope}), g.binding, g.role)
	}
	sortKeys(bindings)
	return abbreviate(items, 2), bindings
}

// workloadFindings report workloads whose pods mount the token of a
// service account that holds a risk of at least warning in the scope it
// is granted: whoever takes over a container acts with it.
func (l *linter) workloadFindings() []Finding {
	var out []Finding
	for _, w := range l.workloads {
		s := w.serviceAccount()
		t := w.token(l.account(s))
		if !t.mounted && !t.projected {
			continue
		}
		risks := l.accountRisks(s)
		if len(risks) == 0 || risks[0].sev.Rank() < SeverityWarning.Rank() {
			continue
		}
		held, bindings := heldText(risks, SeverityWarning)
		f := atObject(RuleWorkloadPrivilegedSA, risks[0].sev, w.key, w.src,
			fmt.Sprintf("%s runs as %s with its token mounted; the account holds %s", w.key, s, held))
		f.Subjects, f.Bindings = []Subject{s}, bindings
		out = append(out, f)
	}
	return out
}

// automountFindings report tokens mounted for nothing: a workload whose
// pods mount the token of an account that holds no more than discovery
// in these files, and such accounts that do not turn automounting off.
// The finding goes where the fix goes: the ServiceAccount when it is in
// the inputs and the pod spec does not ask for the token itself, else the
// workload.
func (l *linter) automountFindings() []Finding {
	var out []Finding
	users := map[rbac.ObjectKey][]string{}
	for _, w := range l.workloads {
		s := w.serviceAccount()
		a := l.account(s)
		if t := w.token(a); !t.mounted || l.needsToken(s) {
			continue
		}
		if a != nil && w.spec.AutomountServiceAccountToken == nil {
			users[a.key] = append(users[a.key], w.key.String())
			continue
		}
		why := "automountServiceAccountToken is not set"
		if w.spec.AutomountServiceAccountToken != nil {
			why = "automountServiceAccountToken: true"
		}
		f := atObject(RuleTokenAutomount, "", w.key, w.src,
			fmt.Sprintf("%s mounts the token of %s (%s), which holds nothing beyond discovery in these files", w.key, s, why))
		f.Subjects = []Subject{s}
		out = append(out, f)
	}
	for _, a := range l.accounts {
		s := Subject{Kind: rbacv1.ServiceAccountKind, Name: a.key.Name, Namespace: a.key.Namespace}
		if (a.sa.AutomountServiceAccountToken != nil && !*a.sa.AutomountServiceAccountToken) || l.needsToken(s) {
			continue
		}
		used := "no workload in these files runs as it"
		if u := users[a.key]; len(u) > 0 {
			used = "used by " + abbreviate(u, 3)
		}
		f := atObject(RuleTokenAutomount, "", a.key, a.src,
			fmt.Sprintf("%s holds nothing beyond discovery in these files but does not set automountServiceAccountToken: false, so every pod that runs as it gets a token (%s)", a.key, used))
		f.Subjects = []Subject{s}
		out = append(out, f)
	}
	return out
}

// cloudIdentityAnnotations link a ServiceAccount to a cloud identity.
var cloudIdentityAnnotations = []struct{ key, what string }{
	{"eks.amazonaws.com/role-arn", "AWS IAM role"},
	{"iam.gke.io/gcp-service-account", "GCP service account"},
	{"azure.workload.identity/client-id", "Azure workload identity"},
}

// actAs is one way to act as a service account, asked of the engine in
// the account's namespace; named ways ask about the account by name.
type actAs struct {
	how   string
	named bool
	reqs  func(name string) []authorizer.AttributesRecord
}

var actAsWays = []actAs{
	{"create tokens", true, func(n string) []authorizer.AttributesRecord { return res("", "serviceaccounts", "token", n, "create") }},
	{"impersonate", true, func(n string) []authorizer.AttributesRecord { return res("", "serviceaccounts", "", n, "impersonate") }},
	{"create pods or workloads", false, func(string) []authorizer.AttributesRecord { return workloadRequests() }},
	{"exec into pods", false, func(string) []authorizer.AttributesRecord {
		return join(res("", "pods", "exec", probeName, "create", "get"), res("", "pods", "attach", probeName, "create", "get"))
	}},
}

func workloadRequests() []authorizer.AttributesRecord {
	for _, r := range Risks() {
		if r.Rule == RuleWorkloadsCreate {
			return r.Requests
		}
	}
	return nil
}

type actorKey struct{ namespace, how, name string }

// actorSet is who may act one way in a namespace, through which of the
// user's bindings.
type actorSet []actorGrant

type actorGrant struct {
	subject Subject
	binding rbac.ObjectKey
}

// actorsOf asks the engine, once per namespace (and account name for
// named ways), who may act one way, through bindings in the user's files;
// system:masters and system: users are left out.
func (l *linter) actorsOf(a actAs, ns, name string) actorSet {
	k := actorKey{ns, a.how, ""}
	if a.named {
		k.name = name
	}
	if set, done := l.actorMemo[k]; done {
		return set
	}
	var set actorSet
	seen := map[actorGrant]bool{}
	for _, req := range a.reqs(name) {
		req.Namespace = ns
		for _, g := range l.idx.WhoCan(req).Subjects {
			if g.Privileged || (g.Kind == rbacv1.UserKind && strings.HasPrefix(g.Name, "system:")) {
				continue
			}
			for _, v := range g.Via {
				gr := actorGrant{subjectOf(rbacv1.Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}, v.Binding.Namespace), v.Binding}
				if l.user(v.Binding) && !seen[gr] {
					seen[gr] = true
					set = append(set, gr)
				}
			}
		}
	}
	l.actorMemo[k] = set
	return set
}

// actors lists who can act as service account s (other than s itself and
// allowed subjects), how, and through which bindings.
func (l *linter) actors(s Subject, runs bool, rule string) ([]Subject, []string, []rbac.ObjectKey) {
	var subjects []Subject
	var hows []string
	var bindings []rbac.ObjectKey
	seenS, seenB := map[Subject]bool{}, map[rbac.ObjectKey]bool{}
	for _, a := range actAsWays {
		if a.how == "exec into pods" && !runs {
			continue
		}
		for _, g := range l.actorsOf(a, s.Namespace, s.Name) {
			if g.subject == s || seenS[g.subject] && seenB[g.binding] && slices.Contains(hows, a.how) {
				continue
			}
			if l.ignored(g.binding, rule) || l.cfg.allows(g.subject, rule, l.now) {
				continue
			}
			if !seenS[g.subject] {
				seenS[g.subject] = true
				subjects = append(subjects, g.subject)
			}
			if !slices.Contains(hows, a.how) {
				hows = append(hows, a.how)
			}
			if !seenB[g.binding] {
				seenB[g.binding] = true
				bindings = append(bindings, g.binding)
			}
		}
	}
	sortSubjects(subjects)
	sortKeys(bindings)
	return subjects, hows, bindings
}

// cloudIAMFindings report ServiceAccounts linked to a cloud identity, and
// who can act as them: create their tokens, impersonate them, create pods
// in their namespace (which may run as any of its accounts) or exec into
// pods that run as them. Info when nobody in these files can, warning
// when someone can.
func (l *linter) cloudIAMFindings() []Finding {
	var out []Finding
	for _, a := range l.accounts {
		var links []string
		for _, c := range cloudIdentityAnnotations {
			if v := a.sa.Annotations[c.key]; v != "" {
				links = append(links, fmt.Sprintf("%s %s", c.what, v))
			}
		}
		if len(links) == 0 {
			continue
		}
		s := Subject{Kind: rbacv1.ServiceAccountKind, Name: a.key.Name, Namespace: a.key.Namespace}
		runs := slices.ContainsFunc(l.workloads, func(w workload) bool { return w.serviceAccount() == s })
		subjects, hows, bindings := l.actors(s, runs, RuleCloudIAM)
		msg := fmt.Sprintf("%s is linked to %s; nobody in these files can act as it", a.key, strings.Join(links, " and "))
		sev := SeverityInfo
		if len(subjects) > 0 {
			sev = SeverityWarning
			msg = fmt.Sprintf("%s is linked to %s; %s can act as it (%s) via %s", a.key, strings.Join(links, " and "), subjectsText(subjects), strings.Join(hows, ", "), keysText(bindings))
		}
		f := atObject(RuleCloudIAM, sev, a.key, a.src, msg)
		f.Subjects, f.Bindings = subjects, bindings
		if f.Subjects == nil {
			f.Subjects = []Subject{}
		}
		out = append(out, f)
	}
	return out
}

// The Kubernetes dashboard's service account: kubernetes-dashboard in
// the classic manifests, kubernetes-dashboard-<component> in the Helm
// chart.
func isDashboardAccount(s Subject) bool {
	if s.Kind != rbacv1.ServiceAccountKind {
		return false
	}
	component, ok := strings.CutPrefix(s.Name, "kubernetes-dashboard")
	return ok && slices.Contains([]string{"", "-web", "-api", "-auth", "-kong", "-metrics-scraper"}, component)
}

// isDashboard tells whether a workload is part of the dashboard: its name
// or its labels say so (the metrics scraper runs as the dashboard's
// account in the classic manifests).
func isDashboard(w workload) bool {
	for _, prefix := range []string{"kubernetes-dashboard", "dashboard-metrics-scraper"} {
		if strings.HasPrefix(w.key.Name, prefix) || strings.HasPrefix(w.labels["k8s-app"], prefix) || strings.HasPrefix(w.labels["app.kubernetes.io/name"], prefix) {
			return true
		}
	}
	return w.labels["app.kubernetes.io/part-of"] == "kubernetes-dashboard"
}

// dashboardFindings report the dashboard's service account used by
// workloads that are not the dashboard, its role bound to other subjects,
// and the account holding risky permissions: whoever reaches the
// dashboard (often without logging in) acts with them.
func (l *linter) dashboardFindings() []Finding {
	var out []Finding
	accounts := map[Subject]bool{}
	var order []Subject
	note := func(s Subject) {
		if isDashboardAccount(s) && !accounts[s] {
			accounts[s] = true
			order = append(order, s)
		}
	}
	for _, w := range l.workloads {
		s := w.serviceAccount()
		note(s)
		if isDashboardAccount(s) && !isDashboard(w) {
			f := atObject(RuleDashboardSA, SeverityWarning, w.key, w.src, fmt.Sprintf("%s is not the dashboard but runs as its %s", w.key, s))
			f.Subjects = []Subject{s}
			out = append(out, f)
		}
	}
	for _, a := range l.accounts {
		note(Subject{Kind: rbacv1.ServiceAccountKind, Name: a.key.Name, Namespace: a.key.Namespace})
	}
	for _, h := range l.holding {
		note(h.subject)
	}
	for _, s := range order {
		risks := l.accountRisks(s)
		if len(risks) == 0 || risks[0].sev.Rank() < SeverityWarning.Rank() {
			continue
		}
		held, bindings := heldText(risks, SeverityWarning)
		msg := fmt.Sprintf("the dashboard's %s holds %s; whoever reaches the dashboard acts with it", s, held)
		var f Finding
		if a := l.account(s); a != nil {
			f = atObject(RuleDashboardSA, risks[0].sev, a.key, a.src, msg)
		} else {
			f = l.at(RuleDashboardSA, risks[0].sev, risks[0].h.binding, msg)
		}
		f.Subjects, f.Bindings = []Subject{s}, bindings
		out = append(out, f)
	}
	return append(out, l.dashboardRoleBindings()...)
}

// dashboardRoleBindings report bindings of the dashboard's roles
// (named kubernetes-dashboard) to subjects other than its accounts.
func (l *linter) dashboardRoleBindings() []Finding {
	var out []Finding
	check := func(key rbac.ObjectKey, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
		if !l.user(key) || ref.Name != "kubernetes-dashboard" {
			return
		}
		var others []Subject
		for _, s := range subjects {
			if sub := subjectOf(s, key.Namespace); !isDashboardAccount(sub) {
				others = append(others, sub)
			}
		}
		if len(others) == 0 {
			return
		}
		sortSubjects(others)
		f := l.at(RuleDashboardSA, SeverityInfo, key, fmt.Sprintf("%s binds the dashboard's %s %q to %s, which are not the dashboard", key, ref.Kind, ref.Name, subjectsText(others)))
		f.Subjects, f.Bindings = others, []rbac.ObjectKey{key}
		out = append(out, f)
	}
	l.eachBinding(check)
	return out
}

// accountUser is the identity a service account's token authenticates
// as: its user name, the groups of service accounts and of its
// namespace's service accounts, and system:authenticated.
func accountUser(s Subject) user.Info {
	return &user.DefaultInfo{Name: serviceaccount.MakeUsername(s.Namespace, s.Name), Groups: append(serviceaccount.MakeGroupNames(s.Namespace), user.AllAuthenticated)}
}

// missingAccountFindings report workloads that run as a ServiceAccount
// the inputs do not define although they define other ServiceAccounts of
// its namespace (so the namespace's accounts are managed here): the
// ServiceAccount admission plugin rejects such pods. Accounts of
// namespaces the inputs define none of may come from elsewhere and are
// not reported; "default" always exists.
func (l *linter) missingAccountFindings() []Finding {
	defined := map[string][]string{}
	for _, a := range l.accounts {
		defined[a.key.Namespace] = append(defined[a.key.Namespace], a.key.Name)
	}
	var out []Finding
	for _, w := range l.workloads {
		s := w.serviceAccount()
		names := defined[s.Namespace]
		if s.Name == "default" || len(names) == 0 || slices.Contains(names, s.Name) {
			continue
		}
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = fmt.Sprintf("%q", n)
		}
		f := atObject(RuleMissingServiceAccount, "", w.key, w.src, fmt.Sprintf("%s runs as %s, which these files do not define (they define %s in namespace %q); its pods are rejected until it exists",
			w.key, s, abbreviate(q, 3), s.Namespace))
		f.Subjects = []Subject{s}
		out = append(out, f)
	}
	return out
}

// reachFindings report subjects that can act as a service account (create
// its tokens, impersonate it, create pods in its namespace, exec into its
// pods) that holds an error-level risk they do not hold themselves: the
// account's permissions are theirs. One finding per binding that opens
// the way, naming the subjects, how, and the accounts with what they
// hold.
func (l *linter) reachFindings() []Finding {
	type reach struct {
		binding  rbac.ObjectKey
		subjects []Subject
		hows     []string
		targets  []string
		seen     map[any]bool
	}
	byBinding := map[rbac.ObjectKey]*reach{}
	var order []rbac.ObjectKey
	for _, s := range l.candidateAccounts() {
		risks := l.accountRisks(s)
		if len(risks) == 0 || risks[0].sev != SeverityError {
			continue
		}
		runs := slices.ContainsFunc(l.workloads, func(w workload) bool { return w.serviceAccount() == s })
		needs := errorNeeds(risks)
		for _, a := range actAsWays {
			if a.how == "exec into pods" && !runs {
				continue
			}
			for _, g := range l.actorsOf(a, s.Namespace, s.Name) {
				if g.subject == s || l.ignored(g.binding, RuleReachPrivilegedSA) || l.cfg.allows(g.subject, RuleReachPrivilegedSA, l.now) || l.holdsAll(g.subject, needs) {
					continue
				}
				r := byBinding[g.binding]
				if r == nil {
					r = &reach{binding: g.binding, seen: map[any]bool{}}
					byBinding[g.binding] = r
					order = append(order, g.binding)
				}
				if !r.seen[g.subject] {
					r.seen[g.subject] = true
					r.subjects = append(r.subjects, g.subject)
				}
				if !slices.Contains(r.hows, a.how) {
					r.hows = append(r.hows, a.how)
				}
				if !r.seen[s] {
					r.seen[s] = true
					r.targets = append(r.targets, fmt.Sprintf("%s (%s %s)", s, risks[0].what, scopeText([]string{risks[0].h.scope()})))
				}
			}
		}
	}
	var out []Finding
	for _, k := range order {
		r := byBinding[k]
		sortSubjects(r.subjects)
		slices.Sort(r.targets)
		f := l.at(RuleReachPrivilegedSA, "", k, fmt.Sprintf("%s lets %s act as service accounts that hold more (%s): %s",
			k, subjectsText(r.subjects), strings.Join(r.hows, ", "), abbreviate(r.targets, 3)))
		f.Subjects, f.Bindings = r.subjects, []rbac.ObjectKey{k}
		out = append(out, f)
	}
	return out
}

// candidateAccounts are the service accounts whose permissions lint can
// see: those the bindings name, those of the inputs and those workloads
// run as, and the default account of namespaces whose service-account
// group is bound, in a stable order.
func (l *linter) candidateAccounts() []Subject {
	seen := map[Subject]bool{}
	var out []Subject
	add := func(s Subject) {
		if !seen[s] && s.Namespace != "" {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, h := range l.holding {
		switch {
		case h.subject.Kind == rbacv1.ServiceAccountKind:
			add(h.subject)
		case h.subject.Kind == rbacv1.GroupKind && strings.HasPrefix(h.subject.Name, serviceaccount.ServiceAccountGroupPrefix):
			add(Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: strings.TrimPrefix(h.subject.Name, serviceaccount.ServiceAccountGroupPrefix)})
		}
	}
	for _, a := range l.accounts {
		add(Subject{Kind: rbacv1.ServiceAccountKind, Name: a.key.Name, Namespace: a.key.Namespace})
	}
	for _, w := range l.workloads {
		add(w.serviceAccount())
	}
	return out
}

// holdsAll tells whether subject a itself holds every error-level risk
// of an account, cluster-wide or in the same scope: acting as the account
// gives it nothing new.
func (l *linter) holdsAll(a Subject, needs []riskScope) bool {
	own := l.ownRisks(a)
	for _, n := range needs {
		if scopes := own[n.rule]; !scopes[""] && !scopes[n.scope] {
			return false
		}
	}
	return true
}

// riskScope is a risk rule held in a scope.
type riskScope struct{ rule, scope string }

// errorNeeds lists, once each, the error-level risks of an account with
// their scopes.
func errorNeeds(risks []heldRisk) []riskScope {
	var out []riskScope
	for _, r := range risks {
		if n := (riskScope{r.base, r.h.scope()}); r.sev == SeverityError && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// ownRisks maps each risk rule a subject's own bindings grant it to the
// scopes it holds it in.
func (l *linter) ownRisks(a Subject) map[string]map[string]bool {
	if own, done := l.ownMemo[a]; done {
		return own
	}
	own := map[string]map[string]bool{}
	for _, h := range l.bySubjectHoldings(a) {
		for _, ri := range l.hits[ruleKey{h.role, h.index}] {
			if _, _, ok := l.weigh(l.risks[ri], h.scope()); ok {
				rule := l.risks[ri].Rule
				if own[rule] == nil {
					own[rule] = map[string]bool{}
				}
				own[rule][h.scope()] = true
			}
		}
	}
	l.ownMemo[a] = own
	return own
}

func (l *linter) bySubjectHoldings(s Subject) []holding {
	l.indexHoldings()
	return l.bySubject[s]
}
