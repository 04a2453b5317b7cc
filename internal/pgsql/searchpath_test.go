package pgsql

import (
	"context"
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
