package pgsql

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A schema named like the administrator, and a function in it shadowing a catalog
// function, are never reached: every session of the operator searches pg_catalog and
// pg_temp only, from its very first statement.
func TestSessionsSearchOnlyTheCatalog(t *testing.T) {
	pg, su := serverWithDatabases(t, 0)
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE SCHEMA ` + ident(pg.SuperUser),
		`CREATE FUNCTION ` + qualifiedName(pg.SuperUser, "current_setting") + `(text) RETURNS text LANGUAGE sql AS $$ SELECT 'shadowed' $$`,
		`CREATE FUNCTION ` + qualifiedName(pg.SuperUser, "lower") + `(text) RETURNS text LANGUAGE sql AS $$ SELECT 'shadowed' $$`,
	} {
		if _, err := su.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	pool := superuserPool(t, pg, 1, time.Minute)
	c, err := pool.Acquire(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	var path, lowered string
	if err := c.QueryRow(ctx, `SELECT current_setting('search_path'), lower('ABC')`).Scan(&path, &lowered); err != nil {
		t.Fatal(err)
	}
	if path != "pg_catalog, pg_temp" || lowered != "abc" {
		t.Errorf("search_path %q, lower() gave %q: a schema of the administrator's name was searched", path, lowered)
	}
}

func qualifiedName(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// A server that asks for the password in clear text or as MD5 gets nothing: the
// operator's sessions accept SCRAM only, so even the right password does not log in.
func TestCleartextAndMD5AreRefused(t *testing.T) {
	pg, su := serverWithDatabases(t, 0)
	ctx := context.Background()
	var hba string
	if err := su.QueryRow(ctx, `SHOW hba_file`).Scan(&hba); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	rules := "host all plain 127.0.0.1/32 password\nhost all hashed 127.0.0.1/32 md5\n"
	if err := os.WriteFile(hba, append([]byte(rules), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`SET password_encryption = 'md5'`, `CREATE ROLE hashed LOGIN PASSWORD 'Right-Pa55'`,
		`SET password_encryption = 'scram-sha-256'`, `CREATE ROLE plain LOGIN PASSWORD 'Right-Pa55'`, `SELECT pg_reload_conf()`} {
		if _, err := su.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for _, user := range []string{"plain", "hashed"} {
		pool := newPool(ServerConfig{Host: pg.Host, Port: pg.Port, User: user, Password: "Right-Pa55", SSLMode: "disable", MaxConns: 1}, time.Minute)
		c, err := pool.Acquire(ctx, "postgres")
		if err == nil {
			c.Release()
			t.Errorf("%s logged in although the server asked for its password outside SCRAM", user)
		} else if strings.Contains(err.Error(), "Right-Pa55") || strings.Contains(err.Error(), user) {
			t.Errorf("the error echoes the login: %v", err)
		}
		pool.Close()
	}
}
