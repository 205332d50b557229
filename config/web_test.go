package config

import (
	"strings"
	"testing"
)

func TestWebKeys(t *testing.T) {
	entity := []string{"MESA_WEB_ENTITY_NAME=Agencia Nacional de Ejemplo", "MESA_WEB_ENTITY_ADDRESS=Calle 26 # 13-19, Bogotá",
		"MESA_WEB_ENTITY_PHONE=+57 601 555 0100", "MESA_WEB_ENTITY_HOURS=Lunes a viernes, 8:00 a.m. a 5:00 p.m.",
		"MESA_WEB_ENTITY_EMAIL=contacto@entidad.gov.co"}
	tests := []struct {
		name string
		env  []string
		want []string // problem keys; none means valid
	}{
		{"default: no bar, no footer data", nil, nil},
		{"govco with the entity", append([]string{"MESA_WEB_GOVCO=true"}, entity...), nil},
		{"entity without govco", entity, nil},
		{"govco without the entity", []string{"MESA_WEB_GOVCO=true"},
			[]string{"web.entity_name", "web.entity_address", "web.entity_phone", "web.entity_hours", "web.entity_email"}},
		{"govco missing the phone", append([]string{"MESA_WEB_GOVCO=true"}, entity[0], entity[1], entity[3], entity[4]), []string{"web.entity_phone"}},
		{"bad e-mail", []string{"MESA_WEB_ENTITY_NAME=Agencia", "MESA_WEB_ENTITY_EMAIL=contacto en entidad"}, []string{"web.entity_email"}},
		{"two lines", []string{"MESA_WEB_ENTITY_NAME=Agencia\n<script>"}, []string{"web.entity_name"}},
		{"too long", []string{"MESA_WEB_ENTITY_NAME=Agencia", "MESA_WEB_ENTITY_ADDRESS=" + strings.Repeat("x", 201)}, []string{"web.entity_address"}},
		{"data without a name", []string{"MESA_WEB_ENTITY_PHONE=555"}, []string{"web.entity_name"}},
		{"govco not a boolean", []string{"MESA_WEB_GOVCO=si"}, []string{"MESA_WEB_GOVCO"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", tt.env)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				if len(tt.env) > 0 && cfg.Web.EntityName != "Agencia Nacional de Ejemplo" {
					t.Errorf("got entity name %q, want it from the environment", cfg.Web.EntityName)
				}
				return
			}
			if err == nil {
				t.Fatalf("got valid %+v, want problems %v", cfg.Web, tt.want)
			}
			if got := len(problems(t, err)); got != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", got, len(tt.want), err)
			}
			for _, k := range tt.want {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("got %v, want a problem with %s", err, k)
				}
			}
		})
	}
	if Default().Web.GovCo {
		t.Error("GOV.CO bar on by default; want off")
	}
}
