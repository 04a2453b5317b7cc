// Package pgsql holds every SQL statement region-operator runs, and the bounded
// connection pool it runs them on. Identifiers are quoted with pgx.Identifier, values go
// as parameters, and a password never leaves this package except in a Secret.
package pgsql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// ServerConfig says how to reach a PostgreSQL server as its administrator.
type ServerConfig struct {
	Host     string
	Port     int
	User     string
	Password string
	SSLMode  string
	// CACert is the PEM of the authority the server's certificate is verified against;
	// empty means the system's roots (and, under require, no verification).
	CACert string
	// ClientCert and ClientKey are the PEM of a certificate the operator presents to the
	// server; both or neither.
	ClientCert, ClientKey string
	// MaxConns bounds the connections the operator holds to the server, all databases
	// together.
	MaxConns int
}

// IdleTimeout is how long an unused connection is kept before it is closed.
const IdleTimeout = 30 * time.Second

// connectTimeout bounds one connection attempt, so a server that is down is noticed fast.
const connectTimeout = 5 * time.Second

// MaintenanceDB is the database the operator connects to for cluster-wide statements.
const MaintenanceDB = "postgres"

// Stats counts the statements the operator ran, for metrics and benchmarks.
type Stats struct {
	DDL, DML, Queries, Failures atomic.Int64
}

// Global is the process's statement counter.
var Global Stats

// Pool is a connection pool for one server, over all of its databases: it never holds
// more than MaxConns connections, reuses an idle connection to the same database, closes
// an idle one to another database when it needs the slot, and closes what stayed idle
// for IdleTimeout.
type Pool struct {
	mu   sync.Mutex
	cfg  ServerConfig
	gen  int
	open int
	// waitingFor counts, by database, who waits for a connection.
	waitingFor map[string]int
	idle       map[string][]*Conn
	changed    chan struct{}
	closed     bool
	stop       chan struct{}
	peak       int
	// idleTimeout is IdleTimeout, shorter in tests.
	idleTimeout time.Duration
}

// Conn is a connection taken from a Pool; Release gives it back.
type Conn struct {
	*pgx.Conn
	pool  *Pool
	db    string
	gen   int
	since time.Time
}

// NewPool creates a pool; it opens nothing until asked.
func NewPool(cfg ServerConfig) *Pool {
	if cfg.MaxConns < 1 {
		cfg.MaxConns = 1
	}
	return newPool(cfg, IdleTimeout)
}

func newPool(cfg ServerConfig, idleTimeout time.Duration) *Pool {
	p := &Pool{cfg: cfg, idle: map[string][]*Conn{}, waitingFor: map[string]int{}, changed: make(chan struct{}), stop: make(chan struct{}), idleTimeout: idleTimeout}
	go p.reap()
	return p
}

// Config is the pool's current configuration.
func (p *Pool) Config() ServerConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// Reconfigure makes new connections use cfg; idle ones are closed, busy ones are closed
// when released.
func (p *Pool) Reconfigure(cfg ServerConfig) {
	if cfg.MaxConns < 1 {
		cfg.MaxConns = 1
	}
	p.mu.Lock()
	p.cfg = cfg
	p.gen++
	idle := p.takeIdle(func(*Conn) bool { return true })
	p.mu.Unlock()
	p.closeConns(idle)
}

// Open is the number of connections the pool holds now; Peak the most it ever held.
func (p *Pool) Open() (open, peak int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open, p.peak
}

// Acquire returns a connection to database db, waiting for a free slot if need be.
func (p *Pool) Acquire(ctx context.Context, db string) (*Conn, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("connection pool closed")
		}
		if conns := p.idle[db]; len(conns) > 0 {
			c := conns[len(conns)-1]
			p.setIdle(db, conns[:len(conns)-1])
			p.mu.Unlock()
			// A connection idle for a while may have been cut (a server restart, a
			// proxy's timeout): find out now rather than in the middle of the work.
			if c.IsClosed() || (time.Since(c.since) > time.Second && c.Ping(ctx) != nil) {
				p.discard(c)
				continue
			}
			return c, nil
		}
		if p.open < p.cfg.MaxConns {
			p.open++
			p.peak = max(p.peak, p.open)
			cfg, gen := p.cfg, p.gen
			p.mu.Unlock()
			conn, err := connect(ctx, cfg, db)
			if err != nil {
				p.mu.Lock()
				p.open--
				p.signal()
				p.mu.Unlock()
				return nil, err
			}
			return &Conn{Conn: conn, pool: p, db: db, gen: gen}, nil
		}
		// No free slot: give up an idle connection to another database, if there is one.
		victims := p.takeIdle(oneOnly())
		if len(victims) > 0 {
			p.mu.Unlock()
			p.closeConns(victims)
			continue
		}
		ch := p.changed
		p.waitingFor[db]++
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		p.mu.Lock()
		if p.waitingFor[db]--; p.waitingFor[db] == 0 {
			delete(p.waitingFor, db)
		}
		p.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// Release gives a connection back: kept idle for reuse, or closed when it is broken,
// out of date, or someone waits for a slot and none of those waiting wants this
// connection's database (one who does takes it over as it is).
func (c *Conn) Release() {
	p := c.pool
	p.mu.Lock()
	if c.IsClosed() || c.gen != p.gen || p.closed || (len(p.waitingFor) > 0 && p.waitingFor[c.db] == 0) || c.Conn.PgConn().TxStatus() != 'I' {
		p.mu.Unlock()
		p.discard(c)
		return
	}
	c.since = time.Now()
	p.idle[c.db] = append(p.idle[c.db], c)
	p.signal()
	p.mu.Unlock()
}

// Close closes the pool and its idle connections; busy ones close when released.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.stop)
	idle := p.takeIdle(func(*Conn) bool { return true })
	p.signal()
	p.mu.Unlock()
	p.closeConns(idle)
}

// discard closes a connection and frees its slot once the server has let it go.
func (p *Pool) discard(c *Conn) {
	hangUp(c.Conn)
	p.mu.Lock()
	p.open--
	p.signal()
	p.mu.Unlock()
}

func (p *Pool) closeConns(conns []*Conn) {
	for _, c := range conns {
		p.discard(c)
	}
}

// takeIdle removes the idle connections keep selects; the caller holds p.mu.
func (p *Pool) takeIdle(take func(*Conn) bool) []*Conn {
	var out []*Conn
	for db, conns := range p.idle {
		kept := conns[:0]
		for _, c := range conns {
			if take(c) {
				out = append(out, c)
			} else {
				kept = append(kept, c)
			}
		}
		p.setIdle(db, kept)
	}
	return out
}

// setIdle makes conns, a prefix of what p.idle held for db, the idle connections to db.
// A connection taken out leaves no reference behind, and a database without idle
// connections leaves the map: a province's operator meets thousands of databases and
// must not keep a closed connection of each. The caller holds p.mu.
func (p *Pool) setIdle(db string, conns []*Conn) {
	old := p.idle[db]
	clear(old[len(conns):])
	if len(conns) == 0 {
		delete(p.idle, db)
		return
	}
	p.idle[db] = conns
}

func oneOnly() func(*Conn) bool {
	taken := false
	return func(*Conn) bool {
		if taken {
			return false
		}
		taken = true
		return true
	}
}

// signal wakes every waiter; the caller holds p.mu.
func (p *Pool) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Pool) reap() {
	t := time.NewTicker(p.idleTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			old := p.takeIdle(func(c *Conn) bool { return now.Sub(c.since) > p.idleTimeout })
			p.mu.Unlock()
			p.closeConns(old)
		}
	}
}

// hangUp ends a session and returns once the server has let it go. Closing the socket
// right after the goodbye, as pgx's Close does, leaves the backend counted by the server
// (in pg_stat_activity and against max_connections) for as long as it takes to exit,
// and a connection opened meanwhile would put the operator above MaxConns on the
// server. PostgreSQL keeps a backend's socket open until the process has exited, so
// that a client can close synchronously: say goodbye, then wait for the end of the
// stream.
func hangUp(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	pc := conn.PgConn()
	if pc.IsClosed() || pc.IsBusy() {
		_ = conn.Close(ctx)
		return
	}
	hc, err := pc.Hijack()
	if err != nil {
		_ = conn.Close(ctx)
		return
	}
	defer hc.Conn.Close()
	deadline, _ := ctx.Deadline()
	_ = hc.Conn.SetDeadline(deadline)
	hc.Frontend.Send(&pgproto3.Terminate{})
	if err := hc.Frontend.Flush(); err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, hc.Conn)
}

// TLSMode is the sslmode the operator connects with: require with a CA given verifies
// the chain, as libpq does when it has a root certificate.
func TLSMode(sslMode, caCert string) string {
	if sslMode == "require" && caCert != "" {
		return "verify-ca"
	}
	return sslMode
}

// CheckTLS says what is wrong with a server's TLS settings, naming the field, before
// any connection is tried.
func CheckTLS(cfg ServerConfig) error {
	if cfg.CACert != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(cfg.CACert)) {
			return errors.New("spec.caSecretRef: ca.crt holds no PEM certificate")
		}
	}
	if cfg.ClientCert != "" || cfg.ClientKey != "" {
		if _, err := tls.X509KeyPair([]byte(cfg.ClientCert), []byte(cfg.ClientKey)); err != nil {
			return fmt.Errorf("spec.clientCertSecretRef: tls.crt and tls.key are not a certificate and its key: %w", err)
		}
	}
	return nil
}

func connect(ctx context.Context, cfg ServerConfig, db string) (*pgx.Conn, error) {
	if err := CheckTLS(cfg); err != nil {
		return nil, &ConnectError{Kind: FailedSettings, msg: err.Error()}
	}
	// The administrator's password goes only through SCRAM: a server (or something in
	// its place) that asks for it in clear text or as MD5 gets nothing. The host is
	// parsed with the mode, so verify-full checks the certificate against it.
	connCfg, err := pgx.ParseConfig("host=" + quoteValue(cfg.Host) + " port=" + strconv.Itoa(cfg.Port) +
		" sslmode=" + quoteValue(TLSMode(cfg.SSLMode, cfg.CACert)) + " require_auth=scram-sha-256")
	if err != nil {
		return nil, fmt.Errorf("sslMode %q: %w", cfg.SSLMode, err)
	}
	var roots *x509.CertPool
	if cfg.CACert != "" {
		roots = x509.NewCertPool()
		roots.AppendCertsFromPEM([]byte(cfg.CACert))
	}
	var certs []tls.Certificate
	if cfg.ClientCert != "" {
		cert, _ := tls.X509KeyPair([]byte(cfg.ClientCert), []byte(cfg.ClientKey))
		certs = []tls.Certificate{cert}
	}
	useTLS := func(tc *tls.Config) {
		if tc == nil {
			return
		}
		// pgx's verify-ca check reads RootCAs from this same config when it runs.
		if roots != nil {
			tc.RootCAs = roots
		}
		if certs != nil {
			tc.Certificates = certs
		}
	}
	useTLS(connCfg.TLSConfig)
	for _, fb := range connCfg.Fallbacks {
		useTLS(fb.TLSConfig)
	}
	connCfg.User = cfg.User
	connCfg.Password = cfg.Password
	connCfg.Database = db
	connCfg.ConnectTimeout = connectTimeout
	connCfg.RuntimeParams["application_name"] = "region-operator"
	// Pinned at connection start, so no statement can run before it: a schema someone
	// else can create in (a township's) is never searched for what the operator calls.
	connCfg.RuntimeParams["search_path"] = "pg_catalog, pg_temp"
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		Global.Failures.Add(1)
		// The user name comes from a Secret: it is never put into a message (pgx and
		// the server both name it).
		msg := err.Error()
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) && ce.Unwrap() != nil {
			msg = ce.Unwrap().Error()
		}
		if cfg.User != "" {
			msg = strings.ReplaceAll(msg, cfg.User, "<the Secret's user>")
		}
		return nil, &ConnectError{Kind: failureKind(err), msg: fmt.Sprintf("connecting to %s/%s: %s", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), db, msg)}
	}
	return conn, nil
}

// FailureKind is why a connection failed.
type FailureKind int

// The kinds of connection failure.
const (
	// FailedReaching: no answer, or the session broke off.
	FailedReaching FailureKind = iota
	// FailedAuthentication: the server refused the login (SQLSTATE class 28).
	FailedAuthentication
	// FailedCertificate: the server's certificate did not verify.
	FailedCertificate
	// FailedSettings: the TLS settings themselves are unusable.
	FailedSettings
)

// ConnectError is a failed connection, its message free of the Secret's user name.
type ConnectError struct {
	Kind FailureKind
	msg  string
}

func (e *ConnectError) Error() string { return e.msg }

func failureKind(err error) FailureKind {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28") {
		return FailedAuthentication
	}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return FailedCertificate
	}
	return FailedReaching
}

// quoteValue quotes a value of a keyword/value connection string.
func quoteValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v) + "'"
}

// Pools holds one Pool per DatabaseServer, by name.
type Pools struct {
	mu    sync.Mutex
	pools map[string]*Pool
}

// NewPools returns an empty set of pools.
func NewPools() *Pools { return &Pools{pools: map[string]*Pool{}} }

// Get returns the pool of a server, made or reconfigured to cfg.
func (ps *Pools) Get(server string, cfg ServerConfig) *Pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.pools[server]
	if !ok {
		p = NewPool(cfg)
		ps.pools[server] = p
		return p
	}
	if p.Config() != cfg {
		p.Reconfigure(cfg)
	}
	return p
}

// Forget closes and drops the pool of a server that no longer exists.
func (ps *Pools) Forget(server string) {
	ps.mu.Lock()
	p := ps.pools[server]
	delete(ps.pools, server)
	ps.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

// Lookup returns the pool of a server if there is one.
func (ps *Pools) Lookup(server string) *Pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.pools[server]
}
