package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/store"
	"github.com/mesadeservicios/mesa/ticket"
)

// exportCommand is `mesa export --email ADDR --out FILE.zip`: everything
// mesa holds about a person, for a consulta under Ley 1581 de 2012 (to be
// answered within 10 business days): the tickets they requested (with
// every message, event and attachment), the tickets they took part in
// (with their own messages and actions), their mail that opened no
// ticket, the mail mesa sent them, and whether their address is marked
// undeliverable or belongs to a staff member.
func exportCommand() command {
	var o opFlags
	var email, out *string
	return command{flags: func(fs *flag.FlagSet) {
		o.add(fs, true)
		email = fs.String("email", "", "the person's e-mail address")
		out = fs.String("out", "", "zip file to write (must not exist)")
	}, run: func(ctx context.Context, e *env) int {
		addr := strings.ToLower(strings.TrimSpace(*email))
		if addr == "" || !strings.Contains(addr, "@") || *out == "" {
			fmt.Fprintln(e.stderr, "mesa export: --email ADDR and --out FILE.zip are required")
			return exitConfig
		}
		if _, err := os.Stat(*out); err == nil {
			fmt.Fprintf(e.stderr, "mesa export: %s already exists\n", *out)
			return exitConfig
		}
		db, ok := openOps(ctx, e, "export")
		if !ok {
			return exitFail
		}
		defer db.Close()
		actor := actorOf(*o.actor, e.environ)
		f, err := os.OpenFile(*out+".partial", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(e.stderr, "mesa export:", err)
			return exitFail
		}
		sum, err := writeExport(ctx, db, f, addr, actor, e.cfg.Desk.Name, time.Now())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(*out+".partial", *out)
		}
		if err == nil {
			err = db.RecordAction(ctx, &store.OperatorAction{At: time.Now(), Actor: actor, Action: "export", Target: addr,
				Detail: detail("file", *out, "tickets", sum.Tickets, "messages", sum.Messages, "attachments", sum.Attachments,
					"sent_mail", sum.SentMail)})
		}
		if err != nil {
			os.Remove(*out + ".partial")
			fmt.Fprintln(e.stderr, "mesa export:", err)
			return exitFail
		}
		if *o.json {
			writeJSON(e.stdout, sum)
		} else {
			fmt.Fprintf(e.stdout, "%s: %d ticket(s), %d message(s), %d attachment(s), %d mail(s) sent, %d event(s) about %s\n",
				*out, sum.Tickets, sum.Messages, sum.Attachments, sum.SentMail, sum.Events, addr)
		}
		return exitOK
	}}
}

// exportSummary counts what an export holds; it is also the archive's
// persona.json.
type exportSummary struct {
	Email         string    `json:"email"`
	GeneratedAt   time.Time `json:"generated_at"`
	GeneratedBy   string    `json:"generated_by"`
	Desk          string    `json:"desk"`
	Tickets       int       `json:"tickets"`
	Messages      int       `json:"messages"`
	Attachments   int       `json:"attachments"`
	Events        int       `json:"events"`
	SentMail      int       `json:"sent_mail"`
	Undeliverable string    `json:"undeliverable_reason,omitempty"`
	Staff         *struct {
		Name   string   `json:"name"`
		Role   string   `json:"role"`
		Groups []string `json:"groups"`
	} `json:"staff,omitempty"`
	TicketNumbers []string `json:"ticket_numbers"`
}

// exportTicket is a ticket as exported: every field but the access key's
// hash.
type exportTicket struct {
	Number        string     `json:"number"`
	Role          string     `json:"role"` // requester or participant
	Subject       string     `json:"subject"`
	Requester     string     `json:"requester"`
	RequesterName string     `json:"requester_name"`
	State         string     `json:"state"`
	Type          string     `json:"type"`
	Criticality   string     `json:"criticality"`
	Category      string     `json:"category"`
	Group         string     `json:"group"`
	Assignee      string     `json:"assignee"`
	Solution      string     `json:"solution"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DueAt         *time.Time `json:"due_at"`
	ClosedAt      *time.Time `json:"closed_at"`
}

type exportMessage struct {
	File        string    `json:"file,omitempty"` // absent once purged
	MessageID   string    `json:"message_id"`
	From        string    `json:"from"`
	Subject     string    `json:"subject"`
	ReceivedAt  time.Time `json:"received_at"`
	Disposition string    `json:"disposition"`
	Purged      bool      `json:"raw_purged,omitempty"`
}

type exportAttachment struct {
	File        string `json:"file,omitempty"` // absent when not stored apart (over 1 MiB: inside the .eml) or purged
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

type exportEvent struct {
	Kind  string    `json:"kind"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Body  string    `json:"body,omitempty"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to,omitempty"`
}

func writeExport(ctx context.Context, db *store.DB, w io.Writer, addr, actor, deskName string, now time.Time) (exportSummary, error) {
	sum := exportSummary{Email: addr, GeneratedAt: now.UTC(), GeneratedBy: actor, Desk: deskName, TicketNumbers: []string{}}
	z := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		fw, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return err
		}
		_, err = fw.Write(data)
		return err
	}
	putJSON := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return put(name, append(b, '\n'))
	}
	tickets, err := db.TicketsOfPerson(ctx, addr)
	if err != nil {
		return sum, err
	}
	for _, t := range tickets {
		dir := "solicitudes/" + t.Number + "/"
		own := strings.EqualFold(t.Requester, addr)
		et := exportTicket{Number: t.Number, Role: "participant", Subject: t.Subject, Requester: t.Requester,
			RequesterName: t.RequesterName, State: string(t.State), Type: string(t.Type), Criticality: string(t.Criticality),
			Category: t.Category, Group: t.Group, Assignee: t.Assignee, Solution: t.Solution, CreatedAt: t.CreatedAt,
			UpdatedAt: t.UpdatedAt, DueAt: t.DueAt, ClosedAt: t.ClosedAt}
		if own {
			et.Role = "requester"
		}
		if err := putJSON(dir+"solicitud.json", et); err != nil {
			return sum, err
		}
		msgs, err := db.MessagesOfTicket(ctx, t.ID)
		if err != nil {
			return sum, err
		}
		var em []exportMessage
		for _, m := range msgs {
			if !own && !strings.EqualFold(m.From, addr) {
				continue // another person's mail on a ticket this one only took part in
			}
			x := exportMessage{MessageID: m.MessageID, From: m.From, Subject: m.Subject, ReceivedAt: m.ReceivedAt,
				Disposition: m.Disposition, Purged: len(m.Raw) == 0}
			if len(m.Raw) > 0 {
				x.File = dir + "mensajes/" + strconv.FormatInt(m.ID, 10) + ".eml"
				if err := put(x.File, m.Raw); err != nil {
					return sum, err
				}
			}
			em = append(em, x)
		}
		sum.Messages += len(em)
		if err := putJSON(dir+"mensajes.json", nonNilSlice(em)); err != nil {
			return sum, err
		}
		var ea []exportAttachment
		if own {
			as, err := db.Attachments(ctx, t.ID)
			if err != nil {
				return sum, err
			}
			for _, a := range as {
				x := exportAttachment{Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256}
				if len(a.Data) > 0 {
					x.File = dir + "adjuntos/" + strconv.FormatInt(a.ID, 10) + "-" + ticket.SafeFilename(a.Filename)
					if err := put(x.File, a.Data); err != nil {
						return sum, err
					}
				}
				ea = append(ea, x)
			}
		}
		sum.Attachments += len(ea)
		if err := putJSON(dir+"adjuntos.json", nonNilSlice(ea)); err != nil {
			return sum, err
		}
		evs, err := db.Events(ctx, t.ID)
		if err != nil {
			return sum, err
		}
		var ee []exportEvent
		for _, ev := range evs {
			if !own && !strings.EqualFold(ev.Actor, addr) {
				continue
			}
			ee = append(ee, exportEvent{Kind: string(ev.Kind), Actor: ev.Actor, At: ev.At, Body: ev.Body, From: ev.From, To: ev.To})
		}
		sum.Events += len(ee)
		if err := putJSON(dir+"historial.json", nonNilSlice(ee)); err != nil {
			return sum, err
		}
		sum.TicketNumbers = append(sum.TicketNumbers, t.Number)
	}
	sum.Tickets = len(tickets)
	loose, err := db.MessagesFromWithoutTicket(ctx, addr)
	if err != nil {
		return sum, err
	}
	var el []exportMessage
	for _, m := range loose {
		x := exportMessage{MessageID: m.MessageID, From: m.From, Subject: m.Subject, ReceivedAt: m.ReceivedAt,
			Disposition: m.Disposition, Purged: len(m.Raw) == 0}
		if len(m.Raw) > 0 {
			x.File = "correos_sin_solicitud/" + strconv.FormatInt(m.ID, 10) + ".eml"
			if err := put(x.File, m.Raw); err != nil {
				return sum, err
			}
		}
		el = append(el, x)
	}
	sum.Messages += len(el)
	if err := putJSON("correos_sin_solicitud.json", nonNilSlice(el)); err != nil {
		return sum, err
	}
	sent, err := db.MailTo(ctx, addr)
	if err != nil {
		return sum, err
	}
	type sentMail struct {
		File      string     `json:"file"`
		Subject   string     `json:"subject"`
		State     string     `json:"state"`
		CreatedAt time.Time  `json:"created_at"`
		SentAt    *time.Time `json:"sent_at"`
	}
	var es []sentMail
	for _, m := range sent {
		x := sentMail{File: "correos_enviados/" + strconv.FormatInt(m.ID, 10) + ".eml", Subject: m.Subject,
			State: string(m.State), CreatedAt: m.CreatedAt, SentAt: m.SentAt}
		if err := put(x.File, m.Raw); err != nil {
			return sum, err
		}
		es = append(es, x)
	}
	sum.SentMail = len(es)
	if err := putJSON("correos_enviados.json", nonNilSlice(es)); err != nil {
		return sum, err
	}
	if reason, bad, err := db.IsUndeliverable(ctx, addr); err != nil {
		return sum, err
	} else if bad {
		sum.Undeliverable = reason
	}
	if p, err := db.PersonByEmail(ctx, addr); err == nil {
		sum.Staff = &struct {
			Name   string   `json:"name"`
			Role   string   `json:"role"`
			Groups []string `json:"groups"`
		}{p.Name, string(p.Role), nonNilSlice(p.Groups)}
	}
	if err := putJSON("persona.json", sum); err != nil {
		return sum, err
	}
	if err := put("README.txt", []byte(exportReadme(sum))); err != nil {
		return sum, err
	}
	return sum, z.Close()
}

// exportReadme explains the archive to the person who receives it.
func exportReadme(s exportSummary) string {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		loc = time.UTC
	}
	return strings.ReplaceAll(fmt.Sprintf(`Datos personales de %s en %s
Generado el %s (hora de Colombia) por %s.

Este archivo responde a una consulta de datos personales (Ley 1581 de 2012,
artículo 14; Decreto 1074 de 2015). Contiene toda la información que la
mesa de servicios conserva sobre esta dirección de correo:

  persona.json                 resumen: cuántas solicitudes, mensajes, adjuntos
                               y correos enviados; si la dirección está marcada
                               como no entregable; si pertenece a un funcionario
                               de la mesa (nombre, rol, grupos).
  solicitudes/NÚMERO/          una carpeta por solicitud (%d en total):
    solicitud.json             los datos de la solicitud: asunto, estado, tipo,
                               criticidad, categoría, responsable, solución y
                               fechas. "role" dice si usted la pidió (requester)
                               o participó en ella (participant).
    mensajes.json, mensajes/   los correos recibidos, tal como llegaron (.eml,
                               se abren con cualquier programa de correo). En
                               las solicitudes en que usted solo participó,
                               únicamente sus propios correos.
    adjuntos.json, adjuntos/   los archivos adjuntos guardados aparte. Los de
                               más de 1 MiB van dentro del correo .eml.
    historial.json             cada acción sobre la solicitud, con quién y
                               cuándo (en las que solo participó, las suyas).
  correos_sin_solicitud/       correos suyos que no abrieron solicitud
                               (respuestas automáticas, cuarentena).
  correos_enviados/            los correos que la mesa le envió (.eml).

Las fechas están en UTC (formato RFC 3339). Cuando un mensaje o adjunto
figura sin archivo y con "raw_purged": true, su contenido se eliminó según la
política de retención documental de la entidad; se conservan sus datos
(remitente, asunto, fecha, nombre, tamaño, huella SHA-256).

Si encuentra datos inexactos puede pedir su corrección o supresión (reclamo,
artículo 15 de la Ley 1581) respondiendo a la mesa de servicios.
`, s.Email, s.Desk, s.GeneratedAt.In(loc).Format("2006-01-02 15:04"), s.GeneratedBy, s.Tickets), "\n", "\r\n")
}
