package pgsql

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// Every query below names catalog objects and functions with their schema, and every
// session pins search_path to pg_catalog, pg_temp (see connect): a schema a township
// can create in can never shadow what the administrator calls.

// Snapshot reads what the server holds of a Region: the roles the Region names and
// every role under its township role prefix, the administrator's memberships, and its
// database with everything inside it that a plan compares with the spec.
func Snapshot(ctx context.Context, pool *Pool, r *desired.RegionDB) (*desired.Catalog, error) {
	cat := &desired.Catalog{Roles: map[string]desired.Role{}, Member: map[string]bool{}}
	named := append([]string{r.Owner, r.County, r.Supervisor}, townshipRoles(r)...)
	_, err := withConn(ctx, pool, MaintenanceDB, func(m *Conn) (struct{}, error) {
		super, err := queryBool(ctx, m, `SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER`)
		if err != nil {
			return struct{}{}, fmt.Errorf("reading the administrator's role: %w", err)
		}
		cat.Superuser = super
		Global.Queries.Add(1)
		rows, err := m.Query(ctx, `SELECT rolname::text, rolcanlogin, coalesce(pg_catalog.shobj_description(oid, 'pg_authid'), ''),
				coalesce((SELECT pg_catalog.substr(c, 13) FROM pg_catalog.unnest(rolconfig) c WHERE c LIKE 'search\_path=%' LIMIT 1), ''),
				rolconnlimit
			FROM pg_catalog.pg_roles WHERE rolname = ANY($1) OR pg_catalog.left(rolname, $3) = $2`,
			named, r.TownshipRolePrefix, len(r.TownshipRolePrefix))
		if err != nil {
			return struct{}{}, fmt.Errorf("reading roles: %w", describe(err))
		}
		for rows.Next() {
			var name, comment, path string
			var login bool
			var limit int
			if err := rows.Scan(&name, &login, &comment, &path, &limit); err != nil {
				rows.Close()
				return struct{}{}, describe(err)
			}
			cat.Roles[name] = desired.Role{Login: login, Comment: comment, SearchPath: searchPath(path), ConnectionLimit: limit}
		}
		if err := rows.Err(); err != nil {
			return struct{}{}, describe(err)
		}
		if cat.Elsewhere, err = elsewhere(ctx, m, r.TownshipRolePrefix, r.Database); err != nil {
			return struct{}{}, err
		}
		members, err := queryStrings(ctx, m, `SELECT r.rolname::text FROM pg_catalog.pg_auth_members a
			JOIN pg_catalog.pg_roles r ON r.oid = a.roleid
			WHERE a.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER) AND r.rolname = ANY($1)`, named)
		if err != nil {
			return struct{}{}, err
		}
		for _, n := range members {
			cat.Member[n] = true
		}
		d := &cat.Database
		Global.Queries.Add(1)
		err = m.QueryRow(ctx, `SELECT true, coalesce(pg_catalog.shobj_description(oid, 'pg_database'), ''), pg_catalog.pg_get_userbyid(datdba)::text,
				datacl IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(datacl) a WHERE a.grantee = 0)
			FROM pg_catalog.pg_database WHERE datname = $1`, r.Database).Scan(&d.Exists, &d.Comment, &d.Owner, &d.PublicAccess)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return struct{}{}, fmt.Errorf("reading database %s: %w", r.Database, describe(err))
		}
		if !d.Exists {
			return struct{}{}, nil
		}
		connect, err := queryStrings(ctx, m, `SELECT rolname::text FROM pg_catalog.pg_roles
			WHERE rolname = ANY($1) AND pg_catalog.has_database_privilege(oid, $2, 'CONNECT')`, named, r.Database)
		if err != nil {
			return struct{}{}, err
		}
		d.Connect = set(connect)
		return struct{}{}, nil
	})
	if err != nil || !cat.Database.Exists || !desired.OwnsDatabase(r, cat) {
		return cat, err
	}
	_, err = withConn(ctx, pool, r.Database, func(c *Conn) (struct{}, error) {
		return struct{}{}, readDatabase(ctx, c, r, cat)
	})
	return cat, err
}

// townshipRoles are the roles of the spec's townships and of the townships they were
// before an adjustment.
func townshipRoles(r *desired.RegionDB) []string {
	out := make([]string, 0, len(r.Townships))
	for _, t := range r.Townships {
		out = append(out, t.Role)
		for _, f := range t.Formerly {
			if f.Role != t.Role {
				out = append(out, f.Role)
			}
		}
	}
	return out
}

func set(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}

// readDatabase reads what the Region's database holds into cat.Database.
func readDatabase(ctx context.Context, c *Conn, r *desired.RegionDB, cat *desired.Catalog) error {
	d := &cat.Database
	roles := append([]string{r.County, r.Supervisor}, townshipRoles(r)...)
	open, err := queryBool(ctx, c, `SELECT pg_catalog.has_schema_privilege('public', 'public', 'USAGE') OR pg_catalog.has_schema_privilege('public', 'public', 'CREATE')`)
	if err != nil {
		return err
	}
	d.PublicSchemaOpen = open
	if d.Schemas, err = queryStrings(ctx, c, `SELECT nspname::text FROM pg_catalog.pg_namespace
		WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\_%' ORDER BY 1`); err != nil {
		return err
	}
	org, err := queryStrings(ctx, c, `
		SELECT 'table:' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org' AND c.relkind = 'r'
		UNION ALL SELECT 'rls:' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org' AND c.relrowsecurity
		UNION ALL SELECT 'policy:' || c.relname || ':' || p.polname FROM pg_catalog.pg_policy p
			JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org'
		UNION ALL SELECT 'column:' || c.relname || ':' || a.attname FROM pg_catalog.pg_attribute a
			JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org' AND c.relname = 'township' AND a.attname = 'class' AND NOT a.attisdropped`)
	if err != nil {
		return err
	}
	d.Org = set(org)
	privs, err := queryStrings(ctx, c, `SELECT r.rolname || '/' || n.nspname || '/' || p.priv
		FROM pg_catalog.pg_roles r CROSS JOIN pg_catalog.pg_namespace n CROSS JOIN (VALUES ('USAGE'), ('CREATE')) p(priv)
		WHERE r.rolname = ANY($1) AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
		  AND pg_catalog.has_schema_privilege(r.oid, n.oid, p.priv)`, roles)
	if err != nil {
		return err
	}
	d.SchemaPrivileges = set(privs)
	readers, err := queryStrings(ctx, c, `SELECT r.rolname || '/' || c.relname
		FROM pg_catalog.pg_roles r CROSS JOIN pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE r.rolname = ANY($1) AND n.nspname = 'org' AND c.relkind = 'r'
		  AND pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT')`, roles)
	if err != nil {
		return err
	}
	d.OrgReaders = set(readers)
	defaults, err := queryStrings(ctx, c, `SELECT o.rolname || '/' || n.nspname FROM pg_catalog.pg_default_acl d
		JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
		JOIN pg_catalog.pg_roles o ON o.oid = d.defaclrole
		CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a
		WHERE d.defaclobjtype = 'r' AND a.privilege_type = 'SELECT'
		  AND a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)`, r.Supervisor)
	if err != nil {
		return err
	}
	d.SupervisorDefaults = set(defaults)
	if _, ok := cat.Roles[r.Supervisor]; ok {
		schemas := []string{desired.SchemaCounty}
		for _, t := range r.Townships {
			schemas = append(schemas, t.Schema)
			for _, f := range t.Formerly {
				schemas = append(schemas, f.Schema)
			}
		}
		Global.Queries.Add(1)
		rows, err := c.Query(ctx, `SELECT n.nspname::text, c.relname::text, c.relkind::text, pg_catalog.has_table_privilege($1, c.oid, 'SELECT'), c.relrowsecurity
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = ANY($2) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
			  -- Only what the administrator may grant on, as a member of its owner: a
			  -- relation someone else made there is left as it is, not planned forever.
			  AND pg_catalog.pg_has_role(c.relowner, 'USAGE')
			ORDER BY 1, 2`, r.Supervisor, schemas)
		if err != nil {
			return describe(err)
		}
		if d.Relations, err = pgx.CollectRows(rows, pgx.RowToStructByPos[desired.Relation]); err != nil {
			return describe(err)
		}
	}
	if !d.Org["table:township"] || !d.Org["table:branch"] {
		return nil
	}
	// The rows are read as the owner: row-level security hides nothing from it.
	return pgx.BeginFunc(ctx, c.Conn, func(tx pgx.Tx) error {
		if err := sessionStmt(ctx, tx, "SET LOCAL ROLE "+ident(r.Owner), "acting as "+r.Owner); err != nil {
			return err
		}
		Global.Queries.Add(2)
		class := "''"
		if d.Org["column:township:class"] {
			class = "class"
		}
		rows, err := tx.Query(ctx, `SELECT code, name, display_name, role_name::text, `+class+` FROM org.township ORDER BY code`)
		if err != nil {
			return describe(err)
		}
		if d.Townships, err = pgx.CollectRows(rows, pgx.RowToStructByPos[desired.TownshipRow]); err != nil {
			return describe(err)
		}
		rows, err = tx.Query(ctx, `SELECT township_code, name, display_name, kind, coalesce(code, ''), members FROM org.branch ORDER BY 1, 2`)
		if err != nil {
			return describe(err)
		}
		if d.Branches, err = pgx.CollectRows(rows, pgx.RowToStructByPos[desired.BranchRow]); err != nil {
			return describe(err)
		}
		if !d.Org["table:township_history"] {
			return nil
		}
		Global.Queries.Add(1)
		rows, err = tx.Query(ctx, `SELECT former_name, former_code, name, code, kind FROM org.township_history ORDER BY changed_at, 1, 2`)
		if err != nil {
			return describe(err)
		}
		if d.History, err = pgx.CollectRows(rows, pgx.RowToStructByPos[desired.HistoryRow]); err != nil {
			return describe(err)
		}
		return nil
	})
}

// Execute runs a plan's statements in order, each group of the same Tx in one
// transaction on a connection to its database, and stops at the first failure: what
// comes after it (the destructive steps come last) does not run. passwords holds the
// password of every role a statement sets one for; set names the roles whose password
// the server took (their statement's transaction committed), failure or not.
func Execute(ctx context.Context, pool *Pool, region string, statements []desired.Statement, passwords map[string]string) (set []string, err error) {
	for i := 0; i < len(statements); {
		j := i + 1
		if statements[i].Tx != 0 {
			for j < len(statements) && statements[j].Tx == statements[i].Tx && statements[j].Database == statements[i].Database {
				j++
			}
		}
		group := statements[i:j]
		db := group[0].Database
		if db == "" {
			db = MaintenanceDB
		}
		_, err := withConn(ctx, pool, db, func(c *Conn) (struct{}, error) {
			if group[0].Tx == 0 {
				return struct{}{}, run(ctx, c, group[0], passwords)
			}
			return struct{}{}, pgx.BeginFunc(ctx, c.Conn, func(tx pgx.Tx) error {
				for _, st := range group {
					if err := run(ctx, tx, st, passwords); err != nil {
						return err
					}
				}
				return nil
			})
		})
		if err != nil {
			return set, err
		}
		for _, st := range group {
			if st.PasswordOf != "" {
				set = append(set, st.PasswordOf)
			}
		}
		i = j
	}
	return set, nil
}

// run runs one statement, with its password verifier put in.
func run(ctx context.Context, q querier, st desired.Statement, passwords map[string]string) error {
	sql := st.SQL
	if st.PasswordOf != "" {
		password, ok := passwords[st.PasswordOf]
		if !ok {
			return fmt.Errorf("%s: no password at hand", st.What)
		}
		verifier, err := scramVerifier(password)
		if err != nil {
			return err
		}
		sql = strings.Replace(sql, desired.PasswordPlaceholder, quoteLiteral(verifier), 1)
	}
	switch st.Kind {
	case desired.KindSession:
		return sessionStmt(ctx, q, sql, st.What)
	case desired.KindDML:
		return dml(ctx, q, st.What, sql, st.Args...)
	default:
		return ddl(ctx, q, st.What, sql)
	}
}

// EnsureRegion makes the Region's database match r: it reads the catalog, plans and
// runs the plan. A second run with nothing changed runs no DDL at all.
func EnsureRegion(ctx context.Context, pool *Pool, r *desired.RegionDB, passwords map[string]string) (*desired.DatabasePlan, error) {
	cat, err := Snapshot(ctx, pool, r)
	if err != nil {
		return nil, err
	}
	plan := desired.PlanDatabase(r, cat)
	if _, err := Execute(ctx, pool, r.Region, plan.Statements, passwords); err != nil {
		return plan, err
	}
	if plan.Blocked {
		return plan, errors.Join(plan.Conflicts...)
	}
	return plan, nil
}

// SnapshotRetire reads what a deletion of the Region touches: every role marked as
// the Region's, and whether its database is the Region's.
// Only objects marked with this very Region's current marker count: what carries a
// legacy or another Region's marker is never dropped by a deletion.
func SnapshotRetire(ctx context.Context, pool *Pool, region, uid, cluster, database string) (*desired.RetireCatalog, error) {
	return withConn(ctx, pool, MaintenanceDB, func(m *Conn) (*desired.RetireCatalog, error) {
		marker := desired.Marker(region, uid, cluster)
		cat := &desired.RetireCatalog{Roles: map[string]desired.Role{}}
		Global.Queries.Add(1)
		rows, err := m.Query(ctx, `SELECT r.rolname::text, r.rolcanlogin FROM pg_catalog.pg_shdescription d
			JOIN pg_catalog.pg_roles r ON r.oid = d.objoid
			WHERE d.classoid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.description = $1`, marker)
		if err != nil {
			return nil, describe(err)
		}
		for rows.Next() {
			var name string
			var login bool
			if err := rows.Scan(&name, &login); err != nil {
				rows.Close()
				return nil, describe(err)
			}
			cat.Roles[name] = desired.Role{Login: login}
		}
		if err := rows.Err(); err != nil {
			return nil, describe(err)
		}
		// The Region's: marked, or unmarked and owned by a role marked as the Region's
		// (an operator stopped between CREATE DATABASE and its COMMENT).
		if cat.Elsewhere, err = elsewhere(ctx, m, naming.OwnerRole(region), database); err != nil {
			return nil, err
		}
		ours, err := queryBool(ctx, m, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database
			WHERE datname = $1 AND (pg_catalog.shobj_description(oid, 'pg_database') = $2
			  OR (pg_catalog.shobj_description(oid, 'pg_database') IS NULL
			      AND pg_catalog.shobj_description(datdba, 'pg_authid') = $2)))`, database, marker)
		cat.DatabaseOurs = ours
		return cat, err
	})
}

// ServerVersion asks the server which version it runs.
func ServerVersion(ctx context.Context, pool *Pool) (string, error) {
	c, err := pool.Acquire(ctx, MaintenanceDB)
	if err != nil {
		return "", err
	}
	defer c.Release()
	Global.Queries.Add(1)
	var v string
	if err := c.QueryRow(ctx, `SHOW server_version`).Scan(&v); err != nil {
		return "", describe(err)
	}
	return v, nil
}

// withConn runs fn on a connection to db and gives the connection back.
func withConn[T any](ctx context.Context, pool *Pool, db string, fn func(*Conn) (T, error)) (T, error) {
	c, err := pool.Acquire(ctx, db)
	if err != nil {
		var zero T
		return zero, err
	}
	defer c.Release()
	return fn(c)
}

// elsewhere names, by role, the databases other than database where something depends
// on a role whose name begins with prefix: privileges granted to it, objects it owns.
func elsewhere(ctx context.Context, m *Conn, prefix, database string) (map[string][]string, error) {
	Global.Queries.Add(1)
	rows, err := m.Query(ctx, `SELECT DISTINCT r.rolname::text, d.datname::text FROM pg_catalog.pg_shdepend s
		JOIN pg_catalog.pg_roles r ON r.oid = s.refobjid
		JOIN pg_catalog.pg_database d ON d.oid = s.dbid
		WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND s.deptype IN ('a', 'o', 'r')
		  AND pg_catalog.left(r.rolname, $2) = $1 AND d.datname <> $3 ORDER BY 1, 2`, prefix, len(prefix), database)
	if err != nil {
		return nil, describe(err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var role, db string
		if err := rows.Scan(&role, &db); err != nil {
			rows.Close()
			return nil, describe(err)
		}
		out[role] = append(out[role], db)
	}
	return out, describe(rows.Err())
}

// searchPath reads a search_path setting as PostgreSQL keeps it ("t1", org) into its
// schemas.
func searchPath(setting string) []string {
	if setting == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(setting, ",") {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		}
		out = append(out, s)
	}
	return out
}
