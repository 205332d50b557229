package mailout

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"

	"github.com/mesadeservicios/mesa/internal/msgraph"
)

// GraphSender sends the outbox through Microsoft Graph's sendMail with the
// stored MIME: the body is the base64 of the outbox row's exact bytes, so a
// retry sends the same bytes (https://learn.microsoft.com/graph/api/user-sendmail,
// "Send a new message using MIME format"). Exchange saves a copy in the
// mailbox's Sent Items.
//
// Graph takes the recipients from the MIME header (To, Cc, Bcc), not from
// an envelope: Send refuses a mail whose envelope recipients are not
// exactly those of its header rather than send it to someone else.
type GraphSender struct {
	client *msgraph.Client
	user   string
}

var _ Sender = (*GraphSender)(nil)

// NewGraphSender returns a sender for the mailbox user (UPN or id); client
// should be the mailbox's, shared with its reader.
func NewGraphSender(client *msgraph.Client, user string) (*GraphSender, error) {
	if client == nil || user == "" {
		return nil, errors.New("mailout: graph sender needs a client and the mailbox user")
	}
	return &GraphSender{client: client, user: user}, nil
}

// Send delivers raw. Graph's refusals of the mail (400, 413, 415) are a
// permanent *SendError; throttling, server errors, and authentication or
// permission failures (the desk's configuration, not the mail's fault) are
// temporary and retried by the worker.
func (g *GraphSender) Send(ctx context.Context, from string, to []string, raw []byte) error {
	if err := sameRecipients(raw, to); err != nil {
		return &SendError{Msg: err.Error()}
	}
	body := make([]byte, base64.StdEncoding.EncodedLen(len(raw)))
	base64.StdEncoding.Encode(body, raw)
	resp, err := g.client.Do(ctx, msgraph.Request{Method: http.MethodPost, URL: msgraph.UserPath(g.user, "sendMail"),
		ContentType: "text/plain", Body: body})
	if err != nil {
		var ge *msgraph.Error
		if errors.As(err, &ge) {
			temporary := ge.Temporary() || ge.Status == http.StatusForbidden
			return &SendError{Code: ge.Status, Msg: "graph sendMail: " + ge.Error(), Temporary: temporary}
		}
		return fmt.Errorf("graph sendMail: %w", err)
	}
	resp.Body.Close()
	return nil
}

// sameRecipients checks that the header's To, Cc and Bcc name exactly the
// envelope recipients.
func sameRecipients(raw []byte, to []string) error {
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return fmt.Errorf("graph sendMail needs a parsable header: %v", err)
	}
	var hdr []string
	for _, k := range []string{"To", "Cc", "Bcc"} {
		if m.Header.Get(k) == "" {
			continue
		}
		list, err := m.Header.AddressList(k)
		if err != nil {
			return fmt.Errorf("graph sendMail: unreadable %s header: %v", k, err)
		}
		for _, a := range list {
			hdr = append(hdr, strings.ToLower(a.Address))
		}
	}
	env := make([]string, 0, len(to))
	for _, a := range to {
		env = append(env, strings.ToLower(strings.TrimSpace(a)))
	}
	slices.Sort(hdr)
	slices.Sort(env)
	hdr, env = slices.Compact(hdr), slices.Compact(env)
	if !slices.Equal(hdr, env) {
		return fmt.Errorf("graph sendMail takes the recipients from the header (%s), which differ from the envelope (%s)",
			strings.Join(hdr, ", "), strings.Join(env, ", "))
	}
	return nil
}
