package rules

import (
	"slices"
	"strings"
	"sync"
)

// Cues are what a first-level technician reads for the criticality and
// the type of a mail (guide 4.7 and 4.8), beside its topic: how many are
// affected (a group, an office, a site, the citizens, or one person),
// whether work is stopped or only degraded, a deadline, a safety risk, or
// a request with no operational impact ("cuando puedan", a how-to, a new
// item). Each cue is a list of phrases matched like the catalogue's
// keywords (folded, plural and gender endings, "word*" prefixes, the
// catalogue's negations: "no es urgente" does not count as urgente); its
// feature q:<cue> is log(1+the number of its phrases found). The learned
// criticality also reads them combined with the predicted type (stack.go).
//
// They are part of the model's features, not of the operators' catalogue:
// changing them changes the model, which must then be retrained.
const (
	cueScopeAll = iota
	cueScopeUnit
	cueScopeCount
	cueScopeMe
	cueCitizen
	cueSafety
	cueStopped
	cueBlocked
	cueDeadline
	cueUrgent
	cueDegraded
	cueLow
	cueHowTo
	cueRequest
	cueNew
	cuePersist
	cueDataLoss
	cueVIP
	cueMinor
	cueQuestion
	cueExclaim
	numCues
)

var cueNames = [numCues]string{"scope_all", "scope_unit", "scope_count", "scope_me", "citizen", "safety",
	"stopped", "blocked", "deadline", "urgent", "degraded", "low", "howto", "request", "new", "persist",
	"dataloss", "vip", "minor", "question", "exclaim"}

// cuePhrases are the phrases of each cue; scope_count, question and
// exclaim are counted in code (cueCounts).
var cuePhrases = [numCues][]string{
	cueScopeAll: {"todos", "todas", "toda la", "todo el", "ninguno", "ninguna", "ningun", "nadie", "general",
		"masivo", "masiva", "varios", "varias", "los demas tampoco", "a todos", "afecta a"},
	cueScopeUnit: {"la oficina", "el piso", "la sede", "la regional", "el edificio", "el grupo", "el area",
		"la dependencia", "la direccion", "el despacho", "la entidad", "el auditorio", "la sala", "el equipo de trabajo",
		"la subdireccion", "la territorial", "dt", "la seccional", "el punto de atencion"},
	cueScopeMe: {"solo a mi", "solo mi", "solo yo", "solo me", "los demas si", "mi equipo", "mi computador",
		"mi compu", "mi portatil", "mi puesto", "mi usuario", "mi correo", "mi cuenta", "mi clave", "mi contrasena",
		"mi celular", "mi extension", "mi silla", "mi escritorio", "mi oficina"},
	cueCitizen: {"ciudadano*", "usuarios externos", "beneficiario*", "fila", "publico", "ventanilla",
		"atencion al", "atender", "atendiendo", "portal", "pagina web", "sitio web", "tramite*", "radicar",
		"radicacion", "pqrs*", "contribuyente*", "la gente", "personas esperando"},
	cueSafety: {"chispa*", "humo", "incendi*", "fuego", "quemad*", "cortocircuito", "corto circuito", "inunda*",
		"rebos*", "riesgo", "peligr*", "casi le cae", "casi me cae", "se puede caer", "a punto de caer", "puede caer",
		"lesion*", "herid*", "accidente", "electrocut*", "descarga electrica", "corrientazo", "miedo", "hurto",
		"robo", "robaron", "gas", "cables pelados", "cable pelado", "expuesto", "expuestos", "olor a quemado",
		"se desplomo", "colaps*", "emergencia", "evacuar", "intrus*", "ataque", "hackeo", "ransomware",
		"phishing", "virus", "sospechoso", "resbal*", "se cayo encima", "dengue", "hospitaliz*", "intoxic*",
		"ambulancia", "desmay*", "sangr*", "culebra*", "serpiente*", "alacran*", "ratas", "roedor*", "plaga",
		"no es seguro", "insegur*", "se metieron", "ladron*", "se llevaron", "vandal*", "amenaz*", "recalent*",
		"sobrecalent*", "colgando", "vidrios rotos", "vidrio roto", "le cayo encima", "le puede caer",
		"contaminad*", "vomit*", "escape de gas", "huele a gas", "asfixi*", "sin ventilacion"},
	cueStopped: {"no podemos trabajar", "no se puede trabajar", "no podemos atender", "paraliz*", "detenid*",
		"caido", "se cayo el sistema", "fuera de servicio", "no funciona nada", "nada funciona", "sin sistema",
		"sin internet", "sin luz", "sin energia", "sin agua", "sin red", "estamos sin", "todo parado", "parados",
		"no podemos hacer nada", "no podemos", "no pueden", "no hay servicio", "sin servicio", "se fue la luz",
		"se fue el internet", "se cayo", "no hay sistema", "suspendid*", "sin tono", "no tienen tono",
		"sin corriente", "sin telefono", "sin conexion", "no hay conexion", "ninguno funciona", "ninguno sirve",
		"nadie puede", "ninguno puede", "nadie ha podido", "esta parado", "esta parada", "no podemos atender"},
	cueBlocked: {"no puedo trabajar", "no puedo", "no he podido", "no ha podido", "no me deja", "no me dejan",
		"no pude", "bloquead*", "impide", "impidiendo", "imposibilit*", "sin acceso", "me toca esperar",
		"estoy parado", "estoy parada", "no es posible", "no logro", "no he logrado", "no deja", "no permite",
		"sin poder", "no tengo", "quede sin", "me quede sin", "estoy sin"},
	cueDeadline: {"hoy", "manana", "esta semana", "esta tarde", "esta manana", "para el lunes", "para el martes",
		"para el miercoles", "para el jueves", "para el viernes", "el lunes", "el martes", "el miercoles",
		"el jueves", "el viernes", "antes de", "plazo", "vence", "vencimiento", "se vence", "a mas tardar",
		"es pa", "para hoy", "pa hoy", "lo antes posible", "cuanto antes", "inmediat*", "ya mismo", "cierre",
		"debe entregar", "tengo que entregar", "tenemos que entregar", "reunion", "comite", "audiencia",
		"juzgado", "tutela", "contraloria", "procuraduria", "ente de control", "visita", "evento", "en este momento",
		"ahora mismo", "fecha limite", "termino", "terminos"},
	cueUrgent: {"urgente", "urge", "urgencia", "me urge", "prioridad", "prioritario", "critico", "critica",
		"grave", "gravisimo", "ayudaaa", "ayudaaaa", "auxilio", "de inmediato", "lo mas pronto", "apenas puedan"},
	cueDegraded: {"lento", "lenta", "lentitud", "lentisimo", "lentisima", "intermitente", "a ratos", "se va",
		"se cae", "de vez en cuando", "a veces", "tarda", "demora", "se desconecta", "se congela", "se pega",
		"se traba", "se bloquea", "falla", "fallando", "cada rato", "cada ratico", "mal", "regular"},
	cueLow: {"cuando puedan", "cuando tengan tiempo", "cuando sea posible", "cuando se pueda", "no es urgente",
		"no es grave", "nada grave", "sin afan", "sin prisa", "no hay prisa", "no corre prisa", "no hay afan",
		"no afecta", "no impide", "se puede trabajar", "puedo trabajar", "puedo seguir", "podemos seguir",
		"por ahora", "se ve feo", "estetic*", "detalle", "sugerencia", "sugiero", "seria bueno", "me gustaria",
		"a futuro", "mas adelante", "proximo mes", "proxima semana", "la otra semana", "el otro mes",
		"en algun momento", "con calma", "tranquilo", "tranquila", "no es nada", "de momento", "mientras tanto",
		"cuando haya", "cuando tengan", "el proximo ano", "para el otro ano", "para planear", "planeacion",
		"cotizacion", "cotizar", "presupuesto", "vigencia", "sin urgencia", "no reviste urgencia",
		"no hay urgencia", "no tiene urgencia", "no tenemos urgencia", "ninguna urgencia", "puede esperar",
		"no es prioritario", "no es prioridad", "no es critico", "no es una emergencia", "no es emergencia"},
	cueHowTo: {"como hago", "como se", "como puedo", "como pido", "como solicito", "como es", "como funciona",
		"que formato", "que tengo que", "que debo", "donde", "a quien", "quien", "pregunta", "consulta", "duda",
		"informacion", "orientacion", "me explican", "explicar", "procedimiento", "instructivo", "manual",
		"capacitacion", "se puede", "es posible", "seria posible", "sera posible", "saber si", "quisiera saber"},
	cueRequest: {"solicito", "solicitamos", "solicita", "solicitud", "requiero", "requerimos", "requiere",
		"necesito", "necesitamos", "quisiera", "quisieramos", "favor", "me pueden", "nos pueden", "pueden",
		"me ayudan", "agradezco", "agradeceria", "xfa", "porfa", "por fa", "deseo", "queremos", "quiero"},
	cueNew: {"nuevo", "nueva", "nuevos", "nuevas", "adicional", "adicionales", "crear", "creacion", "instalar",
		"instalacion", "asignar", "asignacion", "compra", "comprar", "adquisicion", "ingreso", "ingresa",
		"nuevo funcionario", "nuevo contratista", "otro", "otra", "ampliar", "ampliacion", "mejora", "mejorar",
		"cambiar", "cambio", "traslado", "trasladar", "prestamo", "prestado", "reservar", "reserva", "publicar",
		"habilitar", "activar", "dar acceso", "permiso*", "actualizar"},
	cuePersist: {"de nuevo", "otra vez", "nuevamente", "sigue", "siguen", "todavia", "aun", "hace dias",
		"hace una semana", "hace semanas", "hace rato", "desde ayer", "desde el lunes", "desde hace",
		"no es la primera vez", "varias veces", "ya reporte", "ya reportamos", "ya habia", "reitero", "insisto",
		"sin respuesta", "nadie ha venido", "nadie viene", "seguimos", "continua", "persiste"},
	cueDataLoss: {"borr*", "elimin*", "se perdio", "perdi", "perdimos", "perdida", "desaparec*", "recuper*",
		"restaur*", "backup", "copia de seguridad", "sobrescrib*", "daño el archivo", "archivo danado", "corrupto"},
	cueVIP: {"director", "directora", "dr", "dra", "despacho", "secretario general", "secretaria general", "jefe",
		"subdirector", "subdirectora", "ministro", "ministra", "comite directivo", "alta direccion", "gerente",
		"viceministro", "asesor del despacho"},
	cueMinor: {"rayado", "rayada", "manchad*", "sucio", "sucia", "feo", "fea", "un poco", "pequeno", "pequena",
		"leve", "menor", "poquito", "algo", "molesto", "molesta", "incomodo", "incomoda", "ruido", "suelto",
		"suelta", "flojo", "floja", "despegad*", "desgastad*", "bombillo", "parpadea"},
}

// peopleWords follow a number when it counts people or workstations
// ("30 funcionarios", "somos 12", "unos 40 equipos").
var peopleWords = map[string]bool{"funcionarios": true, "funcionarias": true, "personas": true, "usuarios": true,
	"companeros": true, "companeras": true, "contratistas": true, "equipos": true, "computadores": true,
	"puestos": true, "ciudadanos": true, "beneficiarios": true, "gente": true, "colaboradores": true,
	"servidores": true, "asesores": true, "profesionales": true, "tecnicos": true, "personas.": true}

var spelledNumbers = map[string]bool{"dos": true, "tres": true, "cuatro": true, "cinco": true, "seis": true,
	"siete": true, "ocho": true, "nueve": true, "diez": true, "doce": true, "quince": true, "veinte": true,
	"treinta": true, "cuarenta": true, "cincuenta": true, "cien": true, "varios": true, "muchos": true}

// cueNegations cancel a cue right after them, besides the catalogue's
// negations: "sin urgencia" and "no reviste urgencia" are not urgent, "sin
// riesgo" is no risk, and the "todos" of "buenos días a todos" is a
// greeting, not a scope.
var cueNegations = []string{"sin", "no reviste", "no tenemos", "no tiene", "no representa", "no hay ningun",
	"dias a", "tardes a", "noches a", "saludo a", "saludos a", "hola a", "gracias a", "estimados", "apreciados",
	"queridos", "respetados"}

// compileCues builds the engine that finds the cues: the catalogue's
// phrase matcher over cuePhrases, one bucket per cue, with the
// catalogue's negations.
func compileCues(negations [][]string) *Engine {
	negations = slices.Clone(negations)
	for _, n := range cueNegations {
		if expNoCueNegations {
			break
		}
		var stems []string
		for _, t := range tokenize(n, nil) {
			stems = append(stems, t.stem)
		}
		negations = append(negations, stems)
	}
	c := &Engine{index: map[string][]int{}, seen: map[string]int{}, negations: negations, hitPool: &sync.Pool{}}
	for q, list := range cuePhrases {
		if len(list) > 0 {
			c.addKeywords(Keywords{1: list}, q, "cues")
		}
	}
	c.seen = nil
	c.indexNegations(lexCueNegEnd)
	return c
}

// cueCounts returns the cues found in the subject and body tokens, and
// the question and exclamation marks of the subject and body they came
// from.
func (e *Engine) cueCounts(toks []token, lex []*lexEntry, subject, body string) [numCues]float32 {
	var out [numCues]float32
	if e.cues != nil {
		hits := e.cues.getHits()
		e.cues.scan(toks, lex, true, 1, hits)
		for _, pi := range hits.touched {
			out[e.cues.phrases[pi].bucket]++
		}
		e.cues.putHits(hits)
	}
	for i := range toks {
		if lex[i].flags&lexNumber == 0 {
			continue
		}
		if i > 0 && (toks[i-1].word == "somos" || toks[i-1].word == "son") ||
			i+1 < len(toks) && peopleWords[toks[i+1].word] ||
			i+2 < len(toks) && peopleWords[toks[i+2].word] {
			out[cueScopeCount]++
		}
	}
	out[cueQuestion] = float32(min(strings.Count(subject, "?")+strings.Count(body, "?"), 3))
	out[cueExclaim] = float32(min(strings.Count(subject, "!")+strings.Count(body, "!"), 3))
	return out
}
