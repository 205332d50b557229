package demo

import (
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/config"
)

// SeedMail is one mail the demo starts with.
type SeedMail struct{ From, Name, Subject, Body string }

// Seed are the messages the demo starts with: how employees really write.
var Seed = []SeedMail{
	{"ana.rojas", "Ana Rojas", "La impresora del piso 3 no imprime", "Buenos días, la impresora del tercer piso no imprime desde esta mañana, dice que hay papel atascado pero ya revisamos.\n\nCordialmente,\nAna Rojas\nProfesional Especializado\nExt. 4521"},
	{"jose.perez", "José Pérez", "No conecta la VPN", "Desde la casa el FortiClient no conecta, dice credenciales inválidas."},
	{"regional.narino", "Dirección Regional Nariño", "Goteras en la sede", "Cada vez que llueve entra agua por el techo, hoy se mojaron los expedientes del área de atención."},
	{"paula.castro", "Paula Castro", "Instalación de Adobe", "Solicito la instalación de Adobe Acrobat en mi equipo. No es urgente, cuando puedan."},
	{"miguel.angel", "Miguel Ángel", "silla coja", "Mi silla está coja, se le dañó una rodachina y el pistón no sube."},
	{"liliana.ortiz", "Liliana Ortiz", "No me llegan los correos", "Desde ayer no me llegan los correos externos al correo institucional."},
	{"talento.humano", "Talento Humano", "Creación de usuario de red", "Solicitamos la creación de usuario de dominio y correo para Marcela Ríos, que ingresa el lunes."},
	{"regional.atlantico", "Regional Atlántico", "Sin energía en la sede", "La sede está sin energía desde las 7 am y no podemos trabajar."},
	{"coord.atencion", "Coordinación de Atención", "Cafetería para reunión", "Para la reunión del jueves con los alcaldes solicitamos tinto y aromática para 20 personas."},
	{"oscar.m", "Óscar M.", "Robo en la oficina", "Anoche se robaron dos portátiles de la oficina 204. Necesitamos revisar las cámaras de seguridad."},
	{"juliana.mora", "Juliana Mora", "Respaldo en OneDrive", "Me van a cambiar el portátil y necesito respaldar mis archivos en OneDrive antes de entregarlo."},
	{"ana.gil", "Ana Gil", "ayuda", "Buenas, necesito ayuda con algo, ¿me pueden llamar a la extensión 2301?"},
}

// SeedAll delivers the seed mail to the desk.
func (m *MailSystem) SeedAll() error {
	for i, s := range Seed {
		if err := m.Deliver(DeskAddress, Message(s.From, s.Name, s.Subject, s.Body, "", i)); err != nil {
			return err
		}
	}
	return nil
}

// Message is a plain-text mail from a demo user to the desk; extra holds
// more header lines (CRLF-terminated); n makes the Message-ID unique.
func Message(from, name, subject, body, extra string, n int) []byte {
	return []byte(fmt.Sprintf("From: %s <%s@%s>\r\nTo: Mesa de Servicios <%s>\r\nSubject: %s\r\n"+
		"Message-ID: <demo-%d-%d@%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		mimeWord(name), from, Domain, DeskAddress, mimeWord(subject), n, time.Now().UnixNano(), Domain,
		time.Now().Format(time.RFC1123Z), extra, strings.ReplaceAll(body, "\n", "\r\n")))
}

func mimeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return "=?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
		}
	}
	return s
}

// Configure points cfg at the mail system: the desk's mailbox and SMTP
// server, a SQLite database at dbPath, links to publicURL, the demo's
// groups and two technicians; the rest stays as it is (config.Default()).
func (m *MailSystem) Configure(cfg *config.Config, dbPath, publicURL string) {
	ih, ip, _ := net.SplitHostPort(m.IMAPAddr())
	sh, sp, _ := net.SplitHostPort(m.SMTPAddr())
	cfg.Database.URL = "sqlite:" + dbPath
	cfg.HTTP.Listen, cfg.HTTP.PublicURL, cfg.HTTP.AdminListen = "127.0.0.1:0", publicURL, "127.0.0.1:0"
	cfg.Desk.Addresses = []string{DeskAddress}
	cfg.IMAP = config.IMAP{Host: ih, TLS: "none", InsecurePlaintext: true, Auth: "password", Username: "mesa", Password: "mesapw",
		Mailbox: "INBOX", ProcessedMailbox: "Procesados", QuarantineMailbox: "Cuarentena", PollInterval: time.Second}
	cfg.IMAP.Port, _ = strconv.Atoi(ip)
	cfg.SMTP = config.SMTP{Host: sh, TLS: "none", InsecurePlaintext: true, Auth: "password"}
	cfg.SMTP.Port, _ = strconv.Atoi(sp)
	cfg.Auth = config.Auth{TrustedAuthServID: "mx." + Domain, Require: true}
	groups := []string{"soporte", "infraestructura", "desarrollo", "redes", "bienes", "documental", "mantenimiento", "servicios"}
	cfg.Groups = nil
	for _, g := range groups {
		cfg.Groups = append(cfg.Groups, config.Group{Key: g, Name: g})
	}
	cfg.People = []config.Person{
		{Email: "carlos.mejia@" + Domain, Name: "Carlos Mejía", Role: "technician", Level: 1, Groups: groups},
		{Email: "diana.vela@" + Domain, Name: "Diana Vela", Role: "technician", Level: 2, Groups: groups},
	}
}
