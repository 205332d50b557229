package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/jmoiron/sqlx"
)

// SnapshotSQLite writes a consistent copy of a SQLite store to path with
// VACUUM INTO, while the daemon keeps running (readers and the writer are
// not blocked for longer than SQLite's own page copying). path must not
// exist. PostgreSQL stores are backed up with pg_dump instead.
func (db *DB) SnapshotSQLite(ctx context.Context, path string) error {
	if db.driver != "sqlite" {
		return fmt.Errorf("snapshot: VACUUM INTO is for SQLite; this store is %s", db.driver)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("snapshot: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("snapshot: %w", err)
	}
	if _, err := db.x.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("snapshot into %s: %w", path, err)
	}
	return nil
}

// OpenSQLiteReadOnly opens a SQLite file without changing it (no WAL
// switch, no schema_migrations table): what `mesa backup verify` reads.
func OpenSQLiteReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	x, err := openSQLX("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_time_format=sqlite")
	if err != nil {
		return nil, err
	}
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db := &DB{x: x, driver: "sqlite"}
	if _, err := db.Tables(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	return db, nil
}

// Tables lists the store's tables by name.
func (db *DB) Tables(ctx context.Context) ([]string, error) {
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	if db.driver == "sqlite" {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	}
	var names []string
	if err := db.translate(sqlxSelect(ctx, db, &names, q)); err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// RowCounts counts the rows of every table.
func (db *DB) RowCounts(ctx context.Context) (map[string]int64, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		// Names come from the catalogue, not from input.
		if err := db.get(ctx, &c, `SELECT COUNT(*) FROM `+quoteIdent(n)); err != nil {
			return nil, fmt.Errorf("counting %s: %w", n, err)
		}
		out[n] = c
	}
	return out, nil
}

// AppliedVersion is SchemaVersion without creating schema_migrations:
// 0 when the table does not exist.
func (db *DB) AppliedVersion(ctx context.Context) (int, error) {
	names, err := db.Tables(ctx)
	if err != nil {
		return 0, err
	}
	if !contains(names, "schema_migrations") {
		return 0, nil
	}
	var v int
	if err := db.get(ctx, &v, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// PendingMigrations names the migrations Migrate would apply, changing
// nothing (`mesa migrate --dry-run`).
func (db *DB) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	v, err := db.AppliedVersion(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if m.version > v {
			out = append(out, m.name)
		}
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func quoteIdent(s string) string { return `"` + s + `"` }

func openSQLX(driver, dsn string) (*sqlx.DB, error) {
	x, err := sqlx.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s store: %w", driver, err)
	}
	return x, nil
}

func sqlxSelect(ctx context.Context, db *DB, dest any, q string, args ...any) error {
	return sqlx.SelectContext(ctx, db.q(ctx), dest, db.x.Rebind(q), args...)
}

// QuickCheck runs SQLite's PRAGMA quick_check and returns its complaints
// (none when the file is sound).
func (db *DB) QuickCheck(ctx context.Context) ([]string, error) {
	if db.driver != "sqlite" {
		return nil, fmt.Errorf("quick_check is for SQLite; this store is %s", db.driver)
	}
	var out []string
	if err := sqlxSelect(ctx, db, &out, `PRAGMA quick_check`); err != nil {
		return nil, fmt.Errorf("checking the database: %w", err)
	}
	if len(out) == 1 && out[0] == "ok" {
		return nil, nil
	}
	return out, nil
}
