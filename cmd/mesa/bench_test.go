package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchIsElsewhere: the production build has no intake benchmark (it
// would link the test servers) and says where it is, for any spelling.
func TestBenchIsElsewhere(t *testing.T) {
	if benchIntakeCommand != nil {
		t.Skip("built with -tags bench")
	}
	for _, args := range [][]string{{"bench"}, {"bench", "--help"}, {"bench", "intake", "--messages", "10"}} {
		var out, errs bytes.Buffer
		code := run(context.Background(), args, &out, &errs, nil)
		if code != exitConfig || !strings.Contains(errs.String(), "bin/mesa-bench") || !strings.Contains(errs.String(), "make bench") {
			t.Errorf("mesa %v: got exit %d, stderr %q; want %d and where the bench tool is", args, code, errs.String(), exitConfig)
		}
	}
}
