// Package testpg gives tests a real PostgreSQL database: the server named by
// MESA_TEST_DATABASE_URL when set, otherwise a throwaway cluster started once
// per test process from the local PostgreSQL binaries, on a free loopback port
// and a private socket directory, with fsync off. As root, initdb and postgres
// run as the unprivileged "postgres" user, since initdb refuses root.
//
// When neither is possible the test fails — it never skips — with a message
// that says how to fix it.
package testpg

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver
)

// EnvURL names the variable that points tests at an existing server. The
// role must be allowed to create databases.
const EnvURL = "MESA_TEST_DATABASE_URL"

// T is what the helpers need of a test; testing.TB satisfies it, and so
// does the runner of `mesa bench`.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

var (
	once    sync.Once
	cluster *server
	baseURL string
	bootErr error
	counter atomic.Int64
)

type server struct {
	bin, dir string
	port     int
	cred     *syscall.Credential
	cmd      *exec.Cmd
}

// NewDatabase creates an empty database for t, dropped when t ends, and
// returns its URL.
func NewDatabase(t T) string {
	t.Helper()
	once.Do(boot)
	if bootErr != nil {
		t.Fatalf("PostgreSQL for tests: %v\n"+
			"Fix: install the server (apt-get install postgresql; `make test` does this when run as root), "+
			"or set %s=postgres://user:pw@host:port/db?sslmode=disable for a role with CREATEDB.", bootErr, EnvURL)
	}
	return createDatabase(t, baseURL)
}

func createDatabase(t T, base string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer admin.Close()
	name := fmt.Sprintf("mesa_test_%d_%d", os.Getpid(), counter.Add(1))
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// Cluster is a private throwaway server, for a test that restarts
// PostgreSQL under the daemon's feet. It always runs from the local
// binaries, whatever MESA_TEST_DATABASE_URL says.
type Cluster struct{ s *server }

// StartCluster starts a private cluster, stopped when t ends.
func StartCluster(t T) *Cluster {
	t.Helper()
	s, err := newServer()
	if err != nil {
		t.Fatalf("private PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() { s.stop(); os.RemoveAll(s.dir) })
	return &Cluster{s: s}
}

// NewDatabase creates an empty database in the cluster and returns its URL.
func (c *Cluster) NewDatabase(t T) string {
	t.Helper()
	return createDatabase(t, c.s.url())
}

// Restart stops the server (fast shutdown: clients are disconnected) and
// starts it again on the same port, with the same data.
func (c *Cluster) Restart(t T) {
	t.Helper()
	c.s.stop()
	if err := c.s.launch(); err != nil {
		t.Fatalf("restarting PostgreSQL: %v", err)
	}
}

// Stop stops the throwaway cluster, if one was started. Call it from
// TestMain after m.Run.
func Stop() {
	if cluster == nil {
		return
	}
	cluster.stop()
	os.RemoveAll(cluster.dir)
	cluster = nil
}

func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

func boot() {
	if u := os.Getenv(EnvURL); u != "" {
		baseURL = u
		bootErr = ping(u, 10*time.Second)
		return
	}
	cluster, bootErr = newServer()
	if bootErr == nil {
		baseURL = cluster.url()
	}
}

// newServer creates a cluster in a new temporary directory and starts it.
func newServer() (*server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mesa-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres system user to run initdb: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := s.command("initdb", "--no-sync", "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C.UTF-8", "-D", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := s.launch(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *server) command(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(s.bin, name), args...)
	c.Dir = s.dir
	c.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	c.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	return c
}

func (s *server) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// launch starts postgres on the cluster's port and waits until it answers.
func (s *server) launch() error {
	cmd := s.command("postgres", "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		cmd.Stdout, cmd.Stderr = logf, logf
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd = cmd
	if err := ping(s.url(), 20*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
		s.stop()
		return fmt.Errorf("%w; server log:\n%s", err, log)
	}
	return nil
}

func ping(u string, within time.Duration) error {
	db, err := sql.Open("postgres", u)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(within)
	for {
		err := db.Ping()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server at %s did not answer within %s: %w", u, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// binDir finds initdb: on PATH, or in the highest Debian
// /usr/lib/postgresql/<major>/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return a < b
	})
	if len(dirs) == 0 {
		return "", fmt.Errorf("no PostgreSQL server binaries (initdb) on PATH or in /usr/lib/postgresql/*/bin")
	}
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
