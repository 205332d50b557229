package config

import (
	"os"
	"testing"
)

// The configuration file is the operator's, but a typo must give problems
// with keys, never a crash.
func FuzzDecode(f *testing.F) {
	if b, err := os.ReadFile("../mesa.example.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{"desk:\n  addresses: [a@b.co]\n", "imap: {port: -1}", "jobs:\n  digest: 5\n", ": :", "sla:\n  warn_at: 2\n  workdays: lunes"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		ps := decode(data, cfg, map[string]int{})
		for _, p := range ps {
			if p.Msg == "" {
				t.Fatalf("a problem without a message: %+v", p)
			}
		}
		cfg.validate() // must not panic on whatever was decoded
	})
}
