package rules

import (
	"sort"

	"github.com/mesadeservicios/mesa/ticket"
)

// Suggestion lists candidate keywords for a category.
type Suggestion struct {
	Category string
	Tickets  int // recategorised tickets it learned from
	Words    []WordCount
}

// WordCount is a word and in how many of the tickets it appears.
type WordCount struct {
	Word  string
	Count int
}

// stopwords are Spanish function words and mail formulas that never make a
// keyword.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range []string{"a", "al", "algo", "ante", "aqui", "asi", "ayer", "bien", "buen", "buena",
		"buenas", "buenos", "cada", "casi", "como", "con", "cordial", "cual", "cuando", "de", "del", "desde",
		"dia", "dias", "donde", "el", "ella", "en", "entre", "era", "es", "esa", "ese", "eso", "esta", "estan",
		"este", "esto", "estoy", "favor", "fue", "gracias", "ha", "hace", "hay", "hola", "hoy", "la", "las",
		"le", "les", "lo", "los", "mas", "me", "mi", "mis", "mucho", "muy", "nada", "ni", "no", "nos", "o",
		"otra", "otro", "para", "pero", "poco", "por", "porque", "pues", "que", "quien", "saludo", "se", "ser",
		"si", "sin", "sobre", "solo", "su", "sus", "tambien", "tarde", "tardes", "te", "tiene", "todo", "todos",
		"tengo", "un", "una", "uno", "unos", "y", "ya", "yo", "usted", "ustedes", "mañana", "manana", "senor",
		"senora", "compañeros", "companeros", "ayuda", "apoyo", "solicito", "necesito", "requiero", "puedan",
		"pueden", "quedo", "atento", "atenta", "cordialmente", "atentamente", "saludos"} {
		m[w] = true
	}
	return m
}()

// Suggest lists, for each category technicians moved tickets to, the words
// that appear in most of those tickets and are not yet keywords of it:
// candidates to add to the catalogue. Words are counted once per ticket.
func (e *Engine) Suggest(examples []ticket.Recategorization, top int) []Suggestion {
	type acc struct {
		tickets int
		words   map[string]int
	}
	by := map[string]*acc{}
	for _, ex := range examples {
		a := by[ex.Category]
		if a == nil {
			a = &acc{words: map[string]int{}}
			by[ex.Category] = a
		}
		a.tickets++
		seen := map[string]bool{}
		for _, t := range tokenize(ex.Subject+"\n"+Clean(ex.Body), nil) {
			if len(t.word) < 3 || stopwords[t.word] || seen[t.stem] || isNumber(t.word) || e.isKeyword(ex.Category, t.stem) {
				continue
			}
			seen[t.stem] = true
			a.words[t.word]++
		}
	}
	var out []Suggestion
	for cat, a := range by {
		s := Suggestion{Category: cat, Tickets: a.tickets}
		for w, n := range a.words {
			s.Words = append(s.Words, WordCount{w, n})
		}
		sort.Slice(s.Words, func(i, j int) bool {
			if s.Words[i].Count != s.Words[j].Count {
				return s.Words[i].Count > s.Words[j].Count
			}
			return s.Words[i].Word < s.Words[j].Word
		})
		if len(s.Words) > top {
			s.Words = s.Words[:top]
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	return out
}

// isKeyword reports whether stem already starts a keyword of category.
func (e *Engine) isKeyword(category, stem string) bool {
	for _, pi := range e.index[stem] {
		b := e.buckets[e.phrases[pi].bucket]
		if b.kind == kindCategory && b.value == category {
			return true
		}
	}
	return false
}

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}
