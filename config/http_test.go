package config

import (
	"strings"
	"testing"
	"time"
)

func TestHTTPDefaults(t *testing.T) {
	h := Default().HTTP
	if h.AdminListen != "127.0.0.1:9090" || h.ProxyHeader != "x-forwarded-for" || len(h.TrustedProxies) != 0 ||
		h.ReadHeaderTimeout != 10*time.Second || h.ReadTimeout != 30*time.Second || h.WriteTimeout != 60*time.Second ||
		h.IdleTimeout != 120*time.Second || h.MaxHeaderBytes != 64<<10 {
		t.Errorf("got %+v", h)
	}
}

func TestHTTPValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		key  string // "" valid
	}{
		{"admin disabled", []string{"MESA_HTTP_ADMIN_LISTEN="}, ""},
		{"admin not host:port", []string{"MESA_HTTP_ADMIN_LISTEN=9090"}, "http.admin_listen"},
		{"admin on the public listener", []string{"MESA_HTTP_ADMIN_LISTEN=127.0.0.1:8080"}, "http.admin_listen"},
		{"cert without key", []string{"MESA_HTTP_TLS_CERT_FILE=/etc/mesa/cert.pem"}, "http.tls_cert_file"},
		{"key without cert", []string{"MESA_HTTP_TLS_KEY_FILE=/etc/mesa/key.pem"}, "http.tls_cert_file"},
		{"proxies", []string{"MESA_HTTP_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.7,2001:db8::/32"}, ""},
		{"bad proxy", []string{"MESA_HTTP_TRUSTED_PROXIES=10.0.0.0/33"}, "http.trusted_proxies"},
		{"forwarded", []string{"MESA_HTTP_PROXY_HEADER=forwarded"}, ""},
		{"bad header", []string{"MESA_HTTP_PROXY_HEADER=x-real-ip"}, "http.proxy_header"},
		{"no idle timeout", []string{"MESA_HTTP_IDLE_TIMEOUT=0s"}, "http.idle_timeout"},
		{"tiny read timeout", []string{"MESA_HTTP_READ_TIMEOUT=10ms"}, "http.read_timeout"},
		{"tiny header limit", []string{"MESA_HTTP_MAX_HEADER_BYTES=100"}, "http.max_header_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", tc.env)
			switch {
			case tc.key == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tc.key != "" && (err == nil || !strings.Contains(err.Error(), tc.key)):
				t.Errorf("got %v, want a problem naming %s", err, tc.key)
			}
		})
	}
	cfg, _ := Load("", []string{"MESA_HTTP_TRUSTED_PROXIES=10.1.2.3/8,192.0.2.7,::ffff:192.0.2.8"})
	ps, err := cfg.HTTP.TrustedProxyPrefixes()
	if err != nil || len(ps) != 3 || ps[0].String() != "10.0.0.0/8" || ps[1].String() != "192.0.2.7/32" || ps[2].String() != "192.0.2.8/32" {
		t.Errorf("got %v %v, want [10.0.0.0/8 192.0.2.7/32 192.0.2.8/32]", ps, err)
	}
}
