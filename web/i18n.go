package web

// texts are the words of the pages, Spanish (es-CO) and English.
var texts = map[string]map[string]string{
	"es": {
		"title": "Mesa de Servicios", "lookup": "Consultar un caso", "number": "Número de caso",
		"key": "Clave (está en el correo de confirmación)", "search": "Consultar",
		"notfound": "No encontramos un caso con ese número y esa clave. Revise el correo de confirmación.",
		"state":    "Estado", "category": "Categoría", "type": "Tipo", "criticality": "Criticidad",
		"group": "Grupo que lo atiende", "created": "Creado", "due": "Solución prevista",
		"remaining": "Tiempo hábil restante", "overdue": "Vencido hace (tiempo hábil)", "paused": "En espera: el tiempo de solución está detenido",
		"nodue": "Sin tiempo de solución fijo (depende de la solicitud)", "history": "Historial",
		"add": "Agregar un comentario", "send": "Enviar", "language": "English", "solution": "Solución",
		"toomany": "Demasiadas consultas seguidas. Intente de nuevo en un minuto.", "bad": "Solicitud no válida.",
		"hours": "horas", "requester": "Usted", "desk": "Mesa de Servicios",
		"abierto": "Abierto", "en_proceso": "En proceso", "retenido": "Retenido", "cerrado": "Cerrado",
		"abierto_por_encuesta": "Abierto por encuesta", "incidente": "Incidente", "requerimiento": "Requerimiento",
		"alta": "Alta", "media": "Media", "baja": "Baja",
		"ev_created": "Solicitud recibida", "ev_comment": "Comentario", "ev_state_changed": "Cambio de estado",
		"ev_sla_paused": "Tiempo de solución detenido", "ev_sla_resumed": "Tiempo de solución reanudado",
	},
	"en": {
		"title": "Service Desk", "lookup": "Look up a ticket", "number": "Ticket number",
		"key": "Key (it is in the confirmation mail)", "search": "Look up",
		"notfound": "No ticket has that number and key. Check the confirmation mail.",
		"state":    "State", "category": "Category", "type": "Type", "criticality": "Criticality",
		"group": "Group in charge", "created": "Created", "due": "Expected resolution",
		"remaining": "Business time left", "overdue": "Overdue by (business time)", "paused": "On hold: the resolution clock is stopped",
		"nodue": "No fixed resolution time (depends on the request)", "history": "History",
		"add": "Add a comment", "send": "Send", "language": "Español", "solution": "Solution",
		"toomany": "Too many lookups in a row. Try again in a minute.", "bad": "Invalid request.",
		"hours": "hours", "requester": "You", "desk": "Service Desk",
		"abierto": "Open", "en_proceso": "In progress", "retenido": "On hold", "cerrado": "Closed",
		"abierto_por_encuesta": "Reopened by survey", "incidente": "Incident", "requerimiento": "Request",
		"alta": "High", "media": "Medium", "baja": "Low",
		"ev_created": "Request received", "ev_comment": "Comment", "ev_state_changed": "State changed",
		"ev_sla_paused": "Resolution clock stopped", "ev_sla_resumed": "Resolution clock resumed",
	},
}
