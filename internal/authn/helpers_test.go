package authn

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
)

func replace(s, old, repl string) string { return strings.ReplaceAll(s, old, repl) }

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}

func pemCert(srv interface{ Certificate() *x509.Certificate }) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}
