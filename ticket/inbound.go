package ticket

import (
	"strings"
	"time"
)

// Address is a mailbox: display name and address (lower-cased domain).
type Address struct {
	Name  string
	Email string
}

// Inbound is an inbound mail as the desk sees it, whatever its MIME shape:
// decoded headers, the readable text, attachments and the keys that thread it
// to a ticket. Package mailin produces it; the desk never sees MIME.
type Inbound struct {
	MessageID  string   // without angle brackets; empty when missing
	InReplyTo  []string // RFC 5322 §3.6.4
	References []string
	From       Address
	ReplyTo    []Address
	// Sender is the Sender header (RFC 5322 §3.6.2): who sent the mail on
	// behalf of From, when it is not the author.
	Sender Address
	// OriginalFrom is X-Original-From, set by mailing lists and Google
	// Groups that rewrite From (DMARC).
	OriginalFrom Address
	// ReturnPath is the envelope sender written by the delivering server
	// (Return-Path), without angle brackets; NullReturnPath is set for
	// "<>", the null sender of delivery reports and auto-replies.
	ReturnPath     string
	NullReturnPath bool
	// ListID is the List-Id header (RFC 2919), as written: mail through a
	// list or a Google Group, which is still mail from a person.
	ListID  string
	To      []Address
	Cc      []Address
	Subject string
	Date    time.Time // zero when missing or unparsable
	Text    string    // text/plain, or the HTML part turned into text
	HTML    string    // the HTML part as received, when there is one
	// Attachments are the other parts; beyond the parse limits (MIME depth,
	// part count) the rest of a subtree is one attachment, not parsed.
	Attachments []InboundAttachment
	// AutoSubmitted is set when a header marks the mail automatic
	// (RFC 3834 Auto-Submitted, RFC 2076 Precedence, X-Autoreply…).
	AutoSubmitted bool
	// Automatic says why the mail must never get an automatic answer, empty
	// for mail a person wrote: "auto-submitted: auto-replied",
	// "precedence: bulk", "x-autoreply", "x-auto-response-suppress: All",
	// "subject: Respuesta automática", "null return path". A List-Id alone
	// does not make mail automatic (a person writing through a list).
	Automatic string
	// Bounce is set for a structural delivery status notification
	// (multipart/report; report-type=delivery-status, RFC 3464).
	Bounce bool
	// Report is set for anything that looks like a delivery report (Bounce,
	// a mailer-daemon or postmaster sender, a bounce subject): what it says.
	Report *DeliveryReport
	// AuthResults are the Authentication-Results headers (RFC 8601), parsed,
	// in the order of the message: topmost (added last) first.
	AuthResults []AuthHeader
	// Exchange holds the Exchange Online organisation headers, raw.
	Exchange Exchange
	// Forwarded is the original mail inside a forward (a message/rfc822
	// attachment, or an inline "De:/From: … Asunto:/Subject:" block of
	// Outlook or Gmail); nil when the mail forwards nothing.
	Forwarded *Forwarded
	// Problems lists what could not be decoded (unknown charset, broken
	// MIME); the message is still usable.
	Problems []string
}

// Forwarded is what a forward says of the original mail: its sender,
// subject and text.
type Forwarded struct {
	From    Address
	Subject string
	Text    string
	// Attached is set when the original came as a message/rfc822
	// attachment, unset for an inline block.
	Attached bool
}

// InboundAttachment is one file of an inbound mail.
type InboundAttachment struct {
	Filename    string
	ContentType string
	ContentID   string // for inline images, without angle brackets
	Inline      bool
	Size        int64  // decoded size in bytes
	SHA256      string // of the decoded content, hex
	// Data is the decoded content; nil for a large file, which stays only
	// in the raw message (decoded again when someone asks for it), so that
	// a 35 MB mail is not held and stored twice.
	Data []byte
}

// Source says where an inbound message came from.
type Source struct {
	Mailbox     string // IMAP mailbox, or "file" for `mesa ingest`
	UIDValidity uint32
	UID         uint32
	ReceivedAt  time.Time // IMAP INTERNALDATE or the time it was read
	Size        int64     // RFC822.SIZE
	// Truncated is set when only the header was fetched because the
	// message exceeds the size limit; the original stays on the server.
	Truncated bool
}

// SafeFilename keeps an attachment name displayable and harmless: no
// directories, no control characters, never empty.
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimLeft(name, "."))
	if name == "" {
		return "adjunto"
	}
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}
