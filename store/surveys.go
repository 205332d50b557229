package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

const surveyCols = `id, ticket_id, token, sent_at, opened_at, answered_at, rating, solved, comment,
	closed_at, status, reminded_at, message_id`

func scanSurvey(r scanner) (*ticket.Survey, error) {
	var s ticket.Survey
	var closed *time.Time
	err := r.Scan(&s.ID, &s.TicketID, &s.Token, &s.SentAt, &s.OpenedAt, &s.AnsweredAt, &s.Rating, &s.Solved,
		&s.Comment, &closed, &s.Status, &s.RemindedAt, &s.MessageID)
	if err != nil {
		return nil, err
	}
	if closed != nil {
		s.ClosedAt = closed.UTC()
	}
	s.SentAt, s.OpenedAt, s.AnsweredAt, s.RemindedAt = s.SentAt.UTC(), utcp(s.OpenedAt), utcp(s.AnsweredAt), utcp(s.RemindedAt)
	return &s, nil
}

// CreateSurvey stores a survey for a ticket's closure and sets its ID. A
// second survey for the same closure fails with ticket.ErrAlreadyStored.
func (db *DB) CreateSurvey(ctx context.Context, s *ticket.Survey) error {
	if s.Status == "" {
		s.Status = ticket.SurveySent
	}
	var closed *time.Time
	if !s.ClosedAt.IsZero() {
		c := s.ClosedAt.UTC()
		closed = &c
	}
	err := db.get(ctx, &s.ID, `INSERT INTO surveys (ticket_id, token, sent_at, opened_at, answered_at, rating, solved, comment,
		closed_at, status, reminded_at, message_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id, closed_at) DO NOTHING RETURNING id`,
		s.TicketID, s.Token, s.SentAt.UTC(), utcp(s.OpenedAt), utcp(s.AnsweredAt), s.Rating, s.Solved, clean(s.Comment),
		closed, s.Status, utcp(s.RemindedAt), clean(s.MessageID))
	if errors.Is(err, ticket.ErrNotFound) {
		return fmt.Errorf("survey for ticket %d closed at %s: %w", s.TicketID, s.ClosedAt.Format(time.RFC3339), ticket.ErrAlreadyStored)
	}
	if err != nil {
		return fmt.Errorf("creating survey for ticket %d: %w", s.TicketID, err)
	}
	return nil
}

// SurveyByToken returns the survey whose token hash is tokenHash. Inside a
// transaction on PostgreSQL the row is locked until it ends.
func (db *DB) SurveyByToken(ctx context.Context, tokenHash string) (*ticket.Survey, error) {
	s, err := scanSurvey(db.queryRow(ctx, `SELECT `+surveyCols+` FROM surveys WHERE token = ?`+db.forUpdate(ctx), tokenHash))
	if err != nil {
		return nil, fmt.Errorf("reading survey: %w", db.translate(err))
	}
	return s, nil
}

// SurveyByMessageID returns the unanswered survey of a ticket whose mail
// has one of the Message-IDs (an answer by mail replies to it).
func (db *DB) SurveyByMessageID(ctx context.Context, ticketID int64, ids []string) (*ticket.Survey, error) {
	for _, id := range ids {
		id = strings.Trim(id, "<> ")
		if id == "" {
			continue
		}
		s, err := scanSurvey(db.queryRow(ctx, `SELECT `+surveyCols+` FROM surveys
			WHERE ticket_id = ? AND message_id = ? AND status = 'sent'`+db.forUpdate(ctx), ticketID, id))
		if err == nil {
			return s, nil
		}
		if err := db.translate(err); !errors.Is(err, ticket.ErrNotFound) {
			return nil, fmt.Errorf("reading survey: %w", err)
		}
	}
	return nil, fmt.Errorf("survey of ticket %d: %w", ticketID, ticket.ErrNotFound)
}

// LatestSurvey returns the newest survey actually sent for a ticket.
func (db *DB) LatestSurvey(ctx context.Context, ticketID int64) (*ticket.Survey, error) {
	s, err := scanSurvey(db.queryRow(ctx, `SELECT `+surveyCols+` FROM surveys
		WHERE ticket_id = ? AND status <> 'skipped' ORDER BY sent_at DESC, id DESC LIMIT 1`, ticketID))
	if err != nil {
		return nil, fmt.Errorf("reading surveys of ticket %d: %w", ticketID, db.translate(err))
	}
	return s, nil
}

// SurveysSentBefore returns up to limit surveys still waiting for an
// answer that were sent before t, oldest first.
func (db *DB) SurveysSentBefore(ctx context.Context, t time.Time, limit int) ([]*ticket.Survey, error) {
	return scanAll(ctx, db, "pending surveys", scanSurvey, `SELECT `+surveyCols+` FROM surveys
		WHERE status = 'sent' AND sent_at < ? ORDER BY sent_at, id LIMIT ?`, t.UTC(), limit)
}

// ClosedWithoutSurvey returns up to limit tickets closed in [after, before]
// and still closed, with no survey row for their closure, oldest first.
func (db *DB) ClosedWithoutSurvey(ctx context.Context, after, before time.Time, limit int) ([]*ticket.Ticket, error) {
	return db.tickets(ctx, "closed tickets", `SELECT `+ticketCols+` FROM tickets t WHERE state = 'cerrado'
		AND closed_at >= ? AND closed_at <= ?
		AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.ticket_id = t.id AND s.closed_at = t.closed_at)
		ORDER BY closed_at, id LIMIT ?`, after.UTC(), before.UTC(), limit)
}

// UpdateSurvey records the requester's progress and answer.
func (db *DB) UpdateSurvey(ctx context.Context, s *ticket.Survey) error {
	_, err := db.exec(ctx, `UPDATE surveys SET opened_at = ?, answered_at = ?, rating = ?, solved = ?, comment = ?,
		status = ?, reminded_at = ?, message_id = ? WHERE id = ?`,
		utcp(s.OpenedAt), utcp(s.AnsweredAt), s.Rating, s.Solved, clean(s.Comment), s.Status, utcp(s.RemindedAt),
		clean(s.MessageID), s.ID)
	if err != nil {
		return fmt.Errorf("updating survey %d: %w", s.ID, err)
	}
	return nil
}

// StartJobRun claims the run of job scheduled for an instant and returns its
// ID. When another instance (or an earlier attempt) already claimed it, it
// returns ticket.ErrAlreadyStored.
func (db *DB) StartJobRun(ctx context.Context, job string, scheduledFor, now time.Time) (int64, error) {
	var id int64
	err := db.get(ctx, &id, `INSERT INTO job_runs (job, scheduled_for, started_at, status) VALUES (?, ?, ?, 'running')
		ON CONFLICT (job, scheduled_for) DO NOTHING RETURNING id`, job, scheduledFor.UTC(), now.UTC())
	if errors.Is(err, ticket.ErrNotFound) {
		return 0, fmt.Errorf("starting %s run of %s: %w", job, scheduledFor.UTC().Format(time.RFC3339), ticket.ErrAlreadyStored)
	}
	if err != nil {
		return 0, fmt.Errorf("starting %s run: %w", job, err)
	}
	return id, nil
}

// FinishJobRun records the end of a run with what it did (detail, JSON
// counts); a non-nil runErr marks it failed.
func (db *DB) FinishJobRun(ctx context.Context, id int64, now time.Time, detail string, runErr error) error {
	status, msg := "ok", ""
	if runErr != nil {
		status, msg = "failed", runErr.Error()
	}
	_, err := db.exec(ctx, `UPDATE job_runs SET finished_at = ?, status = ?, error = ?, detail = ? WHERE id = ?`,
		now.UTC(), status, clean(msg), clean(detail), id)
	if err != nil {
		return fmt.Errorf("finishing job run %d: %w", id, err)
	}
	return nil
}

// JobRuns returns the runs of a job, newest first.
func (db *DB) JobRuns(ctx context.Context, job string, limit int) ([]ticket.JobRun, error) {
	rows, err := db.query(ctx, `SELECT id, job, scheduled_for, started_at, finished_at, status, error, detail
		FROM job_runs WHERE job = ? ORDER BY scheduled_for DESC LIMIT ?`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("reading runs of %s: %w", job, err)
	}
	defer rows.Close()
	var out []ticket.JobRun
	for rows.Next() {
		var r ticket.JobRun
		if err := rows.Scan(&r.ID, &r.Job, &r.ScheduledFor, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Error, &r.Detail); err != nil {
			return nil, fmt.Errorf("reading runs of %s: %w", job, err)
		}
		r.ScheduledFor, r.StartedAt, r.FinishedAt = r.ScheduledFor.UTC(), r.StartedAt.UTC(), utcp(r.FinishedAt)
		out = append(out, r)
	}
	return out, db.translate(rows.Err())
}
