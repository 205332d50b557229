package rules

import "testing"

func TestDefaultCatalogueLoads(t *testing.T) {
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Names()); n != 17+3+11+5+8 {
		t.Errorf("got %d categories, want 44", n)
	}
}
