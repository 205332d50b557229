package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// ErrNoSuchPart is returned by DecodeAttachment when no part of the
// message has the given content hash.
var ErrNoSuchPart = errors.New("no part with that content")

// Decoder decodes again the files that Parse did not keep (larger than
// MaxKeptAttachment), from the raw message. It implements desk's
// AttachmentDecoder.
type Decoder struct{}

// DecodeAttachment returns the decoded content of the part of raw whose
// SHA-256 (hex) is sum, reading at most MaxPartBytes of any part.
func (Decoder) DecodeAttachment(raw []byte, sum string) ([]byte, error) {
	registerCharsets.Do(setupCharsets)
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, ErrNoSuchPart
		}
		if err != nil && !message.IsUnknownCharset(err) {
			return nil, fmt.Errorf("reading MIME part: %w", err)
		}
		var buf bytes.Buffer
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(h, &buf), io.LimitReader(p.Body, MaxPartBytes)); err != nil {
			return nil, fmt.Errorf("reading MIME part: %w", err)
		}
		if hex.EncodeToString(h.Sum(nil)) == sum {
			return buf.Bytes(), nil
		}
	}
}
