package rules_test

import (
	"encoding/json"
	"testing"
)

// TestWithoutFeatures checks that the daemon's engine gives, on every
// corpus mail, the default engine's result but for the explanations.
func TestWithoutFeatures(t *testing.T) {
	_, e := engines(t)
	nf := e.WithoutFeatures()
	for _, l := range loadCorpus(t) {
		want := e.Classify(l.msg)
		if want.Features == nil {
			t.Fatalf("%s: the default engine gave no features", l.File)
		}
		want.Features = nil
		got := nf.Classify(l.msg)
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		if string(a) != string(b) || got.Resolution != want.Resolution || got.HasSLA != want.HasSLA {
			t.Fatalf("%s: WithoutFeatures gave %s, want %s", l.File, b, a)
		}
	}
}
