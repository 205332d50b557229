package ticket

import "fmt"

// State is a step of the ticket life cycle, guide 4.6.
type State string

// The states of guide 4.6.
const (
	Abierto            State = "abierto"              // reported, not yet worked
	EnProceso          State = "en_proceso"           // classified and being worked
	Retenido           State = "retenido"             // on hold: the SLA clock stops
	Cerrado            State = "cerrado"              // solved, or oriented when out of scope
	AbiertoPorEncuesta State = "abierto_por_encuesta" // the requester is answering the survey
)

// States lists every state in life-cycle order.
var States = []State{Abierto, EnProceso, Retenido, Cerrado, AbiertoPorEncuesta}

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	for _, x := range States {
		if s == x {
			return true
		}
	}
	return false
}

// Open reports whether the ticket still needs work from the desk: every state
// but cerrado and abierto_por_encuesta (the latter waits on the requester).
func (s State) Open() bool { return s == Abierto || s == EnProceso || s == Retenido }

// transitions is the life cycle of guide 4.6 and DESIGN.md:
// abierto → en_proceso → cerrado; en_proceso ⇄ retenido; cerrado →
// abierto_por_encuesta when the requester opens the survey, which goes back to
// cerrado when it is submitted or to en_proceso when the requester says the
// problem is not solved. One more, from the outbound-mail issue: cerrado →
// en_proceso when the requester answers a closed ticket within the reopen
// window ("it still fails"), the mail twin of the survey's "not solved".
var transitions = map[State][]State{
	Abierto:            {EnProceso},
	EnProceso:          {Retenido, Cerrado},
	Retenido:           {EnProceso},
	Cerrado:            {AbiertoPorEncuesta, EnProceso},
	AbiertoPorEncuesta: {Cerrado, EnProceso},
}

// CanTransition reports whether the life cycle allows going from s to to.
// Staying in the same state is not a transition.
func (s State) CanTransition(to State) bool {
	for _, x := range transitions[s] {
		if x == to {
			return true
		}
	}
	return false
}

// Next lists the states reachable from s in one step.
func (s State) Next() []State { return append([]State(nil), transitions[s]...) }

// ValidateTransition returns ErrInvalidTransition, wrapped with both states,
// when the life cycle does not allow going from one to the other.
func ValidateTransition(from, to State) error {
	if !from.Valid() || !to.Valid() || !from.CanTransition(to) {
		return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, from, to)
	}
	return nil
}

// PathTo returns the shortest chain of states that leads from s to to,
// excluding s and including to, or nil when to cannot be reached. Use cases
// use it so that a technician who closes an abierto ticket walks it through
// en_proceso, leaving one event per step in the audit trail.
func (s State) PathTo(to State) []State {
	if s == to {
		return nil
	}
	prev := map[State]State{s: s}
	queue := []State{s}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, n := range transitions[cur] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = cur
			if n == to {
				var path []State
				for x := to; x != s; x = prev[x] {
					path = append([]State{x}, path...)
				}
				return path
			}
			queue = append(queue, n)
		}
	}
	return nil
}
