package rules

import (
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

func TestSecondLabels(t *testing.T) {
	labels := "file\tcategory\ttype\tcriticidad\tpersona\n" +
		"001-a.eml\tti.soporte\tincidente\tmedia\toriginal\n" +
		"w1/0001.eml\tti.vpn\trequerimiento\tbaja\tw1-x\n" +
		"w1/0002.eml\tti.wifi\tincidente\talta\tw1-x\n"
	for _, tc := range []struct {
		name    string
		labels2 string // "": no labels2.tsv
		wantErr string
		want    map[string][3]string // file → second category, type, criticidad
	}{
		{name: "none", want: map[string][3]string{"001-a.eml": {}, "w1/0001.eml": {}, "w1/0002.eml": {}}},
		{name: "some rows", labels2: "file\tcategory\ttype\tcriticidad\n001-a.eml\tti.soporte\tincidente\tbaja\r\n\nw1/0001.eml\tti.vpn\tincidente\tmedia\n",
			want: map[string][3]string{"001-a.eml": {"ti.soporte", "incidente", "baja"}, "w1/0001.eml": {"ti.vpn", "incidente", "media"}, "w1/0002.eml": {}}},
		{name: "unknown file", labels2: "file\tcategory\ttype\tcriticidad\nw9/0001.eml\tti.vpn\tincidente\tmedia\n", wantErr: "labels2.tsv:2"},
		{name: "short line", labels2: "file\tcategory\ttype\tcriticidad\n001-a.eml\tti.vpn\tincidente\n", wantErr: "labels2.tsv:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"labels.tsv": {Data: []byte(labels)}}
			if tc.labels2 != "" {
				fsys["labels2.tsv"] = &fstest.MapFile{Data: []byte(tc.labels2)}
			}
			ls, err := ReadLabels(fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ls) != 3 {
				t.Fatalf("got %d rows, want 3", len(ls))
			}
			for _, l := range ls {
				if got := [3]string{l.Category2, l.Type2, l.Criticality2}; got != tc.want[l.File] {
					t.Errorf("%s: got second labels %v, want %v", l.File, got, tc.want[l.File])
				}
			}
		})
	}
}

func TestLabelledMailExample(t *testing.T) {
	msg := Message{Subject: "vpn", Body: "no conecta"}
	for _, tc := range []struct {
		name string
		l    LabelledMail
		want Example
	}{
		{"original persona: the second criticidad",
			LabelledMail{Category: "ti.vpn", Type: "incidente", Criticality: "media", Persona: "original", Category2: "ti.redes", Type2: "requerimiento", Criticality2: "baja"},
			Example{Category: "ti.vpn", Type: "incidente", Criticality: "baja", Category2: "ti.redes", Type2: "requerimiento"}},
		{"original persona without a second label",
			LabelledMail{Category: "ti.vpn", Type: "incidente", Criticality: "media", Persona: "original"},
			Example{Category: "ti.vpn", Type: "incidente", Criticality: "media"}},
		{"other persona: both",
			LabelledMail{Category: "ti.vpn", Type: "incidente", Criticality: "media", Persona: "w1-x", Category2: "ti.vpn", Type2: "incidente", Criticality2: "alta"},
			Example{Category: "ti.vpn", Type: "incidente", Criticality: "media", Category2: "ti.vpn", Type2: "incidente", Criticality2: "alta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.l.Example(msg, "corpus")
			tc.want.Message, tc.want.Source = msg, "corpus"
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Where the two labellers differ, the type and the criticidad learn half
// of each: the model is unsure there, where with one label it is sure.
func TestTrainSecondLabelsHalf(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var exs []Example
	for i := range 12 {
		n := string(rune('a' + i))
		exs = append(exs,
			Example{Message: Message{Subject: "impresora " + n, Body: "la impresora del piso no imprime, sale una luz naranja " + n},
				Category: "ti.soporte", Type: "incidente", Criticality: "media"},
			Example{Message: Message{Subject: "video beam " + n, Body: "solicito el prestamo de un video beam para el jueves " + n},
				Category: "ti.recursos", Type: "requerimiento", Criticality: "baja"})
	}
	probe := Message{Subject: "impresora", Body: "la impresora del piso no imprime, sale una luz naranja"}
	typeProb := func(exs []Example) (float64, string) {
		m, err := e.Train(exs, &TrainOptions{Trained: "2026-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		r := e.WithModel(m, 0).Classify(probe)
		return r.TypeConfidence, string(r.Type)
	}
	one, typ := typeProb(exs)
	if typ != "incidente" || one < 0.8 {
		t.Fatalf("one label: got %s at %.3f, want incidente at ≥ 0.8", typ, one)
	}
	for i := range exs {
		if exs[i].Type == "incidente" {
			exs[i].Type2 = "requerimiento"
		}
	}
	two, _ := typeProb(exs)
	if math.Abs(two-0.5) > 0.15 || two >= one {
		t.Errorf("two labels: got type confidence %.3f, want about 0.5 (one label: %.3f)", two, one)
	}
}

// The criticidad reads each word combined with the type, valued word ×
// probability of the type, from the model's table (no lookups).
func TestCritWordsByType(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	s := m.stack
	if s.wordHi <= s.wordLo {
		t.Fatalf("got words [%d, %d), want some", s.wordLo, s.wordHi)
	}
	f := s.wordLo
	for ; f < s.wordHi && s.wordType[0][f-s.wordLo] < 0; f++ {
	}
	if f == s.wordHi {
		t.Fatal("no word has a word × type feature in the embedded model")
	}
	if !strings.HasPrefix(m.names[f], "w:") {
		t.Fatalf("feature %d is %q, want a word", f, m.names[f])
	}
	pt := []float64{0.75, 0.25}
	base := sparse{idx: []int32{f}, val: []float32{0.5}}
	pc := make([]float64, len(s.cats))
	pc[0] = 1
	got := map[string]float32{}
	out := s.extend(base, headCrit, pc, pt, &[numCues]float32{}, &sparse{})
	for j, i := range out.idx {
		got[m.names[i]] = out.val[j]
	}
	for ti, typ := range s.types {
		name := wordTypeName(m.names[f], typ)
		if want := float32(0.5 * pt[ti]); math.Abs(float64(got[name]-want)) > 1e-6 {
			t.Errorf("%s: got %v, want %v", name, got[name], want)
		}
	}
	// The type decision does not read them.
	for _, i := range s.extend(base, headType, pc, nil, &[numCues]float32{}, &sparse{}).idx {
		if strings.HasPrefix(m.names[i], "s:w:") {
			t.Errorf("the type reads %s", m.names[i])
		}
	}
}
