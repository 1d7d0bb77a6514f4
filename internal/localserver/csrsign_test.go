package localserver

import "testing"

// FuzzParseCSR feeds spec.request bytes, which any user who may create a
// CertificateSigningRequest controls, to the signer's parser.
func FuzzParseCSR(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIHZMIGAAgEAMB4xDjAMBgNVBAMMBWNhcm9sMQwwCgYDVQQKDANkZXYwWTATBgcq\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte("not pem"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseCSR(data)
		if err == nil && req == nil {
			t.Fatal("parseCSR returned neither a request nor an error")
		}
	})
}
