package ticket

import "encoding/json"

// Candidate is a category the classifier considered for a ticket it could
// not classify (Unclassified): what first-level triage is offered.
type Candidate struct {
	Category   string  `json:"category"`   // catalogue key, e.g. ti.soporte
	Name       string  `json:"name"`       // display name, from the catalogue
	Confidence float64 `json:"confidence"` // calibrated probability, 0–1
}

// CreatedCandidates reads the triage candidates from the data of a
// ticket's created event ({"classification":{"candidates":[…]}}, as desk
// records it); none when the ticket was classified or the data is not
// that JSON.
func CreatedCandidates(data string) []Candidate {
	var d struct {
		Classification struct {
			Candidates []Candidate `json:"candidates"`
		} `json:"classification"`
	}
	if json.Unmarshal([]byte(data), &d) != nil {
		return nil
	}
	return d.Classification.Candidates
}
