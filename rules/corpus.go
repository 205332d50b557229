package rules

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// The shipped corpus: labelled mail the embedded model is trained from,
// embedded so that `mesa rules train` can add an agency's history to it
// anywhere. testdata/labels.tsv has one row per mail:
//
//	file	category	type	criticidad	persona
//
// file relative to testdata/corpus; persona names who wrote the batch
// ("original" for the first 210 mails). An older format with a fifth
// column "split" instead of "persona" is read too (persona "original").
// testdata/labels2.tsv, when there, is a second, blind labeller's reading
// of the same mail (file, category, type, criticidad).
//
//go:embed testdata/labels*.tsv testdata/corpus
var shippedCorpus embed.FS

// ShippedCorpus returns the embedded corpus: labels.tsv and corpus/ at its
// root.
func ShippedCorpus() fs.FS {
	sub, _ := fs.Sub(shippedCorpus, "testdata")
	return sub
}

// LabelledMail is one row of a corpus' labels.tsv.
type LabelledMail struct {
	File        string // relative to corpus/
	Category    string
	Type        string
	Criticality string
	Persona     string
	// Category2, Type2 and Criticality2 are the second labeller's
	// (labels2.tsv); empty where there is none.
	Category2, Type2, Criticality2 string
}

// FrozenTest reports whether a corpus file belongs to the frozen test
// split: the first byte of the SHA-256 of its path (relative to corpus/)
// is below 52, about 20 % of the mail, fixed once and for all. Nothing is
// tuned on it: it is only ever reported in aggregate, once per change.
func FrozenTest(file string) bool {
	sum := sha256.Sum256([]byte(file))
	return sum[0] < 52
}

// ReadLabels reads labels.tsv at the root of fsys.
func ReadLabels(fsys fs.FS) ([]LabelledMail, error) {
	var out []LabelledMail
	persona := true
	err := readRows(fsys, "labels.tsv", func(n int, c []string) error {
		if n == 1 && c[0] == "file" {
			persona = len(c) < 5 || c[4] == "persona"
			return nil
		}
		if len(c) < 4 || len(c) > 5 {
			return fmt.Errorf("labels.tsv:%d: want file, category, type, criticidad, persona", n)
		}
		l := LabelledMail{File: c[0], Category: c[1], Type: c[2], Criticality: c[3], Persona: "original"}
		if persona && len(c) == 5 && c[4] != "" {
			l.Persona = c[4]
		}
		if !fs.ValidPath(path.Join("corpus", l.File)) {
			return fmt.Errorf("labels.tsv:%d: bad file name %q", n, l.File)
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading corpus labels: %w", err)
	}
	if err := readSecondLabels(fsys, out); err != nil {
		return nil, err
	}
	return out, nil
}

// readSecondLabels fills the second labeller's fields of ls from
// labels2.tsv at the root of fsys, if there is one: a header, then file,
// category, type, criticidad per line. A file labels.tsv does not name is
// an error.
func readSecondLabels(fsys fs.FS, ls []LabelledMail) error {
	byFile := make(map[string]int, len(ls))
	for i, l := range ls {
		byFile[l.File] = i
	}
	err := readRows(fsys, "labels2.tsv", func(n int, c []string) error {
		if n == 1 && c[0] == "file" {
			return nil
		}
		if len(c) != 4 {
			return fmt.Errorf("labels2.tsv:%d: want file, category, type, criticidad", n)
		}
		i, ok := byFile[c[0]]
		if !ok {
			return fmt.Errorf("labels2.tsv:%d: %q is not in labels.tsv", n, c[0])
		}
		ls[i].Category2, ls[i].Type2, ls[i].Criticality2 = c[1], c[2], c[3]
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading second labels: %w", err)
	}
	return nil
}

// readRows calls row with each non-blank line of the tab-separated file
// name at the root of fsys, split into its fields, and its line number.
func readRows(fsys fs.FS, name string, row func(n int, c []string) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := row(n, strings.Split(line, "\t")); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ReadCorpus reads every labelled mail of fsys (labels.tsv, corpus/…),
// turning each file into a Message with parse (MIME parsing belongs to
// mailin, which rules does not import).
func ReadCorpus(fsys fs.FS, parse func(raw []byte) Message) ([]LabelledMail, []Message, error) {
	ls, err := ReadLabels(fsys)
	if err != nil {
		return nil, nil, err
	}
	msgs := make([]Message, len(ls))
	for i, l := range ls {
		raw, err := fs.ReadFile(fsys, path.Join("corpus", l.File))
		if err != nil {
			return nil, nil, fmt.Errorf("reading corpus: %w", err)
		}
		msgs[i] = parse(raw)
	}
	return ls, msgs, nil
}

// Examples pairs labelled mail with their messages as training examples of
// source src.
func Examples(ls []LabelledMail, msgs []Message, src string) []Example {
	out := make([]Example, len(ls))
	for i, l := range ls {
		out[i] = l.Example(msgs[i], src)
	}
	return out
}

// Example is l with its message as a training example of source src, with
// both labellers' readings. The original persona's criticidad is the
// second labeller's where there is one: its first labels defaulted to
// media (agreement with the blind labeller 63.8 %, 80.8 % overall), and in
// cross-validation learning the second alone there is worth more than
// half of each (docs/DESIGN-NOTES.md).
func (l LabelledMail) Example(msg Message, src string) Example {
	ex := Example{Message: msg, Category: l.Category, Type: l.Type, Criticality: l.Criticality, Source: src,
		Category2: l.Category2, Type2: l.Type2, Criticality2: l.Criticality2}
	if l.Persona == "original" && l.Criticality2 != "" {
		ex.Criticality, ex.Criticality2 = l.Criticality2, ""
	}
	return ex
}
