package web

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// Certificate is the public listener's TLS certificate, read from a PEM
// chain and key file. Reload reads them again and swaps the certificate
// atomically; GetCertificate hands out the current one, so a renewed
// certificate is served from the next handshake on, without a restart,
// and connections already open keep theirs.
type Certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificate reads the pair once; it fails when they do not load or
// do not match.
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	c := &Certificate{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On error the previous certificate stays
// in service.
func (c *Certificate) Reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("loading TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (c *Certificate) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// TLSConfig is the public listener's configuration: TLS 1.2 or later,
// the current certificate.
func (c *Certificate) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}
