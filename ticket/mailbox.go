package ticket

import "time"

// MailboxStatus is the state of one of the desk's mailboxes as the
// instance reading it last reported it: shared through the store, so that
// every instance's readiness and the operator alerts see the same.
type MailboxStatus struct {
	Name string
	// LastSuccess is the last time the mailbox was reached (selected or
	// fetched); zero when it never was.
	LastSuccess time.Time
	// FailingSince is when the sessions started failing without a success
	// since; zero while the mailbox is reached.
	FailingSince time.Time
	LastError    string
	// NeedsReauthorization: the identity provider refused the OAuth2
	// grant; only an operator can renew it.
	NeedsReauthorization bool
	UpdatedAt            time.Time
}

// QuarantinedMessage is a message intake kept aside, for the operators'
// hourly list.
type QuarantinedMessage struct {
	ID         int64
	From       string
	Subject    string
	ReceivedAt time.Time
}
