package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

func mustDefault(t testing.TB) *Engine {
	t.Helper()
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDefaultCatalogue(t *testing.T) {
	e := mustDefault(t)
	if n := len(e.Names()); n != 17+3+11+5+8 {
		t.Errorf("got %d categories, want 44", n)
	}
	// Resolution times of the guide (4.2.1.x).
	for key, want := range map[string]time.Duration{"ti.soporte": 150 * time.Minute, "ti.colaborativas": 150 * time.Minute,
		"ti.onedrive": 150 * time.Minute, "ti.recursos": 150 * time.Minute, "ti.aplicaciones": 8 * time.Hour,
		"ti.usuarios": 8 * time.Hour, "ti.compartidos": 8 * time.Hour, "ti.vpn": 8 * time.Hour, "ti.wifi": 8 * time.Hour,
		"ti.respaldo": 27 * time.Hour, "ti.redes": 8 * time.Hour, "ti.comunicaciones": 8 * time.Hour,
		"ti.sitios": 8 * time.Hour, "ti.firewall": 8 * time.Hour} {
		c, _ := e.Category(key)
		if got, ok := c.ResolutionFor(ticket.Media); !ok || got != want {
			t.Errorf("%s: got %s %v, want %s", key, got, ok, want)
		}
	}
	for _, key := range []string{"ti.desarrollo", "ti.bases-datos", "ti.servidores"} {
		c, _ := e.Category(key)
		if _, ok := c.ResolutionFor(ticket.Alta); ok {
			t.Errorf("%s: the guide says it depends; got a resolution time", key)
		}
	}
	vpn, _ := e.Category("ti.vpn")
	uc, _ := e.Category("ti.comunicaciones")
	if len(vpn.Attachments) == 0 || !strings.Contains(vpn.Attachments[0], "F-DE-10") || !strings.Contains(uc.Attachments[0], "F-AL-21") {
		t.Errorf("form hints: %v %v", vpn.Attachments, uc.Attachments)
	}
	for _, k := range e.Names() {
		c, _ := e.Category(k)
		if strings.HasPrefix(k, "adm.") && !c.ResolutionDefault {
			t.Errorf("%s: administrative times are mesa's defaults and must be marked so", k)
		}
	}
}

func TestStemAndFold(t *testing.T) {
	for in, want := range map[string]string{"impresoras": "impresor", "impresora": "impresor", "IMPRESORA": "impresor",
		"caídos": "caid", "caída": "caid", "luces": "luz", "redes": "red", "paredes": "pared", "baños": "ban",
		"contraseña": "contrasen", "wifi": "wifi", "f": "f", "10": "10"} {
		toks := tokenize(in, nil)
		if len(toks) != 1 || toks[0].stem != want {
			t.Errorf("%q: got %+v, want stem %q", in, toks, want)
		}
	}
	toks := tokenize("Wi-Fi, F-DE-10; ¡VPN!", nil)
	var words []string
	for _, t := range toks {
		words = append(words, t.word)
	}
	if strings.Join(words, " ") != "wi fi f de 10 vpn" {
		t.Errorf("got %q", words)
	}
}

func TestClean(t *testing.T) {
	body := `Buenos días,

La impresora no imprime.

Cordialmente,
Ana Rojas
Profesional - GIT Redes y Comunicaciones
Ext. 4521

El lun, 2 mar 2026 a las 9:00, Mesa <mesa@x.co> escribió:
> VPN caída`
	if got := Clean(body); got != "Buenos días,\n\nLa impresora no imprime." {
		t.Errorf("got %q", got)
	}
	outlook := "Ya funciona, gracias por la ayuda.\n\nDe: Mesa de Servicios <mesa@x.co>\nEnviado: lunes\nAsunto: silla"
	if got := Clean(outlook); got != "Ya funciona, gracias por la ayuda." {
		t.Errorf("outlook quote: got %q", got)
	}
	// A closing formula on the first line is a greeting, not a signature.
	if got := Clean("Gracias\nla silla está coja"); !strings.Contains(got, "silla") {
		t.Errorf("got %q", got)
	}
}

func classify(t *testing.T, subject, body string) Result {
	t.Helper()
	return mustDefault(t).Classify(Message{From: "ana@entidad.gov.co", Subject: subject, Body: body})
}

func TestClassifyCases(t *testing.T) {
	tests := []struct {
		name, subject, body string
		cat                 string
		typ                 ticket.Type
		crit                ticket.Criticality
	}{
		{"mail failure", "", "no me abre el correo desde ayer", "ti.colaborativas", ticket.Incidente, ticket.Media},
		{"wobbly chair", "", "la silla está coja", "adm.muebles.silla", ticket.Incidente, ticket.Media},
		{"leak over desk", "", "gotera encima del puesto", "adm.inmuebles.cubierta", ticket.Incidente, ticket.Media},
		{"negation", "Internet", "No es la impresora, es que no hay internet en todo el piso", "ti.redes", ticket.Incidente, ticket.Alta},
		{"request vpn", "Solicitud", "Solicito acceso remoto por VPN para trabajo en casa", "ti.vpn", ticket.Requerimiento, ticket.Media},
		{"low", "", "Cuando puedan me cambian el bombillo de la oficina, no es urgente", "adm.inmuebles.iluminacion", ticket.Incidente, ticket.Baja},
		{"vague", "hola", "Me pueden llamar por favor", ticket.Unclassified, ticket.Requerimiento, ticket.Media},
		{"signature ignored", "", "Necesito una silla nueva.\n\nCordialmente,\nLuis\nCoordinador GIT Redes y Telefonía\nExt 3000", "adm.muebles.silla", ticket.Requerimiento, ticket.Media},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := classify(t, tc.subject, tc.body)
			if r.Category != tc.cat || r.Type != tc.typ || r.Criticality != tc.crit {
				t.Errorf("got %s %s %s, want %s %s %s (%v)", r.Category, r.Type, r.Criticality, tc.cat, tc.typ, tc.crit, r.Matched)
			}
		})
	}
}

func TestSubjectWeighsMore(t *testing.T) {
	r := classify(t, "Silla", "también la impresora")
	if r.Category != "adm.muebles.silla" {
		t.Errorf("got %s, want the subject's category (%v)", r.Category, r.Matched)
	}
}

func TestPriorityAndErrors(t *testing.T) {
	file := `threshold: 1
priority:
  - name: rectoría
    domain: rectoria.gov.co
    category: ti.vpn
    criticidad: alta
categories:
  - key: ti.vpn
    name: Acceso Remoto
    area: ti
    resolution: 8h
    keywords: {3: [vpn]}
`
	e, err := Parse("x.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Classify(Message{From: "jefe@Rectoria.gov.co", Subject: "hola", Body: "nada que ver"})
	if r.Category != "ti.vpn" || r.Criticality != ticket.Alta || !strings.Contains(strings.Join(r.Matched, ";"), "priority: rectoría") {
		t.Errorf("priority rule: got %+v", r)
	}
	bad := strings.Replace(file, "resolution: 8h", "resolution: pronto", 1)
	bad = strings.Replace(bad, "category: ti.vpn", "category: ti.nope", 1)
	_, err = Parse("x.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:8") || !strings.Contains(err.Error(), "pronto") ||
		!strings.Contains(err.Error(), "x.yaml:3") || !strings.Contains(err.Error(), "ti.nope") {
		t.Errorf("errors should name file:line of each problem, got %v", err)
	}
	if _, err := Parse("y.yaml", []byte("threshold: 1\nsinonimos: []\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("unknown key: got %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"2h30m": 150 * time.Minute, "8h": 8 * time.Hour, "3d": 27 * time.Hour, "1.5d": 810 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%q: got %s %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tres", "-1h", "0d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
}

func TestSuggest(t *testing.T) {
	e := mustDefault(t)
	got := e.Suggest([]ticket.Recategorization{
		{Category: "ti.soporte", Subject: "Kiosko", Body: "El kiosko digital no enciende"},
		{Category: "ti.soporte", Subject: "ayuda", Body: "kiosko de turnos bloqueado"},
		{Category: "adm.muebles.silla", Subject: "x", Body: "butaco roto"},
	}, 2)
	if len(got) != 2 || got[1].Category != "ti.soporte" || got[1].Tickets != 2 || got[1].Words[0].Word != "kiosko" || got[1].Words[0].Count != 2 {
		t.Fatalf("got %+v", got)
	}
	for _, w := range got[1].Words {
		if w.Word == "enciende" || w.Word == "el" {
			t.Errorf("%q is a stopword or already a keyword", w.Word)
		}
	}
}

func FuzzClassify(f *testing.F) {
	e := mustDefault(f)
	f.Add("Impresora", "no imprime\n> cita\nCordialmente,\nAna")
	f.Add("", "no es la no es la no")
	f.Add("\xff", "wi-fi F-DE-10 ñ Ñ")
	f.Fuzz(func(t *testing.T, subject, body string) {
		r := e.Classify(Message{Subject: subject, Body: body})
		if _, ok := e.Category(r.Category); !ok && r.Category != ticket.Unclassified {
			t.Fatalf("unknown category %q", r.Category)
		}
		if !r.Type.Valid() || !r.Criticality.Valid() || r.Score < 0 {
			t.Fatalf("invalid result %+v", r)
		}
		if c := Clean(body); len(c) > len(body) {
			t.Fatalf("Clean grew the body: %q → %q", body, c)
		}
	})
}
