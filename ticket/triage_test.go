package ticket

import (
	"reflect"
	"testing"
)

func TestCreatedCandidates(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []Candidate
	}{
		{"candidates", `{"message_key":"<m@x>","classification":{"category":"sin_clasificar","candidates":[` +
			`{"category":"ti.soporte","name":"Soporte","confidence":0.31},{"category":"ti.vpn","name":"VPN","confidence":0.2}]}}`,
			[]Candidate{{"ti.soporte", "Soporte", 0.31}, {"ti.vpn", "VPN", 0.2}}},
		{"classified", `{"classification":{"category":"ti.vpn"}}`, nil},
		{"no data", ``, nil},
		{"not json", `{"classification":`, nil},
		{"wrong shape", `{"classification":{"candidates":"ti.vpn"}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CreatedCandidates(tc.data); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
