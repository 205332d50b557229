package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRedactURL: no shape of database URL prints its password, and what
// is not secret stays readable.
func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string   // exact output, when set
		keep     []string // substrings that must survive
	}{
		{"userinfo", "postgres://mesa:s3cr3t@db.x.co:5432/mesa?sslmode=require",
			"postgres://mesa:(redacted)@db.x.co:5432/mesa?sslmode=require", nil},
		{"postgresql scheme", "postgresql://mesa:s3cr3t@db/mesa", "postgresql://mesa:(redacted)@db/mesa", nil},
		{"no password", "postgres://mesa@db/mesa", "postgres://mesa@db/mesa", nil},
		{"query password", "postgres://db/mesa?user=mesa&password=s3cr3t&sslmode=verify-full",
			"postgres://db/mesa?user=mesa&password=(redacted)&sslmode=verify-full", nil},
		{"query password upper case", "postgres://db/mesa?PassWord=s3cr3t", "postgres://db/mesa?PassWord=(redacted)", nil},
		{"query sslpassword", "postgres://db/mesa?sslpassword=s3cr3t&sslmode=require", "postgres://db/mesa?sslpassword=(redacted)&sslmode=require", nil},
		{"query name percent-encoded", "postgres://db/mesa?pass%77ord=s3cr3t", "postgres://db/mesa?pass%77ord=(redacted)", nil},
		{"query name badly encoded", "postgres://db/mesa?pass%zzord=s3cr3t&sslmode=disable", "", []string{"sslmode=disable"}},
		{"both", "postgres://mesa:s3cr3t@db/mesa?password=s3cr3t", "postgres://mesa:(redacted)@db/mesa?password=(redacted)", nil},
		{"slash in password: does not parse", "postgres://mesa:s3c/r3t@db/mesa", "postgres://(redacted)", nil},
		{"at and colon in password: does not parse", "postgres://mesa:s3:c@r3t@db:x/mesa", "postgres://(redacted)", nil},
		{"control character", "postgres://mesa:s3cr3t@db/mesa\x7f", "postgres://(redacted)", nil},
		{"fragment", "postgres://db/mesa#s3cr3t", "postgres://db/mesa#(redacted)", nil},
		{"opaque", "postgres:mesa:s3cr3t@db", "postgres://(redacted)", nil},
		{"keyword DSN", "host=db user=mesa password=s3cr3t", Redacted, nil},
		{"unknown scheme", "mysql://mesa:s3cr3t@db/mesa", Redacted, nil},
		{"sqlite", "sqlite:/var/lib/mesa/mesa.db", "sqlite:/var/lib/mesa/mesa.db", nil},
		{"sqlite with a key pragma", "sqlite:mesa.db?_pragma_key=s3cr3t&_busy_timeout=5000",
			"sqlite:mesa.db?_pragma_key=(redacted)&_busy_timeout=5000", nil},
		{"empty", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactURL(tc.in)
			for _, leak := range []string{"s3cr3t", "s3c", "r3t"} {
				if strings.Contains(got, leak) {
					t.Errorf("got %q, which holds %q", got, leak)
				}
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("got %q, want it to keep %q", got, k)
				}
			}
		})
	}
}

// TestParseDatabaseURLErrorsHideSecrets: the error of a URL that does not
// parse names neither the URL nor any piece of it.
func TestParseDatabaseURLErrorsHideSecrets(t *testing.T) {
	for _, in := range []string{"postgres://mesa:s3c/r3t@db/mesa", "postgres://mesa:s3cr3t@db:port/mesa",
		"postgres://mesa:s3cr3t@db/mesa\x00", "host=db password=s3cr3t", "mysql://mesa:s3cr3t@db"} {
		_, _, err := ParseDatabaseURL(in)
		if err == nil {
			t.Errorf("%q: got nil error", in)
			continue
		}
		for _, leak := range []string{"s3cr3t", "s3c", "r3t"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%q: error %q holds %q", in, err, leak)
			}
		}
	}
}

// TestEverySecretIsRedacted sets every field tagged secret (directly and,
// where there is one, through its _file twin) to a distinct value and
// checks that none is printed. A new secret field must carry the tag:
// any field whose name says password, secret or token and is not a _file
// path fails the test without one.
func TestEverySecretIsRedacted(t *testing.T) {
	var env, secrets []string
	dir := t.TempDir()
	root := reflect.TypeOf(Config{})
	for i := 0; i < root.NumField(); i++ {
		sec := root.Field(i)
		if sec.Type.Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < sec.Type.NumField(); j++ {
			f := sec.Type.Field(j)
			key := yamlName(f)
			tag := f.Tag.Get("secret")
			if strings.HasSuffix(key, "_file") {
				continue
			}
			// _id, _url and _expires (oauth2_secret_expires, a date) name
			// no secret however they start.
			notSecret := strings.HasSuffix(key, "_id") || strings.HasSuffix(key, "_url") || strings.HasSuffix(key, "_expires")
			if secretName(key) && !notSecret && tag == "" && f.Type.Kind() == reflect.String {
				t.Errorf("%s.%s looks like a secret but has no secret tag", yamlName(sec), key)
			}
			if tag == "" {
				continue
			}
			v := "leak-" + yamlName(sec) + "-" + key
			if _, hasFile := sec.Type.FieldByNameFunc(func(n string) bool { return n == f.Name+"File" }); hasFile {
				p := filepath.Join(dir, key)
				if err := os.WriteFile(p, []byte(v+"-file\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				secrets = append(secrets, v+"-file")
				env = append(env, EnvName(yamlName(sec), key+"_file")+"="+p)
				continue
			}
			if tag == "url" {
				v = "postgres://mesa:" + v + "@db/mesa?password=" + v + "-q"
				secrets = append(secrets, "leak-"+yamlName(sec)+"-"+key)
			} else {
				secrets = append(secrets, v)
			}
			env = append(env, EnvName(yamlName(sec), key)+"="+v)
		}
	}
	if len(secrets) < 4 {
		t.Fatalf("found %d secrets, want at least the database URL and three passwords", len(secrets))
	}
	cfg, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(out), s) {
			t.Errorf("printed configuration holds %q:\n%s", s, out)
		}
	}
	if !strings.Contains(string(out), Redacted) {
		t.Errorf("printed configuration shows no %s:\n%s", Redacted, out)
	}
}
