package desk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesadeservicios/mesa/rules"
	"github.com/mesadeservicios/mesa/ticket"
)

// Files travel with the notices: the requester's with the assignment and
// with their later messages, a technician's with the answer. Each is
// attached while the notice's budget (NoticeAttachmentBytes) lasts, and
// always offered by a download link: a token signed with HMAC-SHA256 under
// the server's link key (kept in the store, the same for every instance),
// naming the file and the instant it expires. The link only reads: a GET
// changes nothing, so the scanners that open every link of a mail are
// harmless.

// FileStore is what files and copies need from storage.
type FileStore interface {
	Attachments(ctx context.Context, ticketID int64) ([]ticket.Attachment, error)
	Attachment(ctx context.Context, id int64) (*ticket.Attachment, error)
	MessageRaw(ctx context.Context, id int64) ([]byte, error)
	LinkKey(ctx context.Context, name string) ([]byte, error)
	SetCopy(ctx context.Context, ticketID int64, email string, on bool) error
	Participants(ctx context.Context, ticketID int64) ([]ticket.Participant, error)
}

// fileKeyName names the link key of file downloads in the store.
const fileKeyName = "file-links"

// fileKey is the server's key for file links, read once.
type fileKey struct {
	mu  sync.Mutex
	key []byte
}

func (d *Desk) fileLinkKey(ctx context.Context) ([]byte, error) {
	d.fkey.mu.Lock()
	defer d.fkey.mu.Unlock()
	if d.fkey.key != nil {
		return d.fkey.key, nil
	}
	k, err := d.store.LinkKey(ctx, fileKeyName)
	if err != nil {
		return nil, err
	}
	if len(k) < 16 {
		return nil, fmt.Errorf("%w: the file link key is %d bytes", ticket.ErrInvalid, len(k))
	}
	d.fkey.key = k
	return k, nil
}

// fileMAC is the signature of a file link: 128 bits of HMAC-SHA256 over
// the file's ID and expiry, base64url.
func fileMAC(key []byte, id, exp int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "file:%d:%d", id, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// fileToken is the token of a download link of file id valid until exp:
// "<id>.<exp unix>.<mac>".
func fileToken(key []byte, id int64, exp time.Time) string {
	e := exp.Unix()
	return strconv.FormatInt(id, 10) + "." + strconv.FormatInt(e, 10) + "." + fileMAC(key, id, e)
}

// ErrFileLinkExpired is returned for a file link past its time (and
// rightly signed).
var ErrFileLinkExpired = errors.New("file link expired")

// File returns the file a download link names, decoded, when its
// signature holds and it has not expired. Anything else about the token
// is ticket.ErrNotFound; nothing is changed. The token is never logged.
func (d *Desk) File(ctx context.Context, token string) (*ticket.Attachment, error) {
	if len(token) > 100 {
		return nil, ticket.ErrNotFound
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ticket.ErrNotFound
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return nil, ticket.ErrNotFound
	}
	key, err := d.fileLinkKey(ctx)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(fileMAC(key, id, exp)), []byte(parts[2])) {
		return nil, ticket.ErrNotFound
	}
	if !d.now().Before(time.Unix(exp, 0)) {
		return nil, ErrFileLinkExpired
	}
	a, err := d.store.Attachment(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := d.decodeFile(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// decodeFile fills a.Data of a file intake did not keep decoded.
func (d *Desk) decodeFile(ctx context.Context, a *ticket.Attachment) error {
	if len(a.Data) > 0 || a.Size == 0 {
		return nil
	}
	raw, err := d.store.MessageRaw(ctx, a.MessageID)
	if err != nil {
		return fmt.Errorf("reading the message of file %d: %w", a.ID, err)
	}
	b, err := d.files.DecodeAttachment(raw, a.SHA256)
	if err != nil {
		return fmt.Errorf("decoding file %d: %w", a.ID, err)
	}
	a.Data = b
	return nil
}

// noticeFiles turns stored files into a notice's: each with a download
// link, attached in order while the budget lasts.
func (d *Desk) noticeFiles(ctx context.Context, as []ticket.Attachment) ([]ticket.NoticeFile, error) {
	if len(as) == 0 {
		return nil, nil
	}
	key, err := d.fileLinkKey(ctx)
	if err != nil {
		return nil, err
	}
	exp := d.now().Add(d.cfg.FileLinkTTL)
	budget := max(d.cfg.NoticeAttachmentBytes, 0)
	out := make([]ticket.NoticeFile, 0, len(as))
	for _, a := range as {
		f := ticket.NoticeFile{Name: a.Filename, ContentType: a.ContentType, Size: a.Size, Token: fileToken(key, a.ID, exp), Expires: exp}
		if a.Size <= budget {
			if err := d.decodeFile(ctx, &a); err != nil {
				// The link still offers it; the notice never fails for a file.
				d.log.Warn("file not attached to the notice", "file_id", a.ID, "err", err)
			} else {
				f.Data, budget = a.Data, budget-a.Size
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// storeFiles stores the files of an inbound message on a ticket and
// returns them as stored. A large file stays in the raw message only
// (Data nil): its row indexes it by name, size and hash.
func (d *Desk) storeFiles(ctx context.Context, m *inMail, ticketID int64) ([]ticket.Attachment, error) {
	if m.filesStored || ticketID == 0 {
		return nil, nil
	}
	m.filesStored = true
	var out []ticket.Attachment
	for _, a := range m.in.Attachments {
		size, sum := a.Size, a.SHA256
		if sum == "" {
			size, sum = int64(len(a.Data)), sha(a.Data)
		}
		row := ticket.Attachment{MessageID: m.msg.ID, TicketID: ticketID, Filename: ticket.SafeFilename(a.Filename),
			ContentType: a.ContentType, Size: size, SHA256: sum, Data: a.Data}
		if err := d.store.AddAttachment(ctx, &row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

// formCodeRE finds a form code of the guide (F-DE-10, F-AL-21) in the
// description of a required attachment.
var formCodeRE = regexp.MustCompile(`\bF-[A-Z]{2}-\d{1,3}\b`)

// missingForms returns the required documents (the category's, guide
// 4.2.1.x) that a request did not bring. A document with a form code is
// there when a file's name or the subject or text carries the code, in
// any spelling ("F-DE-10", "f de 10", "FDE10", "F_DE_10.pdf"); one
// without a code is always reminded.
func missingForms(required []string, subject, text string, names []string) []string {
	var missing []string
	for _, r := range required {
		code := formCodeRE.FindString(r)
		if code == "" || !mentionsForm(code, subject+"\n"+text, names) {
			missing = append(missing, r)
		}
	}
	return missing
}

// mentionsForm reports whether the code appears in a file name or in the
// text, comparing letters and digits only.
func mentionsForm(code, text string, names []string) bool {
	want := squash(code)
	for _, n := range names {
		// "F_DE_10 firmado.pdf", never "F-DE-100.pdf".
		for s := squash(n); ; {
			i := strings.Index(s, want)
			if i < 0 {
				break
			}
			if end := i + len(want); end == len(s) || s[end] < '0' || s[end] > '9' {
				return true
			}
			s = s[i+1:]
		}
	}
	// In the text the code must stand as a word of its own: "F-DE-10",
	// "F DE 10", "FDE10"; never "F-DE-100".
	parts := strings.Split(code, "-") // F, DE, 10
	re := regexp.MustCompile(`(?i)(^|[^\pL\pN])` + strings.Join(parts, `[\s._-]?`) + `($|[^\pL\pN])`)
	return re.MatchString(rules.Fold(text))
}

// squash keeps the letters and digits of s, upper case, without
// diacritics.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(rules.Fold(s)) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
