package web

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mesadeservicios/mesa/internal/i18n"
)

// Every word a page template names ($t.key or .T.key) is in the catalogue,
// in both languages.
func TestTemplateWordsInCatalogue(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("templates", "*.html"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	re := regexp.MustCompile(`(?:\$t|\.T)\.([A-Za-z_]+)`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			for _, lang := range i18n.Langs {
				if _, err := i18n.Text(lang, m[1]); err != nil {
					t.Errorf("%s: %v", filepath.Base(f), err)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d words in the templates; the pattern misses them", n)
	}
}
