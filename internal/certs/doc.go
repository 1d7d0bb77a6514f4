// Package certs is kauth's X.509 core for Kubernetes: it creates CAs,
// issues client and server certificates, writes CSRs and
// certificates.k8s.io/v1 CertificateSigningRequests, signs them, revokes
// certificates into a CRL, and inspects and checks certificates, chains
// and kubeconfigs.
//
// Key generation, CSR creation and signing go through cloudflare/cfssl
// (csr, initca's CA policy, signer/local with one signing profile per
// usage, crl). Identities are encoded exactly as k8s.io/apiserver's x509
// CommonNameUserConversion reads them: the subject CommonName is the user
// and every Organization value is a group. Verification mirrors the
// apiserver's client-certificate check: a chain to the CA with the
// client-auth extended key usage at the current time.
//
// Every function takes the current time from its request, so callers
// inject the clock; nothing here prints, and files are written atomically
// (temporary file in the same folder, then rename or link) with private
// keys created 0600.
package certs
