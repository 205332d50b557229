package config

import (
	"net/url"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Redacted is the placeholder printed instead of a secret.
const Redacted = "(redacted)"

// Redacted returns a copy of c whose secrets (passwords, the password in the
// database URL) are replaced, for printing and logging.
func (c *Config) Redacted() *Config {
	r := *c
	r.People = append([]Person(nil), c.People...)
	r.Groups = append([]Group(nil), c.Groups...)
	r.Mailboxes = append([]Mailbox(nil), c.Mailboxes...)
	for i := range r.Mailboxes {
		redactStruct(reflect.ValueOf(&r.Mailboxes[i]).Elem())
	}
	redactStruct(reflect.ValueOf(&r).Elem())
	r.Database.URL = redactURL(c.Database.URL)
	return &r
}

func redactStruct(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			redactStruct(f)
			continue
		}
		if v.Type().Field(i).Tag.Get("secret") == "true" && f.Kind() == reflect.String && f.String() != "" {
			f.SetString(Redacted)
		}
	}
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// YAML renders the configuration, secrets redacted, in the file format.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c.Redacted())
}
