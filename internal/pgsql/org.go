package pgsql

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type townshipRow struct {
	Code, Name, DisplayName, Role string
}

type branchKey struct{ township, name string }

// SyncOrg makes org.township and org.branch equal to the spec, in one transaction, and
// writes nothing when they already are. Every value goes as a parameter: display names
// with quotes, backslashes or Chinese text are stored exactly as given.
func SyncOrg(ctx context.Context, c *Conn, r *RegionDB) error {
	return inTx(ctx, c, func(tx pgx.Tx) error {
		if err := sessionStmt(ctx, tx, "SET LOCAL ROLE "+ident(r.Owner), "acting as "+r.Owner); err != nil {
			return err
		}
		Global.Queries.Add(2)
		rows, err := tx.Query(ctx, `SELECT code, name, display_name, role_name::text FROM org.township`)
		if err != nil {
			return describe(err)
		}
		have, err := pgx.CollectRows(rows, pgx.RowToStructByPos[townshipRow])
		if err != nil {
			return describe(err)
		}
		rows, err = tx.Query(ctx, `SELECT township_code, name, display_name, kind, coalesce(code, ''), members FROM org.branch`)
		if err != nil {
			return describe(err)
		}
		haveBranches, err := pgx.CollectRows(rows, pgx.RowToStructByPos[BranchRow])
		if err != nil {
			return describe(err)
		}

		want := map[string]townshipRow{}
		for _, t := range r.Townships {
			want[t.Code] = townshipRow{Code: t.Code, Name: t.Name, DisplayName: t.DisplayName, Role: t.Role}
		}
		current := map[string]townshipRow{}
		for _, t := range have {
			current[t.Code] = t
			if _, ok := want[t.Code]; !ok {
				if err := dml(ctx, tx, "removing township "+t.Name, `DELETE FROM org.township WHERE code = $1`, t.Code); err != nil {
					return err
				}
			}
		}
		for _, t := range r.Townships {
			w := want[t.Code]
			if cur, ok := current[t.Code]; ok && cur == w {
				continue
			}
			if err := dml(ctx, tx, "writing township "+t.Name, `INSERT INTO org.township (code, name, display_name, role_name)
				VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE
				SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name`,
				w.Code, w.Name, w.DisplayName, w.Role); err != nil {
				return err
			}
		}

		wantBranches := map[branchKey]BranchRow{}
		for _, b := range r.Branches {
			wantBranches[branchKey{b.TownshipCode, b.Name}] = b
		}
		currentBranches := map[branchKey]BranchRow{}
		for _, b := range haveBranches {
			k := branchKey{b.TownshipCode, b.Name}
			currentBranches[k] = b
			if _, ok := wantBranches[k]; !ok {
				if _, kept := want[b.TownshipCode]; !kept {
					continue // removed with its township, by the cascade
				}
				if err := dml(ctx, tx, "removing branch "+b.Name, `DELETE FROM org.branch WHERE township_code = $1 AND name = $2`, b.TownshipCode, b.Name); err != nil {
					return err
				}
			}
		}
		for _, b := range r.Branches {
			if cur, ok := currentBranches[branchKey{b.TownshipCode, b.Name}]; ok && cur == b {
				continue
			}
			var code any
			if b.Code != "" {
				code = b.Code
			}
			if err := dml(ctx, tx, "writing branch "+b.Name, `INSERT INTO org.branch (township_code, name, display_name, kind, code, members)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE
				SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members`,
				b.TownshipCode, b.Name, b.DisplayName, b.Kind, code, b.Members); err != nil {
				return err
			}
		}
		return nil
	})
}
