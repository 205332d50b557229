package desk_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/desk"
	"github.com/mesadeservicios/mesa/mailin"
	"github.com/mesadeservicios/mesa/store/storetest"
)

// TestSurveyReopens: one rule decides a bad answer, for mail and the page:
// "not solved", or a rating at or below the threshold (config's 2 by
// default; negative: no rating reopens).
func TestSurveyReopens(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name      string
		threshold int
		a         desk.SurveyAnswer
		want      bool
	}{
		{"default threshold, 2 solved", 0, desk.SurveyAnswer{Rating: 2, Solved: &yes}, true},
		{"default threshold, 3 solved", 0, desk.SurveyAnswer{Rating: 3, Solved: &yes}, false},
		{"threshold 3, 3 solved", 3, desk.SurveyAnswer{Rating: 3, Solved: &yes}, true},
		{"threshold 3, 4 solved", 3, desk.SurveyAnswer{Rating: 4, Solved: &yes}, false},
		{"never by rating, 1 solved", -1, desk.SurveyAnswer{Rating: 1, Solved: &yes}, false},
		{"never by rating, not solved", -1, desk.SurveyAnswer{Rating: 5, Solved: &no}, true},
		{"rating only, by mail", 0, desk.SurveyAnswer{Rating: 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := desk.New(desk.Deps{Files: mailin.Decoder{}, Store: storetest.SQLite(t), Mail: &fakeMail{}, Calendar: wallClock{},
				Classifier: noCatalogue{}, Now: time.Now, Logger: slog.New(slog.DiscardHandler),
				Config: desk.Config{Survey: desk.SurveyOptions{ReopenAtOrBelow: tc.threshold}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.SurveyReopens(tc.a); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
