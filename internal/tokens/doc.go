// Package tokens writes, reads, checks and decodes the bearer tokens
// kube-apiserver accepts: static token files (--token-auth-file),
// bootstrap-token Secrets and service-account JWTs.
//
// Every reader mirrors kube-apiserver v1.37: the static token file is read
// as k8s.io/apiserver's tokenfile.NewCSV reads it (encoding/csv, any number
// of columns, token,user,uid[,groups], a later duplicate token wins),
// bootstrap tokens follow k8s.io/cluster-bootstrap and the bootstrap token
// authenticator, and service-account JWTs carry the claims of bound
// tokens issued through the TokenRequest API. The package never prints;
// results are plain structs ready for rendering, and tokens are never part
// of an error message.
package tokens
