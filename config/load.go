package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	Key  string // dotted key, e.g. imap.tls; or the env variable
	Line int    // line in the file, 0 when unknown or not from the file
	Msg  string
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", p.Key, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Key, p.Msg)
}

// Problems is every problem found, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads the file at path (none when empty) over the defaults, applies
// the MESA_* variables of env (as os.Environ returns them), reads *_file
// secrets and validates. A non-nil error is a Problems listing everything
// wrong; the returned Config is then still the best effort, for printing.
func Load(path string, env []string) (*Config, error) {
	cfg := Default()
	var ps Problems
	lines := map[string]int{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, Problems{{Key: "config", Msg: fmt.Sprintf("reading %s: %v", path, err)}}
		}
		ps = append(ps, decode(data, cfg, lines)...)
	}
	cfg.lines = lines
	ps = append(ps, applyEnv(cfg, env)...)
	ps = append(ps, cfg.readSecretFiles()...)
	for _, p := range cfg.validate() {
		if p.Line == 0 {
			p.Line = lines[p.Key]
		}
		ps = append(ps, p)
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool {
			if (ps[i].Line == 0) != (ps[j].Line == 0) {
				return ps[i].Line != 0
			}
			return ps[i].Line < ps[j].Line
		})
		return cfg, ps
	}
	return cfg, nil
}

// decode parses YAML into cfg. Unknown keys are reported with their dotted
// path and line (a typo must never be silently ignored); lines receives the
// line of every key for later validation messages.
func decode(data []byte, cfg *Config, lines map[string]int) Problems {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Problems{{Key: "config", Msg: err.Error()}}
	}
	if len(root.Content) == 0 {
		return nil // empty file: defaults
	}
	// Unknown keys are reported and dropped, so that the known ones still
	// decode and their invalid values are reported in the same run.
	ps := checkKeys(root.Content[0], reflect.TypeOf(*cfg), "", lines)
	if err := root.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				ps = append(ps, typeProblem(e, lines))
			}
			return ps
		}
		return append(ps, Problem{Key: "config", Msg: err.Error()})
	}
	return ps
}

// typeProblem turns "line 5: cannot unmarshal !!str `x` into int" into a
// Problem naming the key found on that line.
func typeProblem(e string, lines map[string]int) Problem {
	var line int
	if n, _ := fmt.Sscanf(e, "line %d:", &line); n != 1 {
		return Problem{Key: "config", Msg: e}
	}
	p := Problem{Key: "config", Line: line, Msg: strings.TrimSpace(e[strings.Index(e, ":")+1:])}
	for k, l := range lines {
		if l == line && (p.Key == "config" || len(k) > len(p.Key)) {
			p.Key = k // the most specific key on that line
		}
	}
	return p
}

// checkKeys walks a mapping node against the struct type t.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string, lines map[string]int) Problems {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var ps Problems
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.StructField{}
		var add func(t reflect.Type)
		add = func(t reflect.Type) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				switch _, opts, _ := strings.Cut(f.Tag.Get("yaml"), ","); {
				case !f.IsExported() || f.Tag.Get("yaml") == "-":
				case f.Anonymous && opts == "inline":
					add(f.Type) // the imap settings of a mailbox
				default:
					fields[yamlName(f)] = f
				}
			}
		}
		add(t)
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(prefix, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				ps = append(ps, Problem{Key: key, Line: k.Line, Msg: "unknown key"})
				continue
			}
			kept = append(kept, k, v)
			lines[key] = k.Line
			ps = append(ps, checkKeys(v, f.Type, key, lines)...)
		}
		n.Content = kept
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			key := fmt.Sprintf("%s[%d]", prefix, i)
			lines[key] = item.Line
			ps = append(ps, checkKeys(item, t.Elem(), key, lines)...)
		}
	}
	return ps
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// EnvName returns the variable that overrides a section's key:
// MESA_<SECTION>_<KEY>, upper-cased.
func EnvName(section, key string) string {
	return "MESA_" + strings.ToUpper(section) + "_" + strings.ToUpper(key)
}

// applyEnv sets every scalar and list-of-scalars key from its MESA_ variable.
// Lists are comma-separated. Lists of records (people, groups) come only from
// the file.
func applyEnv(cfg *Config, env []string) Problems {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "MESA_") {
			vars[k] = v
		}
	}
	var ps Problems
	known := map[string]bool{"MESA_CONFIG": true, "MESA_TEST_DATABASE_URL": true}
	root := reflect.ValueOf(cfg).Elem()
	for i := 0; i < root.NumField(); i++ {
		sec := root.Field(i)
		secName := yamlName(root.Type().Field(i))
		if sec.Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < sec.NumField(); j++ {
			key := yamlName(sec.Type().Field(j))
			name := EnvName(secName, key)
			known[name] = true
			v, ok := vars[name]
			if !ok {
				continue
			}
			if err := setScalar(sec.Field(j), v); err != nil {
				ps = append(ps, Problem{Key: name, Msg: err.Error()})
			}
		}
	}
	for k := range vars {
		if !known[k] {
			ps = append(ps, Problem{Key: k, Msg: "unknown variable (no such configuration key)"})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps
}

var durationType = reflect.TypeOf(time.Duration(0))

func setScalar(f reflect.Value, s string) error {
	switch {
	case f.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("not a duration (like 30s, 5m): %q", s)
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean (true or false): %q", s)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", s)
		}
		f.SetInt(n)
	case f.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		f.SetFloat(x)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// readSecretFiles reads password_file keys into their secret, trimming one
// trailing newline (files written by editors or `echo` end with one).
func (c *Config) readSecretFiles() Problems {
	var ps Problems
	type secretFile struct {
		key       string
		file      string
		secret    *string
		secretKey string
	}
	files := []secretFile{
		{"imap.password_file", c.IMAP.PasswordFile, &c.IMAP.Password, "imap.password"},
		{"smtp.password_file", c.SMTP.PasswordFile, &c.SMTP.Password, "smtp.password"},
		{"imap.oauth2_client_secret_file", c.IMAP.OAuth2ClientSecretFile, &c.IMAP.OAuth2ClientSecret, "imap.oauth2_client_secret"},
		{"auth.bounce_secret_file", c.Auth.BounceSecretFile, &c.Auth.BounceSecret, "auth.bounce_secret"},
		{"imap.client_secret_file", c.IMAP.ClientSecretFile, &c.IMAP.ClientSecret, "imap.client_secret"},
	}
	for i := range c.Mailboxes {
		m, key := &c.Mailboxes[i], fmt.Sprintf("mailboxes[%d].", i)
		files = append(files, secretFile{key + "password_file", m.PasswordFile, &m.Password, key + "password"},
			secretFile{key + "oauth2_client_secret_file", m.OAuth2ClientSecretFile, &m.OAuth2ClientSecret, key + "oauth2_client_secret"},
			secretFile{key + "client_secret_file", m.ClientSecretFile, &m.ClientSecret, key + "client_secret"})
	}
	for _, s := range files {
		if s.file == "" {
			continue
		}
		if *s.secret != "" {
			ps = append(ps, Problem{Key: s.key, Msg: "set together with " + s.secretKey + "; use one"})
			continue
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			ps = append(ps, Problem{Key: s.key, Msg: err.Error()})
			continue
		}
		*s.secret = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	return ps
}
