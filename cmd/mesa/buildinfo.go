package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time, e.g.
//
//	go build -ldflags "-X main.buildVersion=1.4.0 -X main.buildCommit=$(git rev-parse HEAD) \
//	  -X main.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/mesa
//
// Empty values are read from the build information Go embeds (module
// version, vcs.revision, vcs.time, vcs.modified).
var buildVersion, buildCommit, buildDate string

// buildInfo is what `mesa version` prints.
type buildInfo struct {
	Version  string // module version or the -X value; "devel" when unknown
	Commit   string // full revision, "" when unknown
	Date     string // build date (-X), else the commit's time, "" when unknown
	Modified bool   // built from a tree with uncommitted changes
	Go       string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: buildVersion, Commit: buildCommit, Date: buildDate, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "devel"
	}
	return b
}

// version is the short version for logs and the systemd status.
func version() string {
	b := readBuildInfo()
	if b.Commit != "" && !strings.Contains(b.Version, shortCommit(b.Commit)) {
		return b.Version + " (" + shortCommit(b.Commit) + ")"
	}
	return b.Version
}

// versionLine is `mesa version`'s output.
func versionLine() string {
	b := readBuildInfo()
	commit, date := b.Commit, b.Date
	if commit == "" {
		commit = "unknown"
	}
	if b.Modified {
		commit += "+modified"
	}
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("mesa %s commit %s built %s %s %s/%s", b.Version, commit, date, b.Go, runtime.GOOS, runtime.GOARCH)
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
