// Package rules classifies a message into the service catalogue the way a
// good first-level technician would: category (guide 4.2.1.x and 4.3.1),
// type (incidente or requerimiento, guide 4.7), criticality (guide 4.8) and
// owning group, with the reasons. The default catalogue is embedded
// (catalogo.yaml) and can be replaced from configuration.
//
// Matching is case- and accent-insensitive, word-aware, folds Spanish plural
// and gender endings, knows phrases and "word*" prefixes, ignores a keyword
// right after "no es", "no se trata de" and the like, weighs the subject above
// the body, and ignores quoted history and signatures. Explicit priority
// rules (sender, domain, regular expressions) are tried first; the first that
// matches wins. Below the catalogue's threshold the category is
// sin_clasificar, for first-level triage.
package rules

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mesadeservicios/mesa/ticket"
)

//go:embed catalogo.yaml
var defaultCatalogue []byte

// File is the YAML rule format. See catalogo.yaml for a documented example.
type File struct {
	// Threshold is the lowest score that gives a category; below it the
	// message is sin_clasificar.
	Threshold float64 `yaml:"threshold"`
	// SubjectWeight multiplies the weight of keywords found in the subject.
	SubjectWeight float64 `yaml:"subject_weight"`
	// Negations are phrases that cancel a keyword right after them, with at
	// most one article or possessive between ("no es la impresora").
	Negations []string `yaml:"negations"`
	// Priority rules are tried in order before scoring; the first match wins.
	Priority []PriorityRule `yaml:"priority"`
	// Failure describes the "no" + verb pattern ("no sincroniza", "no me
	// carga", "no reciben"): each occurrence adds Weight to incidente, unless
	// the word after "no" is one of Except ("no es urgente", "no hay prisa").
	Failure    Failure    `yaml:"failure"`
	Types      Signals    `yaml:"types"`
	Criticity  Signals    `yaml:"criticidad"`
	Categories []Category `yaml:"categories"`
}

// Failure is the "no" + verb signal of incidents.
type Failure struct {
	Weight float64  `yaml:"weight"`
	Except []string `yaml:"except"`
}

// Signals maps a value (incidente, requerimiento; alta, baja) to weighted
// phrases.
type Signals map[string]Keywords

// Keywords maps a weight to phrases: {3: [vpn, acceso remoto], 1: [casa]}.
type Keywords map[float64][]string

// PriorityRule sets fields outright when its conditions all match.
type PriorityRule struct {
	Name       string `yaml:"name"`
	From       string `yaml:"from"`    // regular expression on the sender address
	Domain     string `yaml:"domain"`  // sender domain, exact
	Subject    string `yaml:"subject"` // regular expression on the subject
	Body       string `yaml:"body"`    // regular expression on the body
	Category   string `yaml:"category"`
	Type       string `yaml:"type"`
	Criticidad string `yaml:"criticidad"`
	from       *regexp.Regexp
	subject    *regexp.Regexp
	body       *regexp.Regexp
}

// Category is one entry of the service catalogue.
type Category struct {
	Key   string `yaml:"key"`
	Name  string `yaml:"name"`  // Spanish name shown to people
	Area  string `yaml:"area"`  // ti or adm
	Group string `yaml:"group"` // owning group key
	Guide string `yaml:"guide"` // section of the guide, e.g. 4.2.1.9
	// Resolution is the resolution time in business time: "2h30m", "8h",
	// "3d" (a business day is 9 h: 3d = 27 h), or "" when it depends
	// ("depende": no SLA clock).
	Resolution string `yaml:"resolution"`
	// ResolutionDefault marks a time chosen by mesa where the guide gives
	// none (administrative categories).
	ResolutionDefault bool `yaml:"resolution_default"`
	// ByCriticality overrides Resolution per criticality.
	ByCriticality map[string]string `yaml:"by_criticality"`
	DefaultType   string            `yaml:"default_type"`
	// Attachments the guide requires with the request (forms).
	Attachments []string `yaml:"attachments"`
	// RequestedBy lists who may request the service; others are flagged,
	// never rejected.
	RequestedBy []string `yaml:"requested_by"`
	Keywords    Keywords `yaml:"keywords"`
	resolution  map[ticket.Criticality]time.Duration
}

// BusinessDay is how long "1 día" of resolution time is: 08:00–17:00.
const BusinessDay = 9 * time.Hour

// ResolutionFor returns the resolution time for a criticality, and false when
// the category has none ("depende").
func (c *Category) ResolutionFor(crit ticket.Criticality) (time.Duration, bool) {
	if d, ok := c.resolution[crit]; ok {
		return d, true
	}
	d, ok := c.resolution[""]
	return d, ok
}

// ParseDuration parses a resolution time: Go durations ("2h30m", "8h") or
// whole and fractional business days ("3d", "1.5d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		var days float64
		if _, err := fmt.Sscanf(strings.TrimSuffix(s, "d"), "%g", &days); err != nil || days <= 0 {
			return 0, fmt.Errorf("invalid resolution %q", s)
		}
		return time.Duration(days * float64(BusinessDay)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid resolution %q (use 2h30m, 8h or 3d)", s)
	}
	return d, nil
}

// Default returns the embedded catalogue.
func Default() (*Engine, error) { return Parse("catalogo.yaml", defaultCatalogue) }

// Load reads a rule file.
func Load(path string) (*Engine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return Parse(path, b)
}

// Parse compiles a rule file. Errors name the file and line.
func Parse(name string, data []byte) (*Engine, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var root yaml.Node
	yaml.Unmarshal(data, &root)
	lines := categoryLines(&root)
	e, err := compile(&f, func(key string) string {
		if l, ok := lines[key]; ok {
			return fmt.Sprintf("%s:%d", name, l)
		}
		return name
	})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	e.digest = hex.EncodeToString(sum[:])
	return e, nil
}

// categoryLines finds the line of each category key and priority rule name.
func categoryLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	if len(root.Content) == 0 {
		return out
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		sec := m.Content[i].Value
		if sec != "categories" && sec != "priority" {
			out[sec] = m.Content[i].Line
			continue
		}
		for j, item := range m.Content[i+1].Content {
			out[fmt.Sprintf("%s[%d]", sec, j)] = item.Line
		}
	}
	return out
}

// Names returns the keys of every category, sorted.
func (e *Engine) Names() []string {
	var out []string
	for _, c := range e.cats {
		out = append(out, c.Key)
	}
	sort.Strings(out)
	return out
}

// Category returns the catalogue entry of key.
func (e *Engine) Category(key string) (*Category, bool) {
	c, ok := e.byKey[key]
	return c, ok
}

// DisplayName returns the Spanish name of a category for people, or the key
// itself when it is not in the catalogue.
func (e *Engine) DisplayName(key string) string {
	if c, ok := e.byKey[key]; ok {
		return c.Name
	}
	if key == ticket.Unclassified {
		return "Sin clasificar (en revisión por la mesa)"
	}
	return key
}
