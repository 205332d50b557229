package rules

import (
	"testing"
)

// A catalogue file is edited by hand: any bytes give an engine or an
// error naming the file, never a crash.
func FuzzParse(f *testing.F) {
	f.Add(defaultCatalogue)
	for _, s := range []string{"categories: []", "categories:\n  - key: x\n    resolution: 3d\n", "{", "categories:\n  - key: a.b\n    keywords: {8: [x]}\n    group: g\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse("fuzz.yaml", data)
		if err == nil && e == nil {
			t.Fatal("no engine and no error")
		}
		if e != nil {
			e.Classify(Message{Subject: "No conecta la VPN", Body: "impresora silla"})
		}
	})
}
