package config

import "strings"

// validateGraph checks the keys of imap.provider: graph.
func (c *Config) validateGraph(bad func(key, format string, args ...any)) {
	g := c.IMAP
	if g.Host != "" {
		bad("imap.host", "is for provider imap; provider graph reaches graph.microsoft.com")
	}
	if strings.TrimSpace(g.TenantID) == "" {
		bad("imap.tenant_id", "provider graph needs the Microsoft 365 tenant (its id or domain)")
	}
	if strings.TrimSpace(g.ClientID) == "" {
		bad("imap.client_id", "provider graph needs the app registration's client id")
	}
	if !validAddress(g.User) {
		bad("imap.user", "provider graph needs the mailbox's address, got %q", g.User)
	}
	cert, key := g.ClientCertificateFile != "", g.ClientKeyFile != ""
	switch {
	case cert != key:
		bad("imap.client_key_file", "client_certificate_file and client_key_file go together")
	case cert && g.ClientSecret != "":
		bad("imap.client_secret", "set together with client_certificate_file; use one")
	case !cert && g.ClientSecret == "":
		bad("imap.client_secret", "provider graph needs client_secret (or client_secret_file) or client_certificate_file and client_key_file")
	}
	folder := strings.Trim(g.Folder, "/")
	if folder == "" {
		folder = "inbox"
	}
	for _, f := range []struct{ key, value, def string }{
		{"imap.processed_folder", g.ProcessedFolder, "Procesados"},
		{"imap.quarantine_folder", g.QuarantineFolder, "Cuarentena"},
	} {
		v := strings.Trim(f.value, "/")
		if v == "" {
			v = f.def
		}
		if strings.EqualFold(v, folder) {
			bad(f.key, "must differ from imap.folder (%s)", folder)
		}
	}
}

// validateOAuth2Provider checks imap.oauth2_provider and reports whether
// it is google (whose key file replaces token_url and client_id).
func (c *Config) validateOAuth2Provider(bad func(key, format string, args ...any)) bool {
	switch c.IMAP.OAuth2Provider {
	case "", "microsoft":
		if c.IMAP.OAuth2ServiceAccountFile != "" {
			bad("imap.oauth2_service_account_file", "is for oauth2_provider: google")
		}
		return false
	case "google":
		if c.IMAP.OAuth2ServiceAccountFile == "" {
			bad("imap.oauth2_service_account_file", "oauth2_provider google needs the service account's key file (JSON)")
		}
		if !validAddress(c.IMAP.Username) {
			bad("imap.username", "oauth2_provider google acts as this mailbox; it must be its address, got %q", c.IMAP.Username)
		}
		return true
	default:
		bad("imap.oauth2_provider", "must be microsoft or google, got %q", c.IMAP.OAuth2Provider)
		return true
	}
}
