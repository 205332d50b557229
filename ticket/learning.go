package ticket

import "time"

// Correction is a ticket whose category a person changed (#categoria,
// triage): a labelled example for the classifier, kept with its mail.
type Correction struct {
	Requester string
	Subject   string
	Body      string // the first message
	Category  string // the category it has now, after the changes
	// Criticality is set when a person changed it too (#criticidad), and
	// is then a label; otherwise empty.
	Criticality string
}

// Outcome is how the classifier's category of one ticket fared: what
// `mesa rules report` counts overrides from.
type Outcome struct {
	Created time.Time
	Initial string // the category intake gave it
	Final   string // the category it has now
	Changed bool   // a person changed the category at least once
}
