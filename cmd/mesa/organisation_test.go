package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mesa check reads the catalogue's groups and refuses a configuration that
// leaves some of them without a group or a technician, naming the key and
// the line; warnings do not change the exit code.
func TestCheckOrganisation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A catalogue of two categories, owned by soporte and redes.
	cat := write("cat.yaml", `threshold: 1
categories:
  - key: ti.correo
    name: Correo
    area: ti
    group: soporte
    resolution: 8h
    keywords: {3: [correo]}
  - key: ti.redes
    name: Redes
    area: ti
    group: redes
    resolution: 8h
    keywords: {3: [red]}
`)
	tests := []struct {
		name       string
		yaml       string
		code       int
		wantErrs   []string
		wantWarns  []string
		wantOutput bool
	}{
		{
			name: "missing group",
			yaml: "rules:\n  file: " + cat + "\ngroups:\n  - key: soporte\npeople:\n" +
				"  - {email: a@x.co, role: technician, level: 1, groups: [soporte]}\n",
			code:     2,
			wantErrs: []string{"groups (line 3): group redes of the catalogue is missing: tickets of ti.redes"},
		},
		{
			name: "group without technician, manager without groups",
			yaml: "rules:\n  file: " + cat + "\ngroups:\n  - key: soporte\n  - key: redes\npeople:\n" +
				"  - {email: a@x.co, role: technician, level: 1, groups: [soporte]}\n" +
				"  - {email: m@x.co, role: manager}\n",
			code:      2,
			wantErrs:  []string{"groups[1] (line 5): group redes has no technician"},
			wantWarns: []string{"people[1] (line 8): manager m@x.co has no groups"},
		},
		{
			name: "only warnings",
			yaml: "rules:\n  file: " + cat + "\ngroups:\n  - key: soporte\n  - key: redes\npeople:\n" +
				"  - {email: a@x.co, role: technician, level: 1, groups: [soporte]}\n" +
				"  - {email: b@x.co, role: technician, level: 2, groups: [redes]}\n",
			code:       0,
			wantWarns:  []string{"groups[1] (line 5): group redes has no level-1 technician for first contact (only level 2: b@x.co)"},
			wantOutput: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := write("mesa.yaml", tc.yaml)
			code, out, errs := runCLI(t, nil, "check", "--config", p)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if tc.wantErrs != nil && !strings.Contains(errs, "configuration error(s)") {
				t.Errorf("no error header in:\n%s", errs)
			}
			if tc.wantWarns != nil && !strings.Contains(errs, "configuration warning(s)") {
				t.Errorf("no warning header in:\n%s", errs)
			}
			for _, w := range append(tc.wantErrs, tc.wantWarns...) {
				if !strings.Contains(errs, "  "+w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if got := strings.Contains(out, "# effective configuration"); got != tc.wantOutput {
				t.Errorf("configuration printed: got %v, want %v", got, tc.wantOutput)
			}
		})
	}
}

// The example configuration passes mesa check against the embedded
// catalogue with neither errors nor warnings.
func TestCheckExampleFile(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("x\n"), 0o600)
	code, out, errs := runCLI(t, []string{"MESA_IMAP_PASSWORD_FILE=" + pw, "MESA_SMTP_PASSWORD_FILE=" + pw},
		"check", "--config", "../../mesa.example.yaml")
	if code != 0 || errs != "" || !strings.Contains(out, "key: mantenimiento") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
}
