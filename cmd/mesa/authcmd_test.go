package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden verdicts of mesa auth explain")

// explainGolden is a provider sample's expected verdict: the auth section
// it is explained under, and what `mesa auth explain --json` says.
type explainGolden struct {
	Auth struct {
		Provider          string `json:"provider"`
		TrustedAuthServID string `json:"trusted_authserv_id,omitempty"`
		TenantID          string `json:"tenant_id,omitempty"`
	} `json:"auth"`
	Verdict *explainLine `json:"verdict"`
}

// TestAuthExplainGolden runs `mesa auth explain --json` on every provider
// sample of mailin/testdata/auth under the provider its golden file names
// and compares the verdict. -update rewrites the verdicts: review the diff.
func TestAuthExplainGolden(t *testing.T) {
	samples, err := filepath.Glob("../../mailin/testdata/auth/*.eml")
	if err != nil || len(samples) < 20 {
		t.Fatalf("samples: %v %v", samples, err)
	}
	authenticated := map[bool]int{}
	for _, eml := range samples {
		name := strings.TrimSuffix(filepath.Base(eml), ".eml")
		t.Run(name, func(t *testing.T) {
			gpath := strings.TrimSuffix(eml, ".eml") + ".explain.json"
			b, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v: every sample needs the provider it is explained under", err)
			}
			var g explainGolden
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "mesa.yaml")
			yaml := "desk:\n  addresses: [mesa@entidad.gov.co, soporte@entidad.gov.co]\nauth:\n  provider: " + g.Auth.Provider + "\n"
			if g.Auth.TrustedAuthServID != "" {
				yaml += "  trusted_authserv_id: " + g.Auth.TrustedAuthServID + "\n"
			}
			if g.Auth.TenantID != "" {
				yaml += "  tenant_id: " + g.Auth.TenantID + "\n"
			}
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"auth", "explain", "--config", cfg, "--json", eml}, &out, &errb, nil); code != exitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var raw map[string]any
			if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			keys := []string{}
			for k := range raw {
				keys = append(keys, k)
			}
			if len(raw) != 6 {
				t.Errorf("JSON fields: got %v, want exactly file, from, identity, authenticated, rule, reason", keys)
			}
			var got explainLine
			json.Unmarshal(out.Bytes(), &got)
			if got.File != eml {
				t.Errorf("file: got %q, want %q", got.File, eml)
			}
			got.File = filepath.Base(eml)
			if *update {
				g.Verdict = &got
				b, _ := json.MarshalIndent(g, "", " ")
				if err := os.WriteFile(gpath, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if g.Verdict == nil || *g.Verdict != got {
				t.Errorf("verdict:\n got %+v\nwant %+v", got, g.Verdict)
			}
			authenticated[got.Authenticated]++
		})
	}
	if !*update && (authenticated[true] < 5 || authenticated[false] < 10) {
		t.Errorf("the samples must hold positives and negatives: got %v", authenticated)
	}
}

func TestAuthExplainText(t *testing.T) {
	var out, errb bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "mesa.yaml")
	os.WriteFile(cfg, []byte("auth:\n  provider: microsoft365\n"), 0o600)
	code := run(context.Background(), []string{"auth", "explain", "--config", cfg, "../../mailin/testdata/auth/eop-external-pass.eml",
		"../../mailin/testdata/auth/eop-forged-lower-pass.eml"}, &out, &errb, nil)
	s := out.String()
	if code != exitOK || !strings.Contains(s, "provider microsoft365") || !strings.Contains(s, "identity luis@proveedor.com.co: authenticated by rule eop-dmarc-compauth") ||
		!strings.Contains(s, "identity carlos@entidad.gov.co: NOT authenticated by rule no-pass") {
		t.Errorf("exit %d, output:\n%s%s", code, s, errb.String())
	}
	if code := run(context.Background(), []string{"auth", "explain"}, &out, &errb, nil); code != exitConfig {
		t.Errorf("no files: exit %d, want %d", code, exitConfig)
	}
}
