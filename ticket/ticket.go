// Package ticket is the domain of the service desk: tickets, their states and
// the transitions between them (guide 4.6), types, criticalities (4.8), roles
// (4.9), ticket numbers and the kinds of event that make up a ticket's audit
// trail. It does no I/O.
package ticket

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Domain errors. Adapters translate their own failures into these so that the
// use cases and the edges (HTTP status, mail replies) can tell them apart.
var (
	// ErrNotFound is returned when a ticket, message or row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyStored is returned when a message or outbox row with the same
	// dedupe key is already stored; nothing was changed.
	ErrAlreadyStored = errors.New("already stored")
	// ErrInvalidTransition is returned for a state change the life cycle forbids.
	ErrInvalidTransition = errors.New("invalid state transition")
	// ErrSolutionRequired is returned when closing a ticket without a solution
	// note or an out-of-scope orientation (guide 4.1.8).
	ErrSolutionRequired = errors.New("closing needs a solution note")
	// ErrInvalid is wrapped by validation errors of domain values.
	ErrInvalid = errors.New("invalid value")
)

// Type says whether a ticket is an incident (something failed or was
// interrupted) or a request (something is asked for), guide 4.7.
type Type string

// The ticket types.
const (
	Incidente     Type = "incidente"
	Requerimiento Type = "requerimiento"
)

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t == Incidente || t == Requerimiento }

// Criticality is the impact of a ticket on the agency's operation, guide 4.8.
type Criticality string

// The criticalities.
const (
	Alta  Criticality = "alta"  // interruption of the operation
	Media Criticality = "media" // solvable in moderate time
	Baja  Criticality = "baja"  // no impact on the operation
)

// Valid reports whether c is a known criticality.
func (c Criticality) Valid() bool { return c == Alta || c == Media || c == Baja }

// Unclassified is the category of a ticket that first-level support must
// triage by hand.
const Unclassified = "sin_clasificar"

// Role is what a person does at the desk, guide 4.9.
type Role string

// The roles of guide 4.9. Technicians carry a level (1 or 2) beside the role.
const (
	RoleRequester  Role = "requester"  // solicitante – usuario (4.9.5)
	RoleTechnician Role = "technician" // soporte primer y segundo nivel (4.9.3, 4.9.4)
	RoleManager    Role = "manager"    // gestor del proceso (4.9.2)
	RoleOwner      Role = "owner"      // dueño del proceso (4.9.1)
	// RoleOperator runs mesa for the owner: it gets the operator alerts
	// (mailbox access, secrets, quarantine, held mail, outbox) as the owner
	// does, and nothing else.
	RoleOperator Role = "operator"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleRequester, RoleTechnician, RoleManager, RoleOwner, RoleOperator:
		return true
	}
	return false
}

// Ticket is one incident or request, from its first message to its survey.
// Times are instants; adapters store them in UTC.
type Ticket struct {
	ID            int64
	Number        string // MS-2026-000123
	Year          int    // year of creation in the desk's time zone
	Seq           int64  // sequence within Year
	Subject       string
	Requester     string // e-mail address, lower case
	RequesterName string
	State         State
	Type          Type
	Criticality   Criticality
	Category      string // catalogue key, or Unclassified
	Group         string // key of the group that owns Category
	Assignee      string // e-mail address of the technician, empty when unassigned
	// AccessKey is the secret that, with Number, opens the status page. It
	// exists in plain text only in memory when the ticket is created (for
	// the acknowledgement); the store keeps AccessKeyHash.
	AccessKey     string
	AccessKeyHash string // HashAccessKey(AccessKey)
	Solution      string // solution note or out-of-scope orientation, set when closing
	// OriginMessageID is the Message-ID (without brackets) of the mail that
	// opened the ticket: mail to the requester threads with it.
	OriginMessageID string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DueAt           *time.Time // nil when the category has no resolution time ("depende")
	PausedAt        *time.Time // set while retenido: the SLA clock is stopped
	ClosedAt        *time.Time
	// FirstResponseAt is when a technician first answered the requester:
	// a plain reply, an answer from the page, or the closure's solution.
	FirstResponseAt *time.Time
	// SLAWarnAt is when the assignee is warned (desk's warn fraction of
	// the business time to DueAt); SLAStage is which SLA alerts went out
	// for the current DueAt (0 none, 1 warned, 2 breached); SLANextAt is
	// the next pending alert, nil when none is (paused, closed, done).
	SLAWarnAt *time.Time
	SLAStage  int
	SLANextAt *time.Time
}

// Validate checks the fields every stored ticket must have.
func (t *Ticket) Validate() error {
	var errs []error
	if t.Number == "" {
		errs = append(errs, errors.New("number is empty"))
	}
	if !t.State.Valid() {
		errs = append(errs, fmt.Errorf("state %q", t.State))
	}
	if !t.Type.Valid() {
		errs = append(errs, fmt.Errorf("type %q", t.Type))
	}
	if !t.Criticality.Valid() {
		errs = append(errs, fmt.Errorf("criticality %q", t.Criticality))
	}
	if t.Category == "" {
		errs = append(errs, errors.New("category is empty"))
	}
	if t.Requester == "" {
		errs = append(errs, errors.New("requester is empty"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: ticket: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// HashAccessKey is what the store keeps of an access key.
func HashAccessKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckAccessKey reports, in constant time, whether key opens t.
func (t *Ticket) CheckAccessKey(key string) bool {
	if t.AccessKeyHash == "" || key == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashAccessKey(key)), []byte(t.AccessKeyHash)) == 1
}
