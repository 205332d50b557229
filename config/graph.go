package config

import (
	"net"
	"net/url"
	"strings"
)

// validateGraph checks the keys of provider: graph of the mailbox at key
// (imap, or mailboxes[i]).
func validateGraph(bad func(key, format string, args ...any), key string, g IMAP) {
	if g.Host != "" {
		bad(key+".host", "is for provider imap; provider graph reaches graph.microsoft.com")
	}
	if strings.TrimSpace(g.TenantID) == "" {
		bad(key+".tenant_id", "provider graph needs the Microsoft 365 tenant (its id or domain)")
	}
	if strings.TrimSpace(g.ClientID) == "" {
		bad(key+".client_id", "provider graph needs the app registration's client id")
	}
	if !validAddress(g.User) {
		bad(key+".user", "provider graph needs the mailbox's address, got %q", g.User)
	}
	cert, keyFile := g.ClientCertificateFile != "", g.ClientKeyFile != ""
	switch {
	case cert != keyFile:
		bad(key+".client_key_file", "client_certificate_file and client_key_file go together")
	case cert && g.ClientSecret != "":
		bad(key+".client_secret", "set together with client_certificate_file; use one")
	case !cert && g.ClientSecret == "":
		bad(key+".client_secret", "provider graph needs client_secret (or client_secret_file) or client_certificate_file and client_key_file")
	}
	for _, f := range []struct{ key, value string }{{key + ".graph_url", g.GraphURL}, {key + ".oauth2_token_url", g.OAuth2TokenURL}} {
		if f.value != "" && !endpointURL(f.value) {
			bad(f.key, "must be an https URL (http only on loopback), got %q", f.value)
		}
	}
	folder := strings.Trim(g.Folder, "/")
	if folder == "" {
		folder = "inbox"
	}
	for _, f := range []struct{ key, value, def string }{
		{key + ".processed_folder", g.ProcessedFolder, "Procesados"},
		{key + ".quarantine_folder", g.QuarantineFolder, "Cuarentena"},
	} {
		v := strings.Trim(f.value, "/")
		if v == "" {
			v = f.def
		}
		if strings.EqualFold(v, folder) {
			bad(f.key, "must differ from %s.folder (%s)", key, folder)
		}
	}
}

// validateOAuth2Provider checks the oauth2_provider of the mailbox at key
// and reports whether it is google (whose key file replaces token_url and
// client_id).
func validateOAuth2Provider(bad func(key, format string, args ...any), key string, m IMAP) bool {
	switch m.OAuth2Provider {
	case "", "microsoft":
		if m.OAuth2ServiceAccountFile != "" {
			bad(key+".oauth2_service_account_file", "is for oauth2_provider: google")
		}
		return false
	case "google":
		if m.OAuth2ServiceAccountFile == "" {
			bad(key+".oauth2_service_account_file", "oauth2_provider google needs the service account's key file (JSON)")
		}
		if !validAddress(m.Username) {
			bad(key+".username", "oauth2_provider google acts as this mailbox; it must be its address, got %q", m.Username)
		}
		return true
	default:
		bad(key+".oauth2_provider", "must be microsoft or google, got %q", m.OAuth2Provider)
		return true
	}
}

// endpointURL tells an absolute https URL, or an http one on loopback (a
// test server).
func endpointURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		ip := net.ParseIP(h)
		return h == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return false
}
