package ticket

import "time"

// Count is a named number in a digest.
type Count struct {
	Key string
	N   int
}

// Compliance is how many tickets closed in a period met their SLA.
type Compliance struct {
	Day        time.Time // the local day, for the trend
	Met, Total int
}

// Percent is the share met, or -1 without closures.
func (c Compliance) Percent() int {
	if c.Total == 0 {
		return -1
	}
	return (c.Met*100 + c.Total/2) / c.Total
}

// Digest is one manager's view of the desk (built by desk, rendered by
// mailout).
type Digest struct {
	Kind     string // daily or weekly
	Groups   []string
	At       time.Time // local time
	Open     int
	ByState  []Count
	ByCat    []Count
	ByGroup  []Count
	Load     []Count // open tickets per technician
	Breached []*Ticket
	DueToday []*Ticket
	Oldest   []*Ticket // the five oldest open
	LongHeld []*Ticket // retenido for more than 3 business days
	Last7    Compliance
	Last30   Compliance
	Trend    []Compliance // the last 14 days, oldest first
	// Surveys sent in the last 30 days.
	SurveysSent, SurveysAnswered int
	RatingAvg                    float64
}
