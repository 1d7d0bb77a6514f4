// Package rbacdiff computes what a change to RBAC does to effective
// permissions: per subject (user, group, service account), what is newly
// granted and what is revoked, merged into few readable lines, with the
// changes that grant what rbaclint calls risky marked as escalations, and
// which objects were added, removed or modified.
//
// Decisions come from the RBAC engine (internal/rbac): for each subject
// whose rules differ between the two sides in a scope, every request that
// a rule of either side could match is asked of both indexes. Requests
// are enumerated over the values the subject's rules name, plus one fresh
// value standing for every value they do not name (a rule compares
// strings only by equality, and URLs by prefix, so one fresh value
// decides for all of them).
package rbacdiff
