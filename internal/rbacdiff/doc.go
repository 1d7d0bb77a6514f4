// Package rbacdiff computes what a change to RBAC does to effective
// permissions: per subject (user, group, service account), what is newly
// granted and what is revoked, merged into few readable lines, with the
// changes that grant what rbaclint calls risky marked as escalations, and
// which objects were added, removed or modified.
//
// For each subject whose rules differ between the two sides in a scope,
// the engine (internal/rbac) lists the rules that apply there on each
// side, exactly the rules its authorizer visits; every request that a
// rule only one side holds could match is then decided by those rules.
// Requests are enumerated over the values the changed rules name, plus
// one fresh value standing for every value they do not name (a rule
// compares strings only by equality, and URLs by prefix, so one fresh
// value decides for all of them).
//
// Rules are compiled once per diff over interned values and matched as
// upstream's RuleAllows does; the work of a change is shared by every
// subject that holds it, and subjects are diffed on every core.
package rbacdiff
