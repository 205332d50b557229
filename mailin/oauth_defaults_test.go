package mailin

import (
	"slices"
	"testing"
)

// TestOAuth2MicrosoftDefaults: a tenant alone gives Microsoft's token URL
// and scope; what the operator set wins; without a tenant nothing is filled.
func TestOAuth2MicrosoftDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in        OAuth2
		wantURL   string
		wantScope []string
	}{
		{"tenant only", OAuth2{Tenant: "entidad.gov.co"},
			"https://login.microsoftonline.com/entidad.gov.co/oauth2/v2.0/token", []string{"https://outlook.office365.com/.default"}},
		{"tenant escaped", OAuth2{Tenant: "a/b"}, "https://login.microsoftonline.com/a%2Fb/oauth2/v2.0/token", []string{MicrosoftScope}},
		{"operator's url and scope win", OAuth2{Tenant: "t", TokenURL: "https://idp/token", Scopes: []string{"x"}},
			"https://idp/token", []string{"x"}},
		{"no tenant: nothing filled", OAuth2{TokenURL: "https://accounts.google.com/o/oauth2/token"},
			"https://accounts.google.com/o/oauth2/token", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.withDefaults()
			if got.TokenURL != tc.wantURL || !slices.Equal(got.Scopes, tc.wantScope) {
				t.Errorf("got %q %v, want %q %v", got.TokenURL, got.Scopes, tc.wantURL, tc.wantScope)
			}
		})
	}
}
