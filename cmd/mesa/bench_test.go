package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// TestBenchIsElsewhere: the production build has no intake benchmark (it
// would link the test servers) and says where it is, for any spelling.
func TestBenchIsElsewhere(t *testing.T) {
	if benchIntakeCommand != nil {
		t.Skip("built with -tags bench")
	}
	for _, args := range [][]string{{"bench"}, {"bench", "intake", "--messages", "10"}} {
		var out, errs bytes.Buffer
		code := run(context.Background(), args, &out, &errs, nil)
		if code != exitConfig || !strings.Contains(errs.String(), "bin/mesa-bench") || !strings.Contains(errs.String(), "make bench") {
			t.Errorf("mesa %v: got exit %d, stderr %q; want %d and where the bench tool is", args, code, errs.String(), exitConfig)
		}
	}
	// Asked for help, it answers the same on stdout, exit 0.
	for _, args := range [][]string{{"bench", "--help"}, {"bench", "-h"}, {"bench", "intake", "--help"}} {
		var out, errs bytes.Buffer
		code := run(context.Background(), args, &out, &errs, nil)
		if code != exitOK || errs.Len() != 0 || !strings.Contains(out.String(), "bin/mesa-bench") {
			t.Errorf("mesa %v: got exit %d, stdout %q, stderr %q; want 0 and where the bench tool is on stdout", args, code, out.String(), errs.String())
		}
	}
}

// TestProductionLinksNoTestHarness: without -tags bench, mesa does not
// depend on the throwaway Dovecot and PostgreSQL of the tests.
func TestProductionLinksNoTestHarness(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range []string{"internal/testimap", "internal/testpg"} {
		if strings.Contains(string(out), "mesa/"+pkg+"\n") {
			t.Errorf("the production binary links %s", pkg)
		}
	}
}
