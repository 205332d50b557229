// Package store keeps tickets, their audit trail, inbound mail, the outbox and
// the daemon's bookkeeping in SQL: PostgreSQL (github.com/lib/pq) for
// production and several instances, or embedded SQLite (modernc.org/sqlite,
// pure Go) for a single instance and the demo. One schema and one set of
// queries serve both; placeholders are written as ? and rebound per driver.
//
// Transactions travel in the context: InTx hands its function a context that
// carries the transaction, and every method called with that context runs
// inside it. The use cases in package desk can then compose several store
// calls into one atomic change without importing this package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mesadeservicios/mesa/ticket"
)

// DB is the store. It is safe for concurrent use.
type DB struct {
	x      *sqlx.DB
	driver string
	// Reads outside a transaction use prepared statements, kept per query
	// text: the server parses and plans them once per connection instead
	// of at every call (the status page's two reads are most of its cost).
	stmts  sync.Map // rebound query → *sqlx.Stmt
	nstmts atomic.Int32
	// Round trips since Open, for `mesa bench intake` (RoundTrips).
	nstatements, ntx atomic.Int64
	// trace, when set, is told every statement's text and duration
	// (TraceStatements).
	trace atomic.Pointer[func(query string, d time.Duration)]
}

// TraceStatements makes the store call f with each statement's text and
// how long it took until its first answer (BEGIN and COMMIT included), for
// the intake benchmark's statement profile; nil stops it. f is called
// concurrently.
func (db *DB) TraceStatements(f func(query string, d time.Duration)) {
	if f == nil {
		db.trace.Store(nil)
		return
	}
	db.trace.Store(&f)
}

// traced reports a statement that started at t0 to the trace, if any.
func (db *DB) traced(query string, t0 time.Time) {
	if f := db.trace.Load(); f != nil {
		(*f)(query, time.Since(t0))
	}
}

// RoundTrips returns how many statements and transactions (each a BEGIN
// and a COMMIT or ROLLBACK round trip more) the store has sent since
// Open, for the intake benchmark's per-message figures.
func (db *DB) RoundTrips() (statements, transactions int64) {
	return db.nstatements.Load(), db.ntx.Load()
}

// maxStmts bounds the statement cache; queries built with a variable
// number of placeholders could otherwise grow it without end. The
// statements of transactions share it with the reads (some 130 texts in
// all, and the variants of lists): it is twice what the reads alone had.
const maxStmts = 512

// Options tune Open; a nil *Options means the defaults.
type Options struct {
	// MaxOpenConns bounds the pool; 0 means 10 for PostgreSQL, 4 for SQLite.
	MaxOpenConns int
}

func init() {
	// sqlx knows "sqlite3" but not modernc's driver name. Registering a bind
	// type is idempotent bookkeeping, not work.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Open connects to the database named by driver ("postgres" or "sqlite") and
// dsn (a PostgreSQL URL, or a SQLite file path). It does not migrate.
func Open(ctx context.Context, driver, dsn string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	n := opts.MaxOpenConns
	switch driver {
	case "postgres":
		if n == 0 {
			n = 10
		}
		// Send []byte as binary, not as hex text: raw mail of 35 MB would
		// otherwise take 70 MB more on the way to the server.
		if !strings.Contains(dsn, "binary_parameters") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "binary_parameters=yes"
		}
	case "sqlite":
		// WAL lets readers run beside the writer; busy_timeout waits for the
		// write lock instead of failing; immediate transactions take it at
		// BEGIN, so read-then-write transactions never deadlock on upgrade.
		dsn = "file:" + dsn + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)" +
			"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite&_txlock=immediate"
		if n == 0 {
			n = 4
		}
	default:
		return nil, fmt.Errorf("opening store: unknown driver %q", driver)
	}
	x, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s store: %w", driver, err)
	}
	x.SetMaxOpenConns(n)
	x.SetMaxIdleConns(n)
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("connecting to %s store: %w", driver, err)
	}
	return &DB{x: x, driver: driver}, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool { v.(*sqlx.Stmt).Close(); return true })
	return db.x.Close()
}

// prepared returns the cached prepared statement for query, preparing it
// on first use, and bound to the transaction in ctx when there is one (a
// statement is prepared once per connection, and database/sql prepares it
// on the transaction's own connection the first time it runs there). It
// returns nil, and the caller runs the query directly, when the cache is
// full, when preparing fails, and inside a transaction for a statement
// without parameters (a migration's text may hold several statements,
// which cannot be prepared) or when the pool has no connection to
// prepare it on: a transaction never waits for a second connection, which
// other transactions waiting on it may hold.
func (db *DB) prepared(ctx context.Context, query string, nargs int) *sqlx.Stmt {
	tx, inTx := ctx.Value(txKey{}).(*sqlx.Tx)
	if inTx && nargs == 0 {
		return nil
	}
	var s *sqlx.Stmt
	if v, ok := db.stmts.Load(query); ok {
		s = v.(*sqlx.Stmt)
	} else {
		if db.nstmts.Load() >= maxStmts {
			return nil
		}
		pctx := ctx
		if inTx {
			if st := db.x.Stats(); st.Idle == 0 && st.MaxOpenConnections > 0 && st.OpenConnections >= st.MaxOpenConnections {
				return nil
			}
			var cancel context.CancelFunc
			pctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
		}
		ps, err := db.x.PreparexContext(pctx, query)
		if err != nil {
			return nil
		}
		if prev, loaded := db.stmts.LoadOrStore(query, ps); loaded {
			ps.Close()
			s = prev.(*sqlx.Stmt)
		} else {
			db.nstmts.Add(1)
			s = ps
		}
	}
	if inTx {
		return tx.StmtxContext(ctx, s)
	}
	return s
}

// Driver returns "postgres" or "sqlite".
func (db *DB) Driver() string { return db.driver }

// Ping checks that the database answers, for /healthz.
func (db *DB) Ping(ctx context.Context) error { return db.x.PingContext(ctx) }

type txKey struct{}

// InTx runs fn in a transaction carried by the context it receives. When fn
// returns an error or panics, everything it did is rolled back. Called inside
// another InTx, it joins the outer transaction.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, ok := ctx.Value(txKey{}).(*sqlx.Tx); ok {
		return fn(ctx)
	}
	db.ntx.Add(1)
	t0 := time.Now()
	tx, err := db.x.BeginTxx(ctx, nil)
	db.traced("BEGIN", t0)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", db.translate(err))
	}
	// Rolled back unless fn returned nil: also when it panics or its
	// goroutine ends (runtime.Goexit, as the tests that kill the process in
	// the middle of a message do), which would otherwise keep the
	// transaction and its connection (with SQLite, the write lock) open.
	finished := false
	defer func() {
		if !finished {
			tx.Rollback()
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	finished = true
	t0 = time.Now()
	err = tx.Commit()
	db.traced("COMMIT", t0)
	if err != nil {
		return fmt.Errorf("committing: %w", db.translate(err))
	}
	return nil
}

// q returns the transaction in ctx, or the pool.
func (db *DB) q(ctx context.Context) sqlx.ExtContext {
	if tx, ok := ctx.Value(txKey{}).(*sqlx.Tx); ok {
		return tx
	}
	return db.x
}

func (db *DB) inTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*sqlx.Tx)
	return ok
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.nstatements.Add(1)
	defer db.traced(query, time.Now())
	query = db.x.Rebind(query)
	if db.inTx(ctx) {
		if s := db.prepared(ctx, query, len(args)); s != nil {
			res, err := s.ExecContext(ctx, args...)
			return res, db.translate(err)
		}
	}
	res, err := db.q(ctx).ExecContext(ctx, query, args...)
	return res, db.translate(err)
}

func (db *DB) get(ctx context.Context, dest any, query string, args ...any) error {
	db.nstatements.Add(1)
	defer db.traced(query, time.Now())
	query = db.x.Rebind(query)
	if db.inTx(ctx) {
		if s := db.prepared(ctx, query, len(args)); s != nil {
			return db.translate(s.GetContext(ctx, dest, args...))
		}
	}
	return db.translate(sqlx.GetContext(ctx, db.q(ctx), dest, query, args...))
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sqlx.Row {
	db.nstatements.Add(1)
	defer db.traced(query, time.Now())
	query = db.x.Rebind(query)
	if s := db.prepared(ctx, query, len(args)); s != nil {
		return s.QueryRowxContext(ctx, args...)
	}
	return db.q(ctx).QueryRowxContext(ctx, query, args...)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	db.nstatements.Add(1)
	defer db.traced(query, time.Now())
	query = db.x.Rebind(query)
	if s := db.prepared(ctx, query, len(args)); s != nil {
		rows, err := s.QueryxContext(ctx, args...)
		return rows, db.translate(err)
	}
	rows, err := db.q(ctx).QueryxContext(ctx, query, args...)
	return rows, db.translate(err)
}

// ErrConflict is returned when a write breaks a uniqueness rule other than a
// dedupe key (which gives ticket.ErrAlreadyStored).
var ErrConflict = errors.New("conflicting row already exists")

// translate maps driver errors to domain errors, in one place.
func (db *DB) translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ticket.ErrNotFound
	}
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %s", ErrConflict, pe.Message)
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("%w: %s", ErrConflict, se.Error())
	}
	return err
}

// clean makes a string storable in both dialects: PostgreSQL rejects NUL
// bytes and invalid UTF-8 that SQLite would store silently. NUL bytes are
// dropped and invalid sequences become U+FFFD, so both dialects keep the same
// text. (Inbound mail is decoded properly in mailin; this is the last guard.)
func clean(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
