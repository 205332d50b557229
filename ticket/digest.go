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
	// FirstResponse is the business time to the first answer of the
	// tickets created in the last 30 days that have one; NoResponse counts
	// the open ones still waiting for it.
	FirstResponse Durations
	NoResponse    int
	// Week is the weekly digest's comparison of the last week with the
	// one before; nil in the daily digest.
	Week *Week
	// Classification is the weekly digest's section on the classifier,
	// for the same weeks; nil in the daily digest.
	Classification *Classification
}

// Durations sums durations to average them.
type Durations struct {
	N     int
	Total time.Duration
}

// Add counts d.
func (s *Durations) Add(d time.Duration) { s.N++; s.Total += d }

// Avg is the mean, zero without any.
func (s Durations) Avg() time.Duration {
	if s.N == 0 {
		return 0
	}
	return s.Total / time.Duration(s.N)
}

// Week is one week of the desk beside the week before.
type Week struct {
	From, To       time.Time // local; [From, To)
	Opened, Closed [2]int    // this week, the week before
	Compliance     [2]Compliance
	FirstResponse  [2]Durations
	Answered       [2]int
	Rating         [2]float64 // mean of the answered surveys
	// Worst lists up to three categories of this week with the lowest SLA
	// compliance (the most breaches on ties).
	Worst []CategoryCompliance
}

// CategoryCompliance is a category's compliance in a period.
type CategoryCompliance struct {
	Key string
	Compliance
}
