package desk_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// spanishAllowed are the string literals of package desk that may hold
// Spanish letters: none is text a person reads from the desk. Each is
// keyed by file and literal (its value, unquoted), with the reason.
var spanishAllowed = map[[2]string]string{
	// Log attribute values for operators ("no survey", reason=…): out of
	// the catalogue by the rule that logs are not translated.
	{"survey.go", "el solicitante es una dirección automática"}:                           "log attribute value (why no survey was sent)",
	{"survey.go", "reabierto y cerrado de nuevo antes de 7 días de la encuesta anterior"}: "log attribute value (why no survey was sent)",
	// Parsed input: what a requester's survey answer by mail may start
	// with, matched in both languages.
	{"survey.go", "¡¿\"'«(*"}:                                       "parsed input: opening punctuation trimmed off a survey answer",
	{"survey.go", `(?i)^(?:([1-5])(?:\s*/\s*5)?|(s[ií]|yes)|(no))`}: "parsed input: the survey answer words (sí/si/yes/no)",
}

// spanishLetters are the letters only Spanish text holds among desk's
// literals: accented vowels, ñ, ü, and the opening ¿ ¡.
const spanishLetters = "áéíóúÁÉÍÓÚñÑüÜ¿¡"

// Every text package desk writes for people comes from internal/i18n, in
// the reader's language: a string literal with Spanish letters in a
// non-test file is a text hard-coded in Spanish, which an English desk
// would send as it is. Only the allowlisted literals, none of them read by
// people, may have them.
func TestNoHardCodedSpanish(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen, parsed := map[[2]string]bool{}, 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		parsed++
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
				return true
			}
			if !strings.ContainsAny(v, spanishLetters) {
				return true
			}
			key := [2]string{f, v}
			if _, ok := spanishAllowed[key]; ok {
				seen[key] = true
				return true
			}
			t.Errorf("%s: string literal %s holds Spanish text: move it into internal/i18n (es and en) and read it in the reader's language, or allowlist it here with the reason",
				fset.Position(lit.Pos()), lit.Value)
			return true
		})
	}
	if parsed < 20 {
		t.Fatalf("parsed %d files of package desk, want them all (20 or more)", parsed)
	}
	for k, why := range spanishAllowed {
		if !seen[k] {
			t.Errorf("allowlisted literal %q in %s (%s) is gone: drop it from the allowlist", k[1], k[0], why)
		}
	}
}
