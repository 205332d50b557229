package rules

import (
	"sort"
	"strings"
)

// The decisions are a chain: category, then type, then criticality. The
// type also reads the category decided (s:c=…, s:a=… with its
// probability), and the criticality reads the category and the type
// decided, alone and combined with each other and with the cues (a
// facilities incident with no scope is baja where an application incident
// is media; a deadline matters for a request, a stopped site for an
// incident): features a linear model over words cannot form itself.
//
// In training, what a later decision reads of an earlier one is the
// earlier decision's out-of-fold probabilities (stacking), so that it
// learns how far to trust a decision on mail that decision did not see.
//
//	s:c=ti.vpn          category (type decision)
//	s:a=ti              area of the category, summed (type decision)
//	s:t=incidente       type (criticality decision)
//	s:c=ti.vpn|incidente, s:a=adm|incidente, s:q:deadline|requerimiento
//	                    the same combined (criticality decision)
//	s:w:pued|incidente  a word combined with the type (criticality
//	                    decision), valued word × probability of the type

// stackIndex holds the vocabulary indexes of the chain's features, -1
// where the vocabulary lacks one.
type stackIndex struct {
	cats  []string // classes of the category decision
	types []string // classes of the type decision
	area  []int    // category class → area (0 ti, 1 adm, -1 other)
	// type decision
	cat     []int32 // by category class
	catArea [2]int32
	// criticality decision
	typ      []int32   // by type class
	catType  [][]int32 // [category][type]
	areaType [2][]int32
	cueType  [numCues][]int32
	// words × type: the vocabulary's words are the indexes [wordLo,
	// wordHi) (names are sorted); wordType[t][f-wordLo] is the index of
	// "s:"+word+"|"+type t, -1 where the vocabulary lacks it.
	wordLo, wordHi int32
	wordType       [][]int32
}

// wordTypeName is the name of a word's feature combined with a type.
func wordTypeName(word, typ string) string { return "s:" + word + "|" + typ }

var areas = [2]string{"ti", "adm"}

func areaOf(cat string) int {
	a, _, _ := strings.Cut(cat, ".")
	for i, v := range areas {
		if v == a {
			return i
		}
	}
	return -1
}

// stackNames are the names of the chain's features for the given classes.
func stackNames(cats, types []string) []string {
	var out []string
	for _, c := range cats {
		out = append(out, "s:c="+c)
		for _, t := range types {
			out = append(out, "s:c="+c+"|"+t)
		}
	}
	for _, a := range areas {
		out = append(out, "s:a="+a)
		for _, t := range types {
			out = append(out, "s:a="+a+"|"+t)
		}
	}
	for _, t := range types {
		out = append(out, "s:t="+t)
		for _, q := range cueFeature {
			out = append(out, "s:"+q+"|"+t)
		}
	}
	return out
}

func newStackIndex(names []string, vocab *hashIndex, cats, types []string) *stackIndex {
	get := func(name string) int32 {
		if i, ok := vocab.get(featureHash(name)); ok {
			return i
		}
		return -1
	}
	s := &stackIndex{cats: cats, types: types, area: make([]int, len(cats)), cat: make([]int32, len(cats)),
		typ: make([]int32, len(types)), catType: make([][]int32, len(cats))}
	for c, v := range cats {
		s.area[c] = areaOf(v)
		s.cat[c] = get("s:c=" + v)
		s.catType[c] = make([]int32, len(types))
		for t, tv := range types {
			s.catType[c][t] = get("s:c=" + v + "|" + tv)
		}
	}
	for a, v := range areas {
		s.catArea[a] = get("s:a=" + v)
		s.areaType[a] = make([]int32, len(types))
		for t, tv := range types {
			s.areaType[a][t] = get("s:a=" + v + "|" + tv)
		}
	}
	for t, tv := range types {
		s.typ[t] = get("s:t=" + tv)
	}
	for q := range cueFeature {
		s.cueType[q] = make([]int32, len(types))
		for t, tv := range types {
			s.cueType[q][t] = get("s:" + cueFeature[q] + "|" + tv)
		}
	}
	s.wordLo = int32(sort.SearchStrings(names, "w:"))
	s.wordHi = int32(sort.SearchStrings(names, "w;")) // ';' follows ':'
	s.wordType = make([][]int32, len(types))
	for t, tv := range types {
		s.wordType[t] = make([]int32, s.wordHi-s.wordLo)
		for f := s.wordLo; f < s.wordHi; f++ {
			s.wordType[t][f-s.wordLo] = get(wordTypeName(names[f], tv))
		}
	}
	return s
}

// extend returns base with the chain's features of decision hi appended,
// from the category probabilities pc and (for the criticality) the type
// probabilities pt. buf is reused when large enough.
func (s *stackIndex) extend(base sparse, hi int, pc, pt []float64, cues *[numCues]float32, buf *sparse) sparse {
	out := sparse{idx: append(buf.idx[:0], base.idx...), val: append(buf.val[:0], base.val...)}
	add := func(i int32, v float64) {
		if i >= 0 && v > 1e-3 {
			out.idx = append(out.idx, i)
			out.val = append(out.val, float32(v))
		}
	}
	best := argmax(pc)
	var pa [2]float64
	for c, p := range pc {
		if a := s.area[c]; a >= 0 {
			pa[a] += p
		}
	}
	switch hi {
	case headType:
		add(s.cat[best], pc[best])
		for a := range areas {
			add(s.catArea[a], pa[a])
		}
	case headCrit:
		for t, p := range pt {
			add(s.typ[t], p)
			add(s.catType[best][t], pc[best]*p)
			for a := range areas {
				add(s.areaType[a][t], pa[a]*p)
			}
			for q, n := range cues {
				if n > 0 {
					add(s.cueType[q][t], log1p(float64(n))*p)
				}
			}
		}
		// Words read per type: "no puedo" in an incident is not what it
		// is in a request (the base's words are those of indexes
		// [wordLo, wordHi)).
		for j, f := range base.idx {
			if f < s.wordLo || f >= s.wordHi {
				continue
			}
			for t, p := range pt {
				add(s.wordType[t][f-s.wordLo], float64(base.val[j])*p)
			}
		}
	}
	*buf = out
	return out
}
