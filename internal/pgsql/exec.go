package pgsql

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what both a connection and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ident quotes one SQL identifier.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// ddl runs a statement that changes the catalog. The statement text is never put into
// an error: a password verifier may be part of it.
func ddl(ctx context.Context, q querier, what, sql string) error {
	Global.DDL.Add(1)
	if _, err := q.Exec(ctx, sql); err != nil {
		Global.Failures.Add(1)
		return fmt.Errorf("%s: %w", what, describe(err))
	}
	return nil
}

// dml runs a statement that changes rows, with parameters.
func dml(ctx context.Context, q querier, what, sql string, args ...any) error {
	Global.DML.Add(1)
	if _, err := q.Exec(ctx, sql, args...); err != nil {
		Global.Failures.Add(1)
		return fmt.Errorf("%s: %w", what, describe(err))
	}
	return nil
}

// describe keeps the server's message and code, and drops the statement position and
// anything else that could echo the statement.
func describe(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Errorf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return err
}

// queryStrings runs a query returning one text column.
func queryStrings(ctx context.Context, q querier, sql string, args ...any) ([]string, error) {
	Global.Queries.Add(1)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		Global.Failures.Add(1)
		return nil, describe(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		Global.Failures.Add(1)
		return nil, describe(err)
	}
	return out, nil
}

// queryBool runs a query returning one boolean.
func queryBool(ctx context.Context, q querier, sql string, args ...any) (bool, error) {
	Global.Queries.Add(1)
	var b bool
	if err := q.QueryRow(ctx, sql, args...).Scan(&b); err != nil {
		Global.Failures.Add(1)
		return false, describe(err)
	}
	return b, nil
}

// sessionStmt runs a session statement that changes no catalog (SET ROLE and the like).
func sessionStmt(ctx context.Context, q querier, sql, what string) error {
	if _, err := q.Exec(ctx, sql); err != nil {
		Global.Failures.Add(1)
		return fmt.Errorf("%s: %w", what, describe(err))
	}
	return nil
}
