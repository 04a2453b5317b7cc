// Package localpg runs a throwaway PostgreSQL server from Debian's binaries for the
// tests, the demo and the benchmark: a cluster in a temporary directory, on a free port
// on 127.0.0.1, run as the postgres user when the caller is root. Debian's postgresql
// package is installed first where it is missing.
package localpg

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running throwaway PostgreSQL.
type Server struct {
	Host string
	Port int
	// SuperUser and SuperPassword log in as the cluster's superuser.
	SuperUser, SuperPassword string
	Version                  string

	dir  string
	bin  string
	cred *syscall.Credential
}

// Start creates and starts a new cluster.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{Host: "127.0.0.1", SuperUser: "postgres", SuperPassword: "super-" + strconv.FormatInt(time.Now().UnixNano(), 36), bin: bin}
	s.dir, err = os.MkdirTemp("", "region-operator-pg-")
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user, which Debian's package creates: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.SuperPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	if s.cred != nil {
		_ = os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid))
	}
	if out, err := s.run("initdb", "-D", s.data(), "-U", s.SuperUser, "--pwfile", pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--no-locale"); err != nil {
		s.Remove()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	_ = os.Remove(pwfile)
	if err := s.StartAgain(); err != nil {
		s.Remove()
		return nil, err
	}
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// LogPath is the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "server.log") }

// StartAgain starts the server (after Stop) on its port, keeping its data.
func (s *Server) StartAgain() error {
	if s.Port == 0 {
		port, err := freePort()
		if err != nil {
			return err
		}
		s.Port = port
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", s.Port, s.dir)
	if out, err := s.run("pg_ctl", "-D", s.data(), "-l", s.LogPath(), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(s.LogPath())
		return fmt.Errorf("starting PostgreSQL: %w\n%s\n%s", err, out, log)
	}
	conn, err := s.Connect(context.Background(), s.SuperUser, s.SuperPassword, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(context.Background(), "SHOW server_version").Scan(&s.Version)
}

// Stop stops the server, keeping its data.
func (s *Server) Stop() error {
	if out, err := s.run("pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("stopping PostgreSQL: %w\n%s", err, out)
	}
	return nil
}

// Remove stops the server and deletes its data.
func (s *Server) Remove() {
	_, _ = s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(s.dir)
}

// Connect opens a connection as the given login.
func (s *Server) Connect(ctx context.Context, user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("sslmode=disable")
	if err != nil {
		return nil, err
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = s.Host, uint16(s.Port), user, password, db
	cfg.ConnectTimeout = 5 * time.Second
	return pgx.ConnectConfig(ctx, cfg)
}

// CreateAdmin makes a LOGIN role with CREATEDB and CREATEROLE and no superuser rights:
// the least an operator needs to provision Regions.
func (s *Server) CreateAdmin(ctx context.Context, name, password string) error {
	conn, err := s.Connect(ctx, s.SuperUser, s.SuperPassword, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{name}.Sanitize()+" LOGIN CREATEDB CREATEROLE PASSWORD "+
		"'"+strings.ReplaceAll(password, "'", "''")+"'")
	return err
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// findBin finds the newest Debian PostgreSQL server, installing Debian's package when
// there is none.
func findBin() (string, error) {
	if dir := os.Getenv("POSTGRES_BIN"); dir != "" {
		return dir, nil
	}
	if bin := newestBin(); bin != "" {
		return bin, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("no PostgreSQL server in /usr/lib/postgresql/*/bin: install Debian's postgresql package, or set POSTGRES_BIN")
	}
	fmt.Fprintln(os.Stderr, "localpg: installing Debian's postgresql package")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	if bin := newestBin(); bin != "" {
		return bin, nil
	}
	return "", fmt.Errorf("installed postgresql, but found no server in /usr/lib/postgresql/*/bin")
}

func newestBin() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[0])
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tool is the path of one of the server's programs (psql, pg_dump, ...).
func (s *Server) Tool(name string) string { return filepath.Join(s.bin, name) }

// LogStatements has the server log every statement of a level ("ddl", "mod", "all")
// from now on, as it runs it.
func (s *Server) LogStatements(ctx context.Context, level string) error {
	conn, err := s.Connect(ctx, s.SuperUser, s.SuperPassword, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET log_statement = "+quote(level)); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "SELECT pg_reload_conf()")
	return err
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// LogSize is how far the server's log has come: an offset for LoggedStatements.
func (s *Server) LogSize() (int64, error) {
	fi, err := os.Stat(s.LogPath())
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

var (
	logEntry  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`)
	logLogged = regexp.MustCompile(`LOG:  (statement|execute [^:]*): `)
)

// LoggedStatements are the statements the server logged from offset on, in order, each
// whole (its lines after the first, which the log indents, joined back): those sent as
// they are, and those executed with parameters (the parameters are logged apart).
func (s *Server) LoggedStatements(offset int64) ([]string, error) {
	data, err := os.ReadFile(s.LogPath())
	if err != nil {
		return nil, err
	}
	var out []string
	current := -1
	for _, line := range strings.Split(string(data[offset:]), "\n") {
		if logEntry.MatchString(line) {
			current = -1
			if m := logLogged.FindStringIndex(line); m != nil {
				out = append(out, line[m[1]:])
				current = len(out) - 1
			}
			continue
		}
		if current >= 0 {
			out[current] += "\n" + strings.TrimPrefix(line, "\t")
		}
	}
	for i := range out {
		out[i] = strings.TrimRight(out[i], "\n")
	}
	return out, nil
}
