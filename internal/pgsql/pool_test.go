package pgsql

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiceng-io/region-operator/internal/localpg"
)

// serverWithDatabases starts a throwaway server with databases db0..db<n-1>, and returns
// it with a superuser connection; both go when the test ends.
func serverWithDatabases(t *testing.T, n int) (*localpg.Server, *pgx.Conn) {
	t.Helper()
	pg, err := localpg.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Remove)
	ctx := context.Background()
	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { su.Close(ctx) })
	for i := range n {
		if _, err := su.Exec(ctx, fmt.Sprintf("CREATE DATABASE db%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return pg, su
}

// superuserPool is a pool of the server's superuser, closed when the test ends.
func superuserPool(t *testing.T, pg *localpg.Server, maxConns int, idleTimeout time.Duration) *Pool {
	pool := newPool(ServerConfig{Host: pg.Host, Port: pg.Port, User: pg.SuperUser, Password: pg.SuperPassword, SSLMode: "disable", MaxConns: maxConns}, idleTimeout)
	t.Cleanup(pool.Close)
	return pool
}

// The pool never holds more than MaxConns connections to the server, all databases
// together, even with many more workers wanting connections to many databases; and it
// closes what stays idle.
func TestPoolBoundsConnectionsAcrossDatabases(t *testing.T) {
	ctx := context.Background()
	pg, su := serverWithDatabases(t, 4)
	pool := superuserPool(t, pg, 3, 300*time.Millisecond)

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				c, err := pool.Acquire(ctx, fmt.Sprintf("db%d", (w+i)%4))
				if err != nil {
					errs <- err
					return
				}
				_, err = c.Exec(ctx, "SELECT pg_sleep(0.002)")
				c.Release()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	open, peak := pool.Open()
	if peak > 3 || peak < 2 {
		t.Errorf("peak connections %d, want 2..3", peak)
	}
	var server int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'region-operator'`).Scan(&server); err != nil {
		t.Fatal(err)
	}
	if server != open || open > 3 {
		t.Errorf("server sees %d connections, pool says %d", server, open)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if open, _ = pool.Open(); open == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if open != 0 {
		t.Errorf("%d connections still open after the idle timeout", open)
	}

	// A waiter gives up when its context ends.
	held := make([]*Conn, 0, 3)
	for range 3 {
		c, err := pool.Acquire(ctx, "db0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := pool.Acquire(short, "db1"); err == nil {
		t.Error("a fourth connection was handed out")
	}
	for _, c := range held {
		c.Release()
	}
}

// A connection given back while someone waits for its database goes to that waiter as
// it is, with no new session; while only waiters for other databases are there, it is
// closed to free the slot.
func TestPoolHandsAConnectionToAWaiterForItsDatabase(t *testing.T) {
	ctx := context.Background()
	pg, _ := serverWithDatabases(t, 2)
	pool := superuserPool(t, pg, 1, time.Minute)

	// waitFor acquires db in the background once the pool counts it as a waiter.
	waitFor := func(db string) chan *Conn {
		got := make(chan *Conn, 1)
		go func() {
			c, err := pool.Acquire(ctx, db)
			if err != nil {
				t.Error(err)
			}
			got <- c
		}()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			pool.mu.Lock()
			n := pool.waitingFor[db]
			pool.mu.Unlock()
			if n > 0 {
				return got
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("nobody waits for %s", db)
		return nil
	}

	first, err := pool.Acquire(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	pid := first.PgConn().PID()
	same := waitFor("postgres")
	first.Release()
	second := <-same
	if second.PgConn().PID() != pid {
		t.Errorf("the waiter for the same database got a new session (backend %d, not %d)", second.PgConn().PID(), pid)
	}

	other := waitFor("db1")
	second.Release()
	third := <-other
	if third.PgConn().PID() == pid {
		t.Error("the waiter for another database got a connection to the wrong one")
	}
	var db string
	if err := third.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "db1" {
		t.Errorf("connected to %q (%v), want db1", db, err)
	}
	third.Release()
	if open, peak := pool.Open(); open > 1 || peak > 1 {
		t.Errorf("open %d, peak %d: more than MaxConns 1", open, peak)
	}
}

// When the pool closes a connection, the slot it frees is free on the server too: the
// server has let the session go by the time the pool counts the slot free, so the
// server never counts more of the operator's sessions than MaxConns, not even for the
// moment a backend takes to exit.
func TestPoolFreesASlotOnlyOnceTheServerLetTheSessionGo(t *testing.T) {
	ctx := context.Background()
	pg, su := serverWithDatabases(t, 1)
	pool := superuserPool(t, pg, 1, time.Minute)

	for i := range 50 {
		c, err := pool.Acquire(ctx, "db0")
		if err != nil {
			t.Fatal(err)
		}
		pid := c.PgConn().PID()
		pool.discard(c) // as Release does with a connection it does not keep
		if open, _ := pool.Open(); open != 0 {
			t.Fatalf("the pool still counts %d connections", open)
		}
		var listed bool
		if err := su.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1)`, int32(pid)).Scan(&listed); err != nil {
			t.Fatal(err)
		}
		if listed {
			t.Fatalf("round %d: the pool counts its slot free but the server still lists the session (pid %d)", i, pid)
		}
	}
}

// A pool that met many databases keeps nothing of those it has no idle connection to:
// an operator of a province meets thousands.
func TestPoolForgetsDatabasesItLeft(t *testing.T) {
	ctx := context.Background()
	pg, _ := serverWithDatabases(t, 6)
	pool := superuserPool(t, pg, 2, time.Minute)
	for i := range 12 {
		c, err := pool.Acquire(ctx, fmt.Sprintf("db%d", i%6))
		if err != nil {
			t.Fatal(err)
		}
		c.Release()
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	held := 0
	for db, conns := range pool.idle {
		held += len(conns)
		if len(conns) == 0 {
			t.Errorf("the pool still has an entry for %s without a connection", db)
		}
		for _, c := range conns[len(conns):cap(conns)] {
			if c != nil {
				t.Errorf("a connection taken out of %s's idle list is still referenced", db)
			}
		}
	}
	if held > 2 {
		t.Errorf("%d idle connections held, more than MaxConns", held)
	}
}
