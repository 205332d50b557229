package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"
)

// Lease holds an exclusive right to do one job (read one mailbox, run the
// scheduler) among several mesa instances sharing a PostgreSQL database.
type Lease struct {
	// Lost is closed when the lease is lost: the database connection that
	// held it failed. The holder must stop the job.
	Lost    <-chan struct{}
	release func()
}

// Release gives the lease up.
func (l *Lease) Release() { l.release() }

// AcquireLease blocks until this instance holds the lease called name, or
// ctx is done. On PostgreSQL it is a session advisory lock on a dedicated
// connection: when the instance dies its connection closes and a standby
// takes over within retry. SQLite serves a single instance: the lease is
// granted at once.
func (db *DB) AcquireLease(ctx context.Context, name string, retry time.Duration) (*Lease, error) {
	if db.driver != "postgres" {
		return &Lease{Lost: make(chan struct{}), release: func() {}}, nil
	}
	h := fnv.New64a()
	h.Write([]byte("mesa:" + name))
	key := int64(h.Sum64())
	for {
		conn, err := db.x.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("lease %s: %w", name, err)
		}
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			conn.Close()
			return nil, fmt.Errorf("lease %s: %w", name, err)
		}
		if ok {
			lost := make(chan struct{})
			stop := make(chan struct{})
			go func() {
				t := time.NewTicker(retry)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						pctx, cancel := context.WithTimeout(context.Background(), retry)
						err := conn.PingContext(pctx)
						cancel()
						if err != nil {
							close(lost)
							return
						}
					}
				}
			}()
			return &Lease{Lost: lost, release: func() {
				close(stop)
				conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
				conn.Close()
			}}, nil
		}
		conn.Close()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retry):
		}
	}
}
