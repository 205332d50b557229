package config

import (
	"strings"
	"unicode"
)

// Web configures the look of the public pages (status, survey, Mis
// solicitudes).
type Web struct {
	// GovCo shows the GOV.CO top bar and footer that Colombian government
	// web pages carry (Resolución MinTIC 1519 de 2020, anexo 1); it needs
	// the entity's contact data below, which the footer shows.
	GovCo bool `yaml:"govco"`
	// The entity's contact data in every page's footer; shown when
	// entity_name is set, whether or not govco is on.
	EntityName    string `yaml:"entity_name"`
	EntityAddress string `yaml:"entity_address"`
	EntityPhone   string `yaml:"entity_phone"`
	EntityHours   string `yaml:"entity_hours"` // service hours, as people read them
	EntityEmail   string `yaml:"entity_email"`
}

// maxWebText bounds each footer field: one line of a footer.
const maxWebText = 200

// validateWeb checks the web keys.
func (c *Config) validateWeb(bad func(key, format string, args ...any)) {
	w := c.Web
	fields := []struct {
		key, value string
	}{
		{"web.entity_name", w.EntityName}, {"web.entity_address", w.EntityAddress}, {"web.entity_phone", w.EntityPhone},
		{"web.entity_hours", w.EntityHours}, {"web.entity_email", w.EntityEmail},
	}
	for _, f := range fields {
		switch {
		case w.GovCo && strings.TrimSpace(f.value) == "":
			bad(f.key, "is needed with web.govco: true (the GOV.CO footer shows the entity's name, address, phone, hours and e-mail)")
		case len(f.value) > maxWebText:
			bad(f.key, "must be at most %d characters, got %d", maxWebText, len(f.value))
		case strings.ContainsFunc(f.value, unicode.IsControl):
			bad(f.key, "must be one line of text, got %q", f.value)
		}
	}
	if w.EntityEmail != "" && !validAddress(w.EntityEmail) {
		bad("web.entity_email", "not an e-mail address: %q", w.EntityEmail)
	}
	if w.EntityName == "" && (w.EntityAddress != "" || w.EntityPhone != "" || w.EntityHours != "" || w.EntityEmail != "") {
		bad("web.entity_name", "is needed with the other web.entity_ keys (the footer shows them under it)")
	}
}
