package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mesadeservicios/mesa/rules"
)

var testRoutes = []Route{
	{"ti.soporte", "soporte"}, {"ti.correo", "soporte"},
	{"ti.redes", "redes"}, {"ti.wifi", "redes"},
	{"ti.vpn", "infraestructura"},
	{"ti.sin_dueno", ""},
}

// found is the problem of key whose message contains all of want, or fails.
func found(t *testing.T, ps Problems, key string, want ...string) Problem {
	t.Helper()
	for _, p := range ps {
		if p.Key != key {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(p.Msg, w)
		}
		if ok {
			return p
		}
	}
	t.Fatalf("no problem on %s containing %q; got:\n%v", key, want, ps)
	return Problem{}
}

func TestCheckOrganisation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// key → line (0: not from the file) and words of the message.
		errs, warns map[string]struct {
			line  int
			words []string
		}
	}{
		{
			name: "complete",
			yaml: `groups:
  - key: soporte
  - key: redes
  - key: infraestructura
people:
  - {email: a@x.co, role: technician, level: 1, groups: [soporte, redes, infraestructura]}
  - {email: m@x.co, role: manager, groups: [soporte]}
  - {email: o@x.co, role: owner}
`,
		},
		{
			name: "missing group",
			yaml: `desk:
  name: Mesa
groups:
  - key: soporte
  - key: infraestructura
people:
  - {email: a@x.co, role: technician, level: 1, groups: [soporte, infraestructura]}
`,
			errs: map[string]struct {
				line  int
				words []string
			}{"groups": {3, []string{"group redes of the catalogue is missing", "ti.redes, ti.wifi"}}},
		},
		{
			name: "group without technicians",
			yaml: `groups:
  - key: soporte
  - key: redes
  - key: infraestructura
people:
  - {email: a@x.co, role: technician, level: 1, groups: [soporte, infraestructura]}
  - {email: m@x.co, role: manager, groups: [redes]}
`,
			errs: map[string]struct {
				line  int
				words []string
			}{"groups[1]": {3, []string{"group redes has no technician", "ti.redes, ti.wifi"}}},
		},
		{
			name: "no level-1 technician",
			yaml: `groups:
  - key: soporte
  - key: redes
  - key: infraestructura
people:
  - {email: a@x.co, role: technician, level: 1, groups: [soporte, redes]}
  - {email: C@x.co, role: technician, level: 2, groups: [infraestructura, redes]}
`,
			warns: map[string]struct {
				line  int
				words []string
			}{"groups[2]": {4, []string{"group infraestructura has no level-1 technician", "c@x.co"}}},
		},
		{
			name: "people without groups",
			yaml: `groups:
  - key: soporte
  - key: redes
  - key: infraestructura
people:
  - {email: a@x.co, role: technician, level: 1, groups: [soporte, redes, infraestructura]}
  - {email: m@x.co, role: manager}
  - {email: t@x.co, role: technician, level: 1}
`,
			warns: map[string]struct {
				line  int
				words []string
			}{
				"people[1]": {7, []string{"manager m@x.co has no groups", "whole desk"}},
				"people[2]": {8, []string{"technician t@x.co has no groups", "never assigned"}},
			},
		},
		{
			name: "nothing configured",
			yaml: "desk:\n  name: Mesa\n",
			warns: map[string]struct {
				line  int
				words []string
			}{"groups": {0, []string{"no groups and no people"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(writeFile(t, tc.yaml), nil)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			errs, warns := cfg.CheckOrganisation(testRoutes)
			for _, c := range []struct {
				what string
				got  Problems
				want map[string]struct {
					line  int
					words []string
				}
			}{{"errors", errs, tc.errs}, {"warnings", warns, tc.warns}} {
				if len(c.got) != len(c.want) {
					t.Errorf("got %d %s, want %d:\n%v", len(c.got), c.what, len(c.want), c.got)
				}
				for key, w := range c.want {
					p := found(t, c.got, key, w.words...)
					if p.Line != w.line {
						t.Errorf("%s: got line %d, want %d", key, p.Line, w.line)
					}
				}
			}
		})
	}
}

// Without a file (a Config built in code) the problems have no line.
func TestCheckOrganisationInCode(t *testing.T) {
	cfg := Default()
	cfg.Groups = []Group{{Key: "soporte"}}
	cfg.People = []Person{{Email: "a@x.co", Role: "technician", Level: 1, Groups: []string{"soporte"}}}
	errs, warns := cfg.CheckOrganisation(testRoutes)
	if len(errs) != 2 || len(warns) != 0 {
		t.Fatalf("got errors %v and warnings %v, want 2 errors (redes, infraestructura missing)", errs, warns)
	}
	for _, p := range errs {
		if p.Key != "groups" || p.Line != 0 {
			t.Errorf("got %+v, want key groups without a line", p)
		}
	}
	if !strings.Contains(errs[0].Msg, "redes") || !strings.Contains(errs[1].Msg, "infraestructura") {
		t.Errorf("got %v, want redes then infraestructura (catalogue order)", errs)
	}
}

// The example file must work the whole embedded catalogue, without warnings.
func TestExampleFileCoversCatalogue(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("../mesa.example.yaml", []string{"MESA_IMAP_PASSWORD_FILE=" + pw, "MESA_SMTP_PASSWORD_FILE=" + pw})
	if err != nil {
		t.Fatalf("mesa.example.yaml: %v", err)
	}
	eng, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	var routes []Route
	for _, k := range eng.Names() {
		c, _ := eng.Category(k)
		routes = append(routes, Route{Category: k, Group: c.Group})
	}
	if len(routes) < 40 {
		t.Fatalf("got %d catalogue categories, want the guide's 40 or more", len(routes))
	}
	errs, warns := cfg.CheckOrganisation(routes)
	if len(errs) > 0 || len(warns) > 0 {
		t.Errorf("mesa.example.yaml against the embedded catalogue:\nerrors:\n%v\nwarnings:\n%v", errs, warns)
	}
}
