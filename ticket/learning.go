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

// Classification is the weekly digest's section on the classifier: how
// often people changed the category intake gave the tickets created in
// the week (and the week before), in which categories and into what, and
// the learned model in use.
type Classification struct {
	// Tickets counts the tickets created in the week and in the week
	// before; Changed those of them whose category a person changed
	// (#categoria, triage).
	Tickets, Changed [2]int
	// Top lists up to five categories, as intake gave them, whose tickets
	// of the week were changed most (most changes first).
	Top []CategoryOverrides
	// Confusions lists up to five of the week's most frequent changes,
	// from the category intake gave to the one the ticket has now.
	Confusions []Confusion
	// Model is the learned model in use; nil: the catalogue's keywords
	// alone.
	Model *ModelFacts
}

// CategoryOverrides is how often the tickets intake gave a category were
// recategorised.
type CategoryOverrides struct {
	Key              string
	Tickets, Changed int
}

// Confusion is a change of category people made, and how often.
type Confusion struct {
	From, To string
	N        int
}

// ModelFacts describe the learned model in use: when it was trained, how
// old it is, and on how many mails, per source ("corpus", "history",
// "corrections").
type ModelFacts struct {
	Trained  time.Time // the training date, midnight in the desk's zone; zero when unknown
	AgeDays  int       // whole days from Trained to the digest's day; 0 when unknown or later
	Examples int
	Sources  []Count
}
