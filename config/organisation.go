package config

import (
	"fmt"
	"sort"
	"strings"
)

// Route is one category of the classification catalogue and the group that
// owns it, as the rules catalogue declares it (`group:` of each category).
// config does not import rules: the caller reads the catalogue and passes
// its routes.
type Route struct {
	Category string
	Group    string
}

// CheckOrganisation checks that the groups and people of the configuration
// can work the catalogue's tickets. Validate cannot: it does not know the
// catalogue. Both lists carry the key and, when the key came from the file
// Load read, its line.
//
// Errors are configurations under which tickets would wait for no one,
// silently, so `mesa check` refuses them:
//   - a group of the catalogue missing from groups;
//   - a group of the catalogue without any technician.
//
// Warnings are configurations the desk runs with, but not as the guide
// describes it:
//   - a group of the catalogue whose technicians are all level 2: nobody
//     there does first contact (guide 4.9, "técnico de primer nivel");
//   - a manager without groups: receives the digest of the whole desk;
//   - a technician without groups: is never assigned a ticket;
//   - no groups and no people at all (the defaults): one warning, since
//     every ticket then waits unassigned.
//
// People who name an unknown group are already errors of Validate.
func (c *Config) CheckOrganisation(routes []Route) (errs, warnings Problems) {
	problem := func(list *Problems, key, format string, args ...any) {
		*list = append(*list, Problem{Key: key, Line: c.lines[key], Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.Groups) == 0 && len(c.People) == 0 {
		problem(&warnings, "groups", "no groups and no people configured: tickets are created but assigned to no one, "+
			"and no digest is sent")
		return nil, warnings
	}

	// The catalogue's groups, with the categories that route to each.
	var order []string
	cats := map[string][]string{}
	for _, r := range routes {
		if r.Group == "" {
			continue // a category without an owner stays with first-level triage
		}
		if _, ok := cats[r.Group]; !ok {
			order = append(order, r.Group)
		}
		cats[r.Group] = append(cats[r.Group], r.Category)
	}
	list := func(cs []string) string {
		if len(cs) > 4 {
			return fmt.Sprintf("%s and %d more", strings.Join(cs[:3], ", "), len(cs)-3)
		}
		return strings.Join(cs, ", ")
	}
	index := map[string]int{}
	for i, g := range c.Groups {
		if _, dup := index[g.Key]; !dup {
			index[g.Key] = i
		}
	}
	// Technicians of each group, split by level.
	level1, level2 := map[string][]string{}, map[string][]string{}
	for i, p := range c.People {
		key := fmt.Sprintf("people[%d]", i)
		if len(p.Groups) == 0 {
			switch p.Role {
			case "manager":
				problem(&warnings, key, "manager %s has no groups: receives the digest of the whole desk", p.Email)
			case "technician":
				problem(&warnings, key, "technician %s has no groups: is never assigned a ticket", p.Email)
			}
		}
		if p.Role != "technician" {
			continue
		}
		for _, g := range p.Groups {
			email := strings.ToLower(p.Email)
			if p.Level == 1 {
				level1[g] = append(level1[g], email)
			} else {
				level2[g] = append(level2[g], email)
			}
		}
	}

	for _, g := range order {
		i, ok := index[g]
		if !ok {
			problem(&errs, "groups", "group %s of the catalogue is missing: tickets of %s would wait for no one; "+
				"add it, with its technicians", g, list(cats[g]))
			continue
		}
		key := fmt.Sprintf("groups[%d]", i)
		switch {
		case len(level1[g]) == 0 && len(level2[g]) == 0:
			problem(&errs, key, "group %s has no technician: tickets of %s would wait for no one",
				g, list(cats[g]))
		case len(level1[g]) == 0:
			problem(&warnings, key, "group %s has no level-1 technician for first contact (only level 2: %s)",
				g, strings.Join(level2[g], ", "))
		}
	}
	byLine(errs)
	byLine(warnings)
	return errs, warnings
}

// byLine orders problems by file line, those without one last, as Load does.
func byLine(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		if (ps[i].Line == 0) != (ps[j].Line == 0) {
			return ps[i].Line != 0
		}
		return ps[i].Line < ps[j].Line
	})
}
