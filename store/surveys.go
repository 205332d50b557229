package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mesadeservicios/mesa/ticket"
)

// CreateSurvey stores a survey sent for a ticket and sets its ID.
func (db *DB) CreateSurvey(ctx context.Context, s *ticket.Survey) error {
	err := db.get(ctx, &s.ID, `INSERT INTO surveys (ticket_id, token, sent_at, opened_at, answered_at, rating, solved, comment)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TicketID, s.Token, s.SentAt.UTC(), utcp(s.OpenedAt), utcp(s.AnsweredAt), s.Rating, s.Solved, clean(s.Comment))
	if err != nil {
		return fmt.Errorf("creating survey for ticket %d: %w", s.TicketID, err)
	}
	return nil
}

// SurveyByToken returns the survey with that token.
func (db *DB) SurveyByToken(ctx context.Context, token string) (*ticket.Survey, error) {
	var s ticket.Survey
	err := db.queryRow(ctx, `SELECT id, ticket_id, token, sent_at, opened_at, answered_at, rating, solved, comment
		FROM surveys WHERE token = ?`, token).Scan(&s.ID, &s.TicketID, &s.Token, &s.SentAt, &s.OpenedAt,
		&s.AnsweredAt, &s.Rating, &s.Solved, &s.Comment)
	if err != nil {
		return nil, fmt.Errorf("reading survey: %w", db.translate(err))
	}
	s.SentAt, s.OpenedAt, s.AnsweredAt = s.SentAt.UTC(), utcp(s.OpenedAt), utcp(s.AnsweredAt)
	return &s, nil
}

// UpdateSurvey records the requester's progress and answer.
func (db *DB) UpdateSurvey(ctx context.Context, s *ticket.Survey) error {
	_, err := db.exec(ctx, `UPDATE surveys SET opened_at = ?, answered_at = ?, rating = ?, solved = ?, comment = ? WHERE id = ?`,
		utcp(s.OpenedAt), utcp(s.AnsweredAt), s.Rating, s.Solved, clean(s.Comment), s.ID)
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
