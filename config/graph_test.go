package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func keysOf(ps Problems) []string {
	var ks []string
	for _, p := range ps {
		ks = append(ks, p.Key)
	}
	slices.Sort(ks)
	return ks
}

func TestGraphMailbox(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	for _, tc := range []struct {
		name string
		yaml string
		env  []string
		want []string // problem keys; nil: valid
	}{
		{"secret from a file", "imap:\n  provider: graph\n  tenant_id: entidad.onmicrosoft.com\n  client_id: 11111111-2222-3333-4444-555555555555\n  user: mesa@entidad.gov.co\nsmtp:\n  provider: graph\n",
			[]string{"MESA_IMAP_CLIENT_SECRET_FILE=" + secret}, nil},
		{"certificate", "imap:\n  provider: graph\n  tenant_id: t\n  client_id: c\n  user: mesa@entidad.gov.co\n  client_certificate_file: /etc/mesa/app.crt\n  client_key_file: /etc/mesa/app.key\n  folder: Inbox/Mesa\n  processed_folder: Inbox/Mesa/Procesados\n",
			nil, nil},
		{"nothing but the provider", "imap:\n  provider: graph\n", nil,
			[]string{"imap.client_id", "imap.client_secret", "imap.tenant_id", "imap.user"}},
		{"secret and certificate, host set, folders clash", "imap:\n  provider: graph\n  host: outlook.office365.com\n  tenant_id: t\n  client_id: c\n  user: mesa@entidad.gov.co\n  client_secret: x\n  client_certificate_file: a.crt\n  client_key_file: a.key\n  folder: Procesados\n",
			nil, []string{"imap.client_secret", "imap.host", "imap.processed_folder"}},
		{"certificate without its key", "imap:\n  provider: graph\n  tenant_id: t\n  client_id: c\n  user: mesa@entidad.gov.co\n  client_certificate_file: a.crt\n",
			nil, []string{"imap.client_key_file"}},
		{"unknown provider", "imap:\n  provider: ews\nsmtp:\n  provider: ses\n", nil, []string{"imap.provider", "smtp.provider"}},
		{"graph sending without a graph mailbox", "smtp:\n  provider: graph\n", nil, []string{"smtp.provider"}},
		{"from the environment", "", []string{"MESA_IMAP_PROVIDER=graph", "MESA_IMAP_TENANT_ID=t", "MESA_IMAP_CLIENT_ID=c",
			"MESA_IMAP_USER=mesa@entidad.gov.co", "MESA_IMAP_CLIENT_SECRET=s"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, tc.yaml), tc.env)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				if cfg.IMAP.Provider != "graph" || cfg.IMAP.ClientSecret == "" && cfg.IMAP.ClientCertificateFile == "" {
					t.Errorf("got %+v", cfg.IMAP)
				}
				return
			}
			if got := keysOf(problems(t, err)); !slices.Equal(got, tc.want) {
				t.Errorf("problems: got %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
	cfg, _ := Load(writeFile(t, "imap:\n  provider: graph\n  client_secret: s3cret\n"), nil)
	if y, _ := cfg.YAML(); strings.Contains(string(y), "s3cret") {
		t.Errorf("client_secret printed: %s", y)
	}
	cfg, err := Load(writeFile(t, "imap:\n  provider: graph\n  tenant_id: t\n  client_id: c\n  user: mesa@entidad.gov.co\n"),
		[]string{"MESA_IMAP_CLIENT_SECRET_FILE=" + secret})
	if err != nil || cfg.IMAP.ClientSecret != "s3cret" {
		t.Errorf("client_secret_file: got %q, %v; want the file's secret without its newline", cfg.IMAP.ClientSecret, err)
	}
}

func TestGoogleServiceAccountConfig(t *testing.T) {
	base := "imap:\n  host: imap.gmail.com\n  auth: xoauth2\n  oauth2_provider: google\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"valid", base + "  username: mesa@entidad.gov.co\n  oauth2_service_account_file: /etc/mesa/sa.json\n", nil},
		{"no key file, username not an address", base + "  username: mesa\n", []string{"imap.oauth2_service_account_file", "imap.username"}},
		{"key file for microsoft", "imap:\n  host: outlook.office365.com\n  auth: xoauth2\n  username: mesa@entidad.gov.co\n  oauth2_tenant: t\n  oauth2_client_id: c\n  oauth2_service_account_file: sa.json\n",
			[]string{"imap.oauth2_service_account_file"}},
		{"unknown provider", "imap:\n  host: x\n  auth: xoauth2\n  username: mesa@entidad.gov.co\n  oauth2_provider: yahoo\n", []string{"imap.oauth2_provider"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tc.yaml), nil)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if got := keysOf(problems(t, err)); !slices.Equal(got, tc.want) {
				t.Errorf("problems: got %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

// TestGraphAndGoogleInMailboxes: entries of mailboxes are checked as the
// imap section is, under their own keys; a Graph mailbox's secret file is
// read and redacted; smtp.provider graph needs the mailbox serving
// smtp.from to be a Graph one.
func TestGraphAndGoogleInMailboxes(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	const graph = "  - name: ti\n    address: mesa@entidad.gov.co\n    provider: graph\n    tenant_id: t\n    client_id: c\n    user: mesa@entidad.gov.co\n    client_secret_file: " + "SECRET" + "\n"
	const google = "  - name: ops\n    address: ops@entidad.gov.co\n    host: imap.gmail.com\n    username: ops@entidad.gov.co\n    auth: xoauth2\n    oauth2_provider: google\n    oauth2_service_account_file: /etc/mesa/sa.json\n"
	for _, tc := range []struct {
		name string
		yaml string
		want []string // problem keys; nil: valid
	}{
		{"a graph and a google mailbox, sending by graph", "mailboxes:\n" + graph + google + "smtp:\n  provider: graph\n  from: mesa@entidad.gov.co\n", nil},
		{"sending by graph as the google mailbox", "mailboxes:\n" + graph + google + "smtp:\n  provider: graph\n  from: ops@entidad.gov.co\n",
			[]string{"smtp.provider"}},
		{"a graph mailbox missing its app", "mailboxes:\n  - name: ti\n    address: mesa@entidad.gov.co\n    provider: graph\n    graph_url: http://graph.example.com/v1.0\n",
			[]string{"mailboxes[0].client_id", "mailboxes[0].client_secret", "mailboxes[0].graph_url", "mailboxes[0].tenant_id", "mailboxes[0].user"}},
		{"a google mailbox missing its key file", "mailboxes:\n  - name: ops\n    address: ops@entidad.gov.co\n    host: imap.gmail.com\n    username: ops\n    auth: xoauth2\n    oauth2_provider: google\n",
			[]string{"mailboxes[0].oauth2_service_account_file", "mailboxes[0].username"}},
		{"an unknown provider", "mailboxes:\n  - name: ti\n    address: mesa@entidad.gov.co\n    host: h\n    username: u\n    provider: ews\n",
			[]string{"mailboxes[0].provider"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, strings.ReplaceAll(tc.yaml, "SECRET", secret)), nil)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				l := cfg.MailboxList()
				if len(l) != 2 || l[0].ClientSecret != "s3cret" || l[1].OAuth2Provider != "google" {
					t.Errorf("mailboxes: got %+v", l)
				}
				if y, _ := cfg.YAML(); strings.Contains(string(y), "s3cret") {
					t.Errorf("a mailbox's client_secret printed: %s", y)
				}
				return
			}
			if got := keysOf(problems(t, err)); !slices.Equal(got, tc.want) {
				t.Errorf("problems: got %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}
