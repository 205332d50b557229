package main

import (
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/config"
	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/sla"
)

// loadRules returns the catalogue named by rules.file, or the embedded one.
func loadRules(cfg *config.Config) (*rules.Engine, error) {
	if cfg.Rules.File == "" {
		return rules.Default()
	}
	return rules.Load(cfg.Rules.File)
}

// loadCalendar builds the business calendar of the sla section.
func loadCalendar(cfg *config.Config) (*sla.Calendar, error) {
	zone := cfg.SLA.Timezone
	if zone == "" {
		zone = cfg.Desk.Timezone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("sla time zone: %w", err)
	}
	opts := sla.Options{Location: loc, Workdays: []time.Weekday{}}
	for _, d := range cfg.SLA.Workdays {
		wd, _ := config.Weekday(d) // validated
		opts.Workdays = append(opts.Workdays, wd)
	}
	opts.Open, _ = config.ClockTime(cfg.SLA.Start)
	opts.Close, _ = config.ClockTime(cfg.SLA.End)
	for _, s := range cfg.SLA.ExtraHolidays {
		d, _ := time.Parse(time.DateOnly, s)
		opts.Extra = append(opts.Extra, d)
	}
	return sla.New(opts)
}
