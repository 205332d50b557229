package rules

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold lower-cases r and strips Spanish (and other Latin) diacritics: people
// write "contrasena", "electrico", "SILLA" for "contraseña", "eléctrico",
// "silla".
func fold(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'Á', 'À', 'Â', 'Ä', 'Ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï', 'Í', 'Ì', 'Î', 'Ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ', 'Ó', 'Ò', 'Ô', 'Ö', 'Õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü', 'Ú', 'Ù', 'Û', 'Ü':
		return 'u'
	case 'ñ', 'Ñ':
		return 'n'
	case 'ç', 'Ç':
		return 'c'
	}
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func isWordRune(r rune) bool {
	return r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9') || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// token is a folded word and its stem.
type token struct {
	word string // folded
	stem string
}

// tokenize splits s into folded, stemmed words. "wi-fi" and "F-DE-10" keep
// their parts as separate words, which phrases match in sequence.
func tokenize(s string, out []token) []token {
	n := len(out)
	out = tokenizeWords(s, out)
	for i := n; i < len(out); i++ {
		out[i].stem = stem(out[i].word)
	}
	return out
}

// tokenizeWords is tokenize without the stems: the classifier takes them
// from its word cache (lexEntry.stem), which knows them already.
func tokenizeWords(s string, out []token) []token {
	// Fold into one buffer, words separated by one space, then cut the
	// words out of it: one allocation, not one per word (a Builder's
	// String does not copy).
	var b strings.Builder
	b.Grow(len(s) + 1)
	last := byte(' ') // the last byte written: no space first, none twice
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				b.WriteByte(c)
				last = c
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
				last = c
			default:
				if last != ' ' {
					b.WriteByte(' ')
					last = ' '
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r = fold(r); isWordRune(r) {
			b.WriteRune(r)
			last = 'x'
		} else if last != ' ' {
			b.WriteByte(' ')
			last = ' '
		}
	}
	str := b.String()
	for len(str) > 0 {
		w := str
		if i := strings.IndexByte(str, ' '); i >= 0 {
			w, str = str[:i], str[i+1:]
		} else {
			str = ""
		}
		if w != "" {
			out = append(out, token{word: w})
		}
	}
	return out
}

// stem folds Spanish plural and gender endings so that "impresoras",
// "impresora" and "impresor", or "caído", "caída" and "caídos", meet:
// -ces → -z, -es after a consonant, -s, then a final -a, -o or -e.
func stem(w string) string {
	n := len(w)
	if n <= 3 || !isASCIIWord(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ces") && n > 4:
		w = w[:n-3] + "z"
	case strings.HasSuffix(w, "es") && n > 4 && strings.IndexByte("aeiou", w[n-3]) < 0:
		w = w[:n-2]
	case w[n-1] == 's' && strings.IndexByte("aeiou", w[n-2]) >= 0:
		w = w[:n-1]
	}
	if n := len(w); n > 3 && strings.IndexByte("aoe", w[n-1]) >= 0 {
		w = w[:n-1]
	}
	return w
}

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf || '0' <= w[i] && w[i] <= '9' {
			return false
		}
	}
	return true
}

var (
	// Lines that start quoted history: "El lun, 2 mar 2026 escribió:",
	// "On … wrote:", Outlook's "De: …" block, "-----Mensaje original-----".
	quoteStartRE = regexp.MustCompile(`(?i)^\s*(((el|on)\s.{0,200}(escribi[oó]|wrote)\s*:)|(-{2,}\s*(mensaje original|original message|mensaje reenviado|forwarded message)\s*-*)|((de|from)\s*:\s*.+@.+)|_{10,})\s*$`)
	// A line that closes the message: what follows is the signature.
	closingRE = regexp.MustCompile(`(?i)^\s*(cordialmente|atentamente|saludos( cordiales)?|un saludo|muchas gracias|mil gracias|gracias( de antemano| por (su|la) (atenci[oó]n|colaboraci[oó]n|ayuda))?|quedo atent[oa]( a sus comentarios)?|feliz d[ií]a|agradezco (su|la) (atenci[oó]n|colaboraci[oó]n|ayuda|gesti[oó]n)|--|—)\s*[.,!]*\s*$`)
)

// Clean returns the part of a mail body that the sender wrote now: quoted
// history (">" lines and the quoted block after "El … escribió:" or an
// Outlook header) and the signature after a closing formula ("Cordialmente",
// "Atentamente", "--") are removed, because the cargo, dependencia and
// extensión in a signature would otherwise look like a request.
func Clean(body string) string {
	s := strings.ReplaceAll(body, "\r\n", "\n")
	// The lines kept are joined by "\n": while none was skipped, they are
	// s up to the end of the last one kept (keepEnd), no copy; after a
	// skipped ">" line they are copied into b.
	var b strings.Builder
	copied := false
	keepEnd, kept, content := 0, 0, 0
	for start := 0; start <= len(s); {
		end := strings.IndexByte(s[start:], '\n')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		l := s[start:end]
		start = end + 1
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, ">") {
			if !copied {
				b.WriteString(s[:keepEnd])
				copied = true
			}
			continue
		}
		if maybeQuoteStart(t) && quoteStartRE.MatchString(t) {
			break
		}
		if content > 0 && len(t) <= 64 && maybeClosing(t) && closingRE.MatchString(t) {
			break
		}
		if t != "" {
			content++
		}
		if copied {
			if kept > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(l)
		} else {
			keepEnd = end
		}
		kept++
	}
	if copied {
		return strings.TrimSpace(b.String())
	}
	return strings.TrimSpace(s[:keepEnd])
}

// maybeQuoteStart is a cheap necessary condition of quoteStartRE on a
// trimmed line: it ends with ":" ("… escribió:"), starts with "-" or "_",
// or has an address ("De: …@…").
func maybeQuoteStart(t string) bool {
	return t != "" && (t[len(t)-1] == ':' || t[0] == '-' || t[0] == '_' || strings.IndexByte(t, '@') >= 0)
}

// maybeClosing is a cheap necessary condition of closingRE on a trimmed
// line: its first byte starts one of the formulas, either case ("ſ", a
// case variant of "s" for regexp, starts with 0xC5; "—" with 0xE2).
func maybeClosing(t string) bool {
	if t == "" {
		return false
	}
	switch t[0] | 0x20 {
	case 'c', 'a', 's', 'u', 'm', 'g', 'q', 'f', '-', 0xC5 | 0x20, 0xE2:
		return true
	}
	return false
}

// Fold lower-cases s and strips its diacritics ("Categoría" → "categoria"),
// the way keywords are compared.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(fold(r))
	}
	return b.String()
}
