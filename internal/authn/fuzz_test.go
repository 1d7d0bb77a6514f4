package authn

import (
	"os"
	"testing"
)

func FuzzParseCRLs(f *testing.F) {
	data, err := os.ReadFile("testdata/ca.crl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lists, err := ParseCRLs("fuzz", data)
		if err == nil && len(lists) == 0 {
			t.Fatal("no error and no CRL")
		}
	})
}
