package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/rules"
)

// catalogueRoutes lists every category of the catalogue with the group that
// owns it, for config.CheckOrganisation.
func catalogueRoutes(eng *rules.Engine) []config.Route {
	var out []config.Route
	for _, key := range eng.Names() {
		if c, ok := eng.Category(key); ok {
			out = append(out, config.Route{Category: key, Group: c.Group})
		}
	}
	return out
}

// printWarnings writes the warnings of `mesa check` to w, under a header
// like the errors'.
func printWarnings(w io.Writer, path string, warns config.Problems) {
	if len(warns) == 0 {
		return
	}
	fmt.Fprintf(w, "mesa: %d configuration warning(s)%s:\n", len(warns), inFile(path))
	for _, p := range warns {
		fmt.Fprintln(w, "  "+p.Error())
	}
}

// logOrganisation logs at start what `mesa check` would report about the
// groups and people: serve still runs (tests and the demo run with partial
// organisations), but not silently.
func logOrganisation(log *slog.Logger, cfg *config.Config) {
	eng, err := loadRules(cfg)
	if err != nil {
		return // Open reports it
	}
	errs, warns := cfg.CheckOrganisation(catalogueRoutes(eng))
	for _, p := range append(errs, warns...) {
		log.Warn("configuration: tickets may wait for no one", "key", p.Key, "line", p.Line, "problem", p.Msg)
	}
}
