package config

import (
	"net/url"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Redacted is the placeholder printed instead of a secret.
const Redacted = "(redacted)"

// Redacted returns a copy of c whose secrets (fields tagged secret:"true",
// and the password in URLs tagged secret:"url") are replaced, for printing
// and logging.
func (c *Config) Redacted() *Config {
	r := *c
	r.People = append([]Person(nil), c.People...)
	r.Groups = append([]Group(nil), c.Groups...)
	r.Mailboxes = append([]Mailbox(nil), c.Mailboxes...)
	for i := range r.Mailboxes {
		redactStruct(reflect.ValueOf(&r.Mailboxes[i]).Elem())
	}
	redactStruct(reflect.ValueOf(&r).Elem())
	return &r
}

func redactStruct(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			redactStruct(f)
			continue
		}
		if f.Kind() != reflect.String || f.String() == "" {
			continue
		}
		switch v.Type().Field(i).Tag.Get("secret") {
		case "true":
			f.SetString(Redacted)
		case "url":
			f.SetString(RedactURL(f.String()))
		}
	}
}

// RedactURL returns a database URL fit to print: the password of its
// userinfo and the values of query parameters that name a secret
// (password=, sslpassword=, …) are replaced by Redacted. A URL that does
// not parse, or is not sqlite: or postgres(ql)://, may hold a password
// anywhere, so all of it but the scheme is replaced.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "sqlite", "postgres", "postgresql":
	default:
		if s == "" {
			return ""
		}
		return Redacted
	}
	if !ok {
		return Redacted
	}
	if strings.EqualFold(scheme, "sqlite") {
		path, query, hasQuery := strings.Cut(rest, "?")
		if !hasQuery {
			return s
		}
		return scheme + ":" + path + "?" + redactQuery(query)
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return scheme + "://" + Redacted
	}
	out := u.Scheme + "://"
	if u.User != nil {
		out += url.PathEscape(u.User.Username())
		if _, has := u.User.Password(); has {
			out += ":" + Redacted
		}
		out += "@"
	}
	out += u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + redactQuery(u.RawQuery)
	}
	if u.Fragment != "" {
		out += "#" + Redacted
	}
	return out
}

// redactQuery replaces the values of parameters whose name holds pass,
// pwd, secret, token or key.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			parts[i] = Redacted
			continue
		}
		if !secretName(name) {
			continue
		}
		if hasValue {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

func secretName(name string) bool {
	name = strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// YAML renders the configuration, secrets redacted, in the file format.
func (c *Config) YAML() ([]byte, error) {
	return yaml.Marshal(c.Redacted())
}
