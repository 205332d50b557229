// Package i18n is the one catalogue of what people read, in Spanish (es,
// es-CO, the default) and English (en): the words of the web pages, the
// names of states, types and criticalities, the subjects of mail and every
// short phrase mail shows, and what package desk writes for people (the
// answers to technicians' commands and their help list, notes on
// tickets, the notices of unverified mail). Packages web, mailout and desk
// read it; nothing else holds user-facing words, except the bodies of
// mail, which are templates in mailout/templates (one file per kind and
// language, rendered in both languages by mailout's golden test). Desk's
// TestNoHardCodedSpanish keeps Spanish literals out of package desk.
//
// A key the catalogue lacks is never rendered as "": Text returns an
// error, T a visible ⟦key⟧, and the tests check that every key has both
// languages.
package i18n

import "fmt"

// Langs are the catalogue's languages, the default first.
var Langs = []string{"es", "en"}

// message is one entry in both languages.
type message struct{ es, en string }

// messages is the catalogue. Keys of the pages are short words; keys of
// mail start with "mail."; ticket states, types and criticalities are
// keyed by their value (abierto, incidente, alta…).
var messages = map[string]message{
	// Pages, and the names of states, types and criticalities.
	"title":                {"Mesa de Servicios", "Service Desk"},
	"lookup":               {"Consultar un caso", "Look up a ticket"},
	"number":               {"Número de caso", "Ticket number"},
	"key":                  {"Clave (está en el correo de confirmación)", "Key (it is in the confirmation mail)"},
	"search":               {"Consultar", "Look up"},
	"notfound":             {"No encontramos un caso con ese número y esa clave. Revise el correo de confirmación.", "No ticket has that number and key. Check the confirmation mail."},
	"state":                {"Estado", "State"},
	"category":             {"Categoría", "Category"},
	"type":                 {"Tipo", "Type"},
	"criticality":          {"Criticidad", "Criticality"},
	"group":                {"Grupo que lo atiende", "Group in charge"},
	"created":              {"Creado", "Created"},
	"due":                  {"Solución prevista", "Expected resolution"},
	"remaining":            {"Tiempo hábil restante", "Business time left"},
	"overdue":              {"Vencido hace (tiempo hábil)", "Overdue by (business time)"},
	"paused":               {"En espera: el tiempo de solución está detenido", "On hold: the resolution clock is stopped"},
	"nodue":                {"Sin tiempo de solución fijo (depende de la solicitud)", "No fixed resolution time (depends on the request)"},
	"history":              {"Historial", "History"},
	"add":                  {"Agregar un comentario", "Add a comment"},
	"send":                 {"Enviar", "Send"},
	"language":             {"English", "Español"},
	"solution":             {"Solución", "Solution"},
	"toomany":              {"Demasiadas consultas seguidas. Intente de nuevo en un minuto.", "Too many lookups in a row. Try again in a minute."},
	"bad":                  {"Solicitud no válida.", "Invalid request."},
	"hours":                {"horas", "hours"},
	"requester":            {"Usted", "You"},
	"desk":                 {"Mesa de Servicios", "Service Desk"},
	"file_notfound":        {"Este enlace de descarga no es válido.", "This download link is not valid."},
	"file_expired":         {"Este enlace de descarga venció. Pida el archivo de nuevo respondiendo al correo del caso.", "This download link has expired. Ask for the file again by replying to the ticket's mail."},
	"abierto":              {"Abierto", "Open"},
	"en_proceso":           {"En proceso", "In progress"},
	"retenido":             {"Retenido", "On hold"},
	"cerrado":              {"Cerrado", "Closed"},
	"abierto_por_encuesta": {"Abierto por encuesta", "Reopened by survey"},
	"incidente":            {"Incidente", "Incident"},
	"requerimiento":        {"Requerimiento", "Request"},
	"alta":                 {"Alta", "High"},
	"media":                {"Media", "Medium"},
	"baja":                 {"Baja", "Low"},
	"ev_created":           {"Solicitud recibida", "Request received"},
	"ev_comment":           {"Comentario", "Comment"},
	"ev_state_changed":     {"Cambio de estado", "State changed"},
	"ev_sla_paused":        {"Tiempo de solución detenido", "Resolution clock stopped"},
	"ev_sla_resumed":       {"Tiempo de solución reanudado", "Resolution clock resumed"},
	"ev_sla_started":       {"Tiempo de solución: vence", "Resolution due"},
	"ev_sla_due_changed":   {"Nueva fecha de solución", "New resolution date"},
	"ev_sla_breached":      {"Tiempo de solución vencido", "Resolution time exceeded"},
	"ev_sla_met":           {"Resuelto dentro del tiempo de solución", "Solved within the resolution time"},
	"survey_title":         {"Encuesta de satisfacción", "Satisfaction survey"},
	"survey_about":         {"Caso", "Ticket"},
	"survey_solved":        {"¿Se resolvió su solicitud?", "Was your request solved?"},
	"survey_rating":        {"¿Cómo califica la atención?", "How do you rate the service?"},
	"survey_scale":         {"1 = muy mala, 5 = excelente", "1 = very poor, 5 = excellent"},
	"survey_comment":       {"Comentario (opcional)", "Comment (optional)"},
	"yes":                  {"Sí", "Yes"},
	"no":                   {"No", "No"},
	"survey_thanks":        {"Gracias por responder. Su opinión nos ayuda a mejorar.", "Thank you for answering. Your opinion helps us improve."},
	"survey_reopened":      {"Gracias por responder. Reabrimos el caso y un técnico lo retomará; le escribiremos por correo.", "Thank you for answering. We reopened the ticket and a technician will take it up; we will write to you."},
	"survey_unknown":       {"Este enlace de encuesta no es válido. Revise que lo copió completo.", "This survey link is not valid. Check that you copied it whole."},
	"survey_answered":      {"Esta encuesta ya fue respondida. ¡Gracias!", "This survey was already answered. Thank you!"},
	"survey_expired":       {"Esta encuesta venció. Si su solicitud no quedó resuelta, responda el correo del caso.", "This survey has expired. If your request was not solved, answer the ticket's mail."},
	"survey_incomplete":    {"Responda si se resolvió su solicitud y elija una calificación del 1 al 5.", "Say whether your request was solved and choose a rating from 1 to 5."},
	"mine_title":           {"Mis solicitudes", "My requests"},
	"mine_intro":           {"Escriba su correo institucional: le enviaremos un enlace para ver las solicitudes que ha hecho a la Mesa de Servicios.", "Type your work address: we will mail you a link to the requests you have made to the Service Desk."},
	"mine_address":         {"Correo electrónico", "E-mail address"},
	"mine_send":            {"Enviarme el enlace", "Send me the link"},
	"mine_sent":            {"Si esa dirección tiene solicitudes, en unos minutos le llegará un correo con el enlace (válido por 30 minutos).", "If that address has requests, a mail with the link (valid for 30 minutes) will arrive in a few minutes."},
	"mine_of":              {"Solicitudes de", "Requests of"},
	"mine_none":            {"No hay solicitudes.", "No requests."},
	"subject":              {"Asunto", "Subject"},
	"mine_expired":         {"Este enlace venció. Pida uno nuevo.", "This link has expired. Ask for a new one."},
	"mine_bad":             {"Escriba una dirección de correo válida.", "Type a valid e-mail address."},
	// The layout around every page: skip link, footer, GOV.CO bar.
	"skip":              {"Saltar al contenido principal", "Skip to main content"},
	"error":             {"Error", "Error"},
	"ticket_title":      {"Caso %s", "Ticket %s"},
	"ticket_facts":      {"Datos del caso", "Ticket details"},
	"comment_label":     {"Su comentario", "Your comment"},
	"page_notfound":     {"Página no encontrada", "Page not found"},
	"page_notfound_msg": {"La dirección no corresponde a ninguna página de la Mesa de Servicios. Revise que la copió completa.", "The address matches no page of the Service Desk. Check that you copied it whole."},
	"home":              {"Ir al inicio", "Go to the start page"},
	"privacy":           {"Política de tratamiento de datos personales", "Personal data policy"},
	"contact":           {"Contacto", "Contact"},
	"address":           {"Dirección", "Address"},
	"phone":             {"Teléfono", "Phone"},
	"hours_label":       {"Horario de atención", "Service hours"},
	"email":             {"Correo electrónico", "E-mail"},
	"govco":             {"Portal del Estado colombiano GOV.CO", "GOV.CO, the Colombian State's portal"},
	"required":          {"obligatorio", "required"},
	// Mail.
	"mail.subject.ack":           {"Recibido: %s", "Received: %s"},
	"mail.subject.answer":        {"RE: %s", "RE: %s"},
	"mail.subject.closed":        {"Caso cerrado: %s", "Ticket closed: %s"},
	"mail.subject.assigned":      {"Asignado: %s", "Assigned: %s"},
	"mail.subject.requester":     {"Nuevo mensaje del solicitante: %s", "New message from the requester: %s"},
	"mail.subject.commands":      {"Resultado de comandos: %s", "Command results: %s"},
	"mail.subject.rejected":      {"Comandos no aplicados: %s", "Commands not applied: %s"},
	"mail.subject.failed":        {"No se pudo entregar un correo: %s", "A mail could not be delivered: %s"},
	"mail.subject.held":          {"Caso en espera: %s", "Ticket on hold: %s"},
	"mail.subject.survey":        {"Encuesta de satisfacción: %s", "Satisfaction survey: %s"},
	"mail.subject.survey_bad":    {"Encuesta desfavorable: %s", "Unfavourable survey: %s"},
	"mail.subject.mine":          {"Sus solicitudes a la %s", "Your requests to the %s"},
	"mail.subject.undeliverable": {"ALERTA: una dirección de la mesa no recibe correo: %s", "ALERT: a desk address does not receive mail: %s"},
	"mail.subject.empty":         {"Su mensaje a la %s llegó vacío", "Your message to the %s arrived empty"},
	"mail.subject.sla_breached":  {"Alerta de ANS — vencidos: %d, por vencer: %d", "SLA alert — past due: %d, close to due: %d"},
	"mail.subject.sla_warned":    {"Aviso de ANS — por vencer: %d", "SLA warning — close to due: %d"},
	"mail.subject.digest":        {"Resumen %s de la Mesa de Servicios — abiertos: %d, vencidos: %d", "%s Service Desk digest — open: %d, past due: %d"},
	"mail.digest.daily":          {"diario", "Daily"},
	"mail.digest.weekly":         {"semanal", "Weekly"},
	"mail.digest.chart_alt":      {"Cumplimiento diario del ANS, últimos 14 días", "Daily SLA compliance, last 14 days"},
	"mail.digest.no_closures":    {"sin cierres", "no closures"},
	"mail.survey.unanswered":     {"sin respuesta", "no answer"},
	"mail.yes":                   {"sí", "yes"},
	"mail.no":                    {"no", "no"},
	"mail.nobody":                {"nadie", "nobody"},
	// The monthly report mail to managers.
	"mail.subject.monthly_report": {"Informe mensual de la %s — %s", "Monthly report of the %s — %s"},
	// Mail of working the desk by mail (queues, duplicates, mass
	// incidents, absences).
	"mail.subject.queue_mine":      {"Sus casos abiertos: %d (vencidos: %d)", "Your open tickets: %d (past due: %d)"},
	"mail.subject.queue_pending":   {"Casos pendientes de %s: %d (vencidos: %d)", "Pending tickets of %s: %d (past due: %d)"},
	"mail.subject.queue_morning":   {"Su resumen de la mañana: %d casos abiertos, %d vencidos", "Your morning digest: %d open tickets, %d past due"},
	"mail.queue.whole_desk":        {"toda la mesa", "the whole desk"},
	"mail.subject.duplicate":       {"¿Duplicado?: %s", "Duplicate?: %s"},
	"mail.subject.linked":          {"Agregado a su caso: %s", "Added to your ticket: %s"},
	"mail.subject.mass_incident":   {"Posible incidente masivo: %d casos de %s", "Possible mass incident: %d tickets of %s"},
	"mail.subject.away_absent":     {"Casos de %s ofrecidos (%d): ausente, vuelve el %s", "Tickets of %s offered (%d): away, back on %s"},
	"mail.subject.away_departed":   {"Casos de %s devueltos al grupo: %d", "Tickets of %s back to the group: %d"},
	"mail.subject.commands_desk":   {"Resultado de sus comandos", "Result of your commands"},
	"mail.subject.rejected_desk":   {"Comandos no aplicados", "Commands not applied"},
	"desk.cmd.inactive":            {"Los comandos no se aplicaron: su usuario ya no está activo en la mesa de servicios.", "The commands were not applied: your user is no longer active at the service desk."},
	"desk.cmd.managers_only":       {"#pendientes es para gestores del proceso", "#pendientes is for the process managers"},
	"desk.cmd.not_your_group":      {"usted no es gestor del grupo %s", "you are not a manager of group %s"},
	"desk.cmd.digest_on":           {"recibirá el resumen de sus casos cada mañana hábil", "you will get the digest of your tickets every business morning"},
	"desk.cmd.digest_off":          {"ya no recibirá el resumen de la mañana (#resumen lo reactiva)", "you will no longer get the morning digest (#resumen turns it back on)"},
	"desk.cmd.away_over":           {"ausencia terminada: vuelve a recibir casos", "absence over: you get tickets again"},
	"desk.cmd.away_usage":          {"escriba #ausente hasta AAAA-MM-DD [correo del reemplazo]", "write #ausente hasta YYYY-MM-DD [replacement's address]"},
	"desk.cmd.away_past":           {"la fecha %s ya pasó", "the date %s is past"},
	"desk.cmd.away_too_far":        {"una ausencia dura a lo sumo un año", "an absence lasts at most a year"},
	"desk.cmd.away_bad_substitute": {"%s no es un técnico activo y presente de la mesa", "%s is not an active technician of the desk who is present"},
	"desk.cmd.away_set":            {"no recibirá casos nuevos hasta el %s (inclusive).", "you get no new tickets through %s."},
	"desk.cmd.away_offered":        {"Sus %d casos abiertos se ofrecieron a: %s.", "Your %d open tickets were offered to: %s."},
	"desk.cmd.take_usage":          {"escriba #tomar MS-… (uno o varios números)", "write #tomar MS-… (one or more numbers)"},
	"desk.cmd.mass_usage":          {"escriba #masivo MS-… MS-… (en la respuesta al caso principal, o con el principal primero)", "write #masivo MS-… MS-… (in a reply to the main ticket, or with the main one first)"},
	"desk.cmd.closed":              {"el caso %s ya está cerrado", "ticket %s is closed already"},
	"desk.cmd.already_linked":      {"el caso %s ya está vinculado a otro", "ticket %s is already linked to another"},
	"desk.cmd.mass_done":           {"%d casos vinculados bajo %s: al cerrarlo se cierran todos con la misma respuesta", "%d tickets linked under %s: closing it closes them all with the same answer"},
	"desk.cmd.merge_usage":         {"escriba #unir MS-… en la respuesta al correo del caso que se conserva", "write #unir MS-… in a reply to the mail of the ticket that stays"},
	"desk.cmd.merge_done":          {"el caso %s se unió a %s y quedó cerrado con la referencia", "ticket %s was merged into %s and closed with the reference"},
	"desk.note.possible_duplicate": {"Posible duplicado del caso %s del mismo solicitante (similitud %.2f). Si tratan lo mismo: #unir.", "Possible duplicate of ticket %s of the same requester (similarity %.2f). If they are the same: #unir."},
	"desk.note.mass_child":         {"Vinculado al caso %s (incidente masivo): se cerrará con su respuesta.", "Linked to ticket %s (mass incident): it will close with its answer."},
	"desk.note.mass_parent":        {"Casos vinculados a este (incidente masivo): %s.", "Tickets linked to this one (mass incident): %s."},
	"desk.note.merged_from":        {"Se unió a este caso el caso %s (historial, participantes y adjuntos).", "Ticket %s was merged into this one (history, participants and attachments)."},
	"desk.merged_into":             {"Su solicitud trata lo mismo que el caso %s, al que se unió: la atención continúa allí y le escribiremos desde ese caso.", "Your request is about the same thing as ticket %s, into which it was merged: the work goes on there and we will write to you from that ticket."},
	// The answers to technicians' commands, in the desk's language
	// (package desk).
	"desk.cmd.help_title":            {"Comandos disponibles:", "Available commands:"},
	"desk.cmd.not_applied":           {"no aplicado", "not applied"},
	"desk.cmd.unknown":               {"comando desconocido: %s", "unknown command: %s"},
	"desk.cmd.estado_usage":          {"#estado acepta en_proceso o retenido (para cerrar use #cerrar)", "#estado takes en_proceso or retenido (to close, use #cerrar)"},
	"desk.cmd.out_of_scope_usage":    {"#fuera_de_alcance necesita la orientación de a dónde dirigirse", "#fuera_de_alcance needs the guidance on where to turn instead"},
	"desk.cmd.requester_usage":       {"#solicitante solo sirve al comienzo de un correo nuevo a la mesa (no en la respuesta a un caso)", "#solicitante works only at the top of a new mail to the desk (not in a reply to a ticket)"},
	"desk.cmd.solution_required":     {"cerrar un caso requiere la solución o la orientación (guía 4.1.8)", "closing a ticket needs the solution or the guidance (guide 4.1.8)"},
	"desk.cmd.invalid_transition":    {"el ciclo de vida no permite ese cambio de estado (%s)", "the life cycle does not allow that change of state (%s)"},
	"desk.cmd.not_an_address":        {"%q no es una dirección de correo", "%q is not an e-mail address"},
	"desk.cmd.own_address":           {"%s es una dirección de la mesa", "%s is an address of the desk"},
	"desk.cmd.is_requester":          {"%s es el solicitante, que siempre recibe las respuestas", "%s is the requester, who always gets the answers"},
	"desk.cmd.assign_usage":          {"#asignar necesita la dirección de un técnico o un grupo", "#asignar needs a technician's address or a group"},
	"desk.cmd.group_no_technician":   {"el grupo %q no tiene técnicos activos", "group %q has no active technician"},
	"desk.cmd.group_no_second_level": {"el grupo %q no tiene técnicos activos de segundo nivel", "group %q has no active second-level technician"},
	"desk.cmd.not_a_technician":      {"%s no es un técnico activo de la mesa", "%s is not an active technician of the desk"},
	"desk.cmd.away_until":            {"%s está ausente hasta el %s", "%s is away until %s"},
	"desk.cmd.not_a_number":          {"%q no es un número de caso", "%q is not a ticket number"},
	"desk.cmd.too_many_numbers":      {"a lo sumo 100 números de caso", "at most 100 ticket numbers"},
	"desk.cmd.unknown_category":      {"categoría desconocida %q", "unknown category %q"},
	"desk.cmd.empty_comment":         {"comentario vacío", "empty comment"},
	"desk.cmd.unverified":            {"Los comandos no se aplicaron: el mensaje no pasó la verificación de autenticación (DMARC/DKIM) del servidor de correo de la entidad.", "The commands were not applied: the mail did not pass the authentication check (DMARC/DKIM) of the agency's mail server."},
	"desk.unverified.kept":           {"Su mensaje no se aplicó: el servidor de correo de la entidad no lo autenticó (DMARC/DKIM), así que se guardó como nota interna no verificada.", "Your mail was not applied: the agency's mail server did not authenticate it (DMARC/DKIM), so it was kept as an unverified internal note."},
	"desk.unverified.advice":         {"Si usted lo envió, escriba desde su cuenta institucional; si no, alguien intentó suplantarlo y conviene avisar a seguridad.", "If you sent it, write from your work account; if you did not, someone tried to impersonate you and security should be told."},
	// The list #ayuda answers and the assignment notice shows, line by
	// line in desk.HelpKeys' order.
	"desk.help.estado":           {"#estado en_proceso|retenido — cambia el estado del caso", "#estado en_proceso|retenido — changes the ticket's state"},
	"desk.help.retener":          {"#retener <motivo> — pone el caso en retenido (el ANS se detiene)", "#retener <reason> — puts the ticket on hold (the SLA clock stops)"},
	"desk.help.asignar":          {"#asignar <correo|grupo> — asigna el caso a un técnico o al grupo", "#asignar <address|group> — assigns the ticket to a technician or to the group"},
	"desk.help.escalar":          {"#escalar — pasa el caso al segundo nivel del grupo", "#escalar — passes the ticket to the group's second level"},
	"desk.help.criticidad":       {"#criticidad alta|media|baja — cambia la criticidad", "#criticidad alta|media|baja — changes the criticality (high, medium, low)"},
	"desk.help.categoria":        {"#categoria <clave> — cambia la categoría (por ejemplo ti.vpn)", "#categoria <key> — changes the category (for example ti.vpn)"},
	"desk.help.nota":             {"#nota <texto> — nota interna, nunca se envía al solicitante", "#nota <text> — internal note, never sent to the requester"},
	"desk.help.cerrar":           {"#cerrar <solución> — cierra el caso con la solución", "#cerrar <solution> — closes the ticket with the solution"},
	"desk.help.fuera_de_alcance": {"#fuera_de_alcance <orientación> — cierra el caso con la orientación (guía 4.1.8)", "#fuera_de_alcance <guidance> — closes the ticket with the guidance on where to turn (guide 4.1.8)"},
	"desk.help.cc":               {"#cc <correo> — el correo recibe copia de las respuestas y del cierre", "#cc <address> — the address gets a copy of the answers and of the closure"},
	"desk.help.sin_cc":           {"#sin_cc <correo> — el correo deja de recibir copias", "#sin_cc <address> — the address stops getting copies"},
	"desk.help.solicitante":      {"#solicitante <correo> — al comienzo de un correo nuevo a la mesa: abre el caso a nombre de esa persona", "#solicitante <address> — at the top of a new mail to the desk: opens the ticket in that person's name"},
	"desk.help.mis_casos":        {"#mis_casos — le enviamos sus casos abiertos, los de mayor riesgo de ANS primero", "#mis_casos — we mail you your open tickets, those most at risk of missing the SLA first"},
	"desk.help.pendientes":       {"#pendientes [grupo] — (gestores) los casos abiertos de sus grupos, o de uno", "#pendientes [group] — (managers) the open tickets of your groups, or of one"},
	"desk.help.resumen":          {"#resumen / #sin_resumen — recibir o no su resumen de cada mañana", "#resumen / #sin_resumen — get your morning digest, or not"},
	"desk.help.ausente":          {"#ausente hasta AAAA-MM-DD [reemplazo] — no recibe casos nuevos hasta esa fecha (inclusive); sus casos se ofrecen al reemplazo o al grupo (#ausente no: regresó)", "#ausente hasta YYYY-MM-DD [replacement] — no new tickets through that date; your tickets are offered to the replacement or to the group (#ausente no: you are back)"},
	"desk.help.tomar":            {"#tomar [MS-…] — toma este caso, o los casos indicados", "#tomar [MS-…] — takes this ticket, or the tickets named"},
	"desk.help.unir":             {"#unir MS-… — une ese caso a este: su historial, participantes y adjuntos pasan aquí y se cierra con la referencia", "#unir MS-… — merges that ticket into this one: its history, participants and attachments come here and it is closed with the reference"},
	"desk.help.masivo":           {"#masivo MS-… MS-… — vincula esos casos bajo este (o bajo el primero): al cerrar este se cierran todos con la misma respuesta", "#masivo MS-… MS-… — links those tickets under this one (or under the first): closing this one closes them all with the same answer"},
	"desk.help.new_mail":         {"Los comandos que no tratan de un caso (#mis_casos, #pendientes, #resumen, #ausente, #tomar MS-…, #masivo) también sirven en un correo nuevo a la mesa.", "The commands about no ticket (#mis_casos, #pendientes, #resumen, #ausente, #tomar MS-…, #masivo) also work in a new mail to the desk."},
	"desk.help.ayuda":            {"#ayuda — esta lista", "#ayuda — this list"},
	"desk.help.answer":           {"El texto que sigue a las líneas de comandos se envía al solicitante como respuesta.", "The text after the command lines is sent to the requester as the answer."},
	// What the desk writes on tickets: notes and event texts in the desk's
	// language, comments in the language of whoever reads them.
	"desk.note.unverified_mail":    {"⚠ NO VERIFICADO: este correo llegó con la dirección de %s pero el servidor de correo no lo autenticó; no se aplicó ningún comando ni se envió nada al solicitante.\nMotivo: %s\n\n%s", "⚠ NOT VERIFIED: this mail came with the address of %s but the mail server did not authenticate it; no command was applied and nothing was sent to the requester.\nReason: %s\n\n%s"},
	"desk.note.commands_refused":   {"Comandos NO aplicados: %s\n\n%s", "Commands NOT applied: %s\n\n%s"},
	"desk.note.unverified":         {"⚠ NO VERIFICADO: %s\nMotivo: %s", "⚠ NOT VERIFIED: %s\nReason: %s"},
	"desk.note.oversize":           {"[Mensaje de %.1f MB: supera el límite de tamaño; se leyó solo su encabezado y el original completo se conserva en el buzón de la mesa.]\n\n%s", "[Message of %.1f MB: over the size limit; only its header was read, and the whole original is kept in the desk's mailbox.]\n\n%s"},
	"desk.note.autoreply":          {"Respuesta automática recibida: %s", "Automatic reply received: %s"},
	"desk.note.reopened_by_reply":  {"Reabierto por respuesta del solicitante", "Reopened by the requester's reply"},
	"desk.note.reopened_by_survey": {"Reabierto por la encuesta de satisfacción", "Reopened by the satisfaction survey"},
	"desk.note.survey_expired":     {"Encuesta vencida sin respuesta", "Survey expired without an answer"},
	"desk.note.undelivered":        {"No se pudo entregar a %s: %s", "Could not deliver to %s: %s"},
	// Notes the outbox worker and the operators' commands write on tickets.
	"note.mail_failed":           {"No se pudo enviar «%s» a %s: %v", "Could not send “%s” to %s: %v"},
	"note.mail_released":         {"Correo %d liberado para reenvío por %s.", "Mail %d released for sending again by %s."},
	"note.mail_discarded":        {"Correo %d descartado (no se enviará) por %s.", "Mail %d discarded (it will not be sent) by %s."},
	"note.retention":             {"Retención: se eliminó %s (%d elemento(s), %d bytes), %d días después del cierre (%s). Se conservan la solicitud, su historial y los datos de cada mensaje y adjunto (remitente, asunto, nombre, tamaño, SHA-256).", "Retention: %s removed (%d item(s), %d bytes), %d days after closure (%s). The request, its history and each message's and file's data (sender, subject, name, size, SHA-256) are kept."},
	"note.retention.raw_mail":    {"el correo original", "the original mail"},
	"note.retention.attachments": {"el contenido de los adjuntos", "the content of the attachments"},
	"desk.comment.no_text":       {"(mensaje sin texto)", "(message without text)"},
	"desk.comment.files_only":    {"(Archivos adjuntos.)", "(Attached files.)"},
	"desk.survey.bad_rating":     {"la calificación va de 1 a 5", "the rating goes from 1 to 5"},
	"desk.mine.bad_address":      {"dirección de correo no válida", "invalid e-mail address"},
	"desk.operator.quarantined":  {"En cuarentena", "Quarantined"},
	"desk.operator.held":         {"Retenido", "Held"},
	// Operator alerts.
	"mail.subject.operator.reauth":      {"ALERTA: el buzón %s necesita una nueva autorización", "ALERT: mailbox %s needs re-authorisation"},
	"mail.subject.operator.unreachable": {"ALERTA: el buzón %s no responde", "ALERT: mailbox %s cannot be reached"},
	"mail.subject.operator.secret":      {"Aviso: el secreto de la aplicación del buzón %s vence en %d días", "Notice: the application secret of mailbox %s expires in %d days"},
	"mail.subject.operator.outbox":      {"ALERTA: el correo saliente falla%s", "ALERT: outgoing mail is failing%s"},
	"mail.subject.operator.held":        {"ALERTA: correo retenido para %s", "ALERT: mail held for %s"},
	"mail.subject.operator.batch":       {"Correo en cuarentena o retenido: %d%s", "Mail quarantined or held: %d%s"},
	"mail.subject.operator_resolved":    {"Resuelto: %s", "Resolved: %s"},
}

// Text is the message key in lang, or an error when the language or the
// key is unknown.
func Text(lang, key string) (string, error) {
	m, ok := messages[key]
	switch {
	case !ok:
		return "", fmt.Errorf("i18n: no message %q", key)
	case lang == "es":
		return m.es, nil
	case lang == "en":
		return m.en, nil
	}
	return "", fmt.Errorf("i18n: no language %q (es or en)", lang)
}

// T is Text for callers that cannot fail: a missing message shows as
// ⟦key⟧, never as "".
func T(lang, key string) string {
	s, err := Text(lang, key)
	if err != nil {
		return "⟦" + key + "⟧"
	}
	return s
}

// Tf formats the message key in lang with args.
func Tf(lang, key string, args ...any) string {
	return fmt.Sprintf(T(lang, key), args...)
}

// Table is every message of lang, for templates (which index it by key);
// nil for an unknown language.
func Table(lang string) map[string]string {
	if lang != "es" && lang != "en" {
		return nil
	}
	t := make(map[string]string, len(messages))
	for k := range messages {
		t[k], _ = Text(lang, k)
	}
	return t
}

// Keys lists every key of the catalogue.
func Keys() []string {
	keys := make([]string, 0, len(messages))
	for k := range messages {
		keys = append(keys, k)
	}
	return keys
}
