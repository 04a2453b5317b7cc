package pgsql

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Schemas of the hub in every Region database.
const (
	SchemaCounty = "county"
	SchemaOrg    = "org"
)

// Deletion policies, as the API spells them.
const (
	PolicyRetain = "Retain"
	PolicyDelete = "Delete"
)

// TownshipDB is one township's part of a Region database.
type TownshipDB struct {
	Name        string // as in the spec
	Schema      string
	Role        string
	Code        string
	DisplayName string
}

// BranchRow is one row of org.branch.
type BranchRow struct {
	TownshipCode string
	Name         string
	DisplayName  string
	Kind         string
	Code         string
	Members      int32
}

// RegionDB is everything a Region asks of its database.
type RegionDB struct {
	Region     string
	Database   string
	Owner      string // NOLOGIN, owns the database and the hub's schemas
	County     string // LOGIN, the hub's modules
	Supervisor string // LOGIN, read-only everywhere
	Townships  []TownshipDB
	Branches   []BranchRow
	// Passwords holds the password of every LOGIN role, as its Secret has it.
	Passwords map[string]string
	// Reset names the roles whose password must be set now even if the role exists:
	// its Secret was new, or a rotation was asked for.
	Reset map[string]bool
	// Policy is Retain or Delete, for townships no longer in the spec.
	Policy string
}

// Marker is the comment that marks a role or database as made for a Region; an object
// without it is never changed or dropped.
func Marker(region string) string { return "managed by region-operator for Region " + region }

// RetainedDB is a township's schema and role kept after it left the spec.
type RetainedDB struct {
	Schema, Role string
}

// Result says what EnsureRegion found and did.
type Result struct {
	// Retained townships, their login disabled.
	Retained []RetainedDB
	// Conflicts are objects that exist and are not the Region's; they were left alone.
	Conflicts []error
	// Provisioned is true once any role of the Region exists on the server.
	Provisioned bool
}

func (r *RegionDB) loginRoles() []string {
	roles := []string{r.County, r.Supervisor}
	for _, t := range r.Townships {
		roles = append(roles, t.Role)
	}
	return roles
}

type roleState struct {
	exists, login bool
	comment       string
}

// EnsureRegion makes the Region's database match r: roles, database, schemas,
// privileges, row-level security and the org tables. It reads the catalog first and runs
// only what is missing, so a second run with nothing changed runs no DDL at all.
func EnsureRegion(ctx context.Context, pool *Pool, r *RegionDB) (*Result, error) {
	res := &Result{}
	// One connection at a time: a reconcile that held one while waiting for another
	// could deadlock with others doing the same on a small pool.
	owned, err := withConn(ctx, pool, MaintenanceDB, func(m *Conn) (map[string]bool, error) {
		super, err := queryBool(ctx, m, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)
		if err != nil {
			return nil, fmt.Errorf("reading the administrator's role: %w", err)
		}
		owned, err := ensureRoles(ctx, m, r, super, res)
		if err != nil || !owned[r.Owner] {
			return owned, err
		}
		return owned, ensureDatabase(ctx, m, r, owned)
	})
	if err != nil {
		return res, err
	}
	if !owned[r.Owner] {
		return res, errors.Join(res.Conflicts...)
	}
	gone, err := withConn(ctx, pool, r.Database, func(c *Conn) ([]string, error) {
		if err := ensureSchemas(ctx, c, r, owned); err != nil {
			return nil, err
		}
		if err := SyncOrg(ctx, c, r); err != nil {
			return nil, err
		}
		return leftSchemas(ctx, c, r)
	})
	if err != nil {
		return res, err
	}
	return res, removeTownships(ctx, pool, r, gone, res)
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

// ensureRoles creates the Region's roles, makes LOGIN roles able to log in and sets the
// passwords asked for. It returns the roles that are the Region's to use.
func ensureRoles(ctx context.Context, m *Conn, r *RegionDB, super bool, res *Result) (map[string]bool, error) {
	all := append([]string{r.Owner}, r.loginRoles()...)
	states, err := readRoles(ctx, m, all)
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	marker := Marker(r.Region)
	err = inTx(ctx, m, func(tx pgx.Tx) error {
		for _, name := range all {
			st := states[name]
			login := name != r.Owner
			if st.exists && st.comment != marker {
				res.Conflicts = append(res.Conflicts, &ConflictError{Kind: "role", Name: name})
				continue
			}
			owned[name] = true
			res.Provisioned = true
			if !st.exists {
				stmt := "CREATE ROLE " + ident(name) + " NOLOGIN"
				if login {
					verifier, err := scramVerifier(r.Passwords[name])
					if err != nil {
						return err
					}
					stmt = "CREATE ROLE " + ident(name) + " LOGIN PASSWORD " + quoteLiteral(verifier)
				}
				if err := ddl(ctx, tx, "creating role "+name, stmt); err != nil {
					return err
				}
				if err := ddl(ctx, tx, "marking role "+name, "COMMENT ON ROLE "+ident(name)+" IS "+quoteLiteral(marker)); err != nil {
					return err
				}
				continue
			}
			if login && !st.login {
				if err := ddl(ctx, tx, "allowing "+name+" to log in", "ALTER ROLE "+ident(name)+" LOGIN"); err != nil {
					return err
				}
			}
			if login && r.Reset[name] {
				verifier, err := scramVerifier(r.Passwords[name])
				if err != nil {
					return err
				}
				if err := ddl(ctx, tx, "setting the password of "+name, "ALTER ROLE "+ident(name)+" PASSWORD "+quoteLiteral(verifier)); err != nil {
					return err
				}
			}
		}
		if super {
			return nil
		}
		// A non-superuser administrator must be a member of the roles it creates
		// objects for (the owner) and sets default privileges for (the LOGIN roles).
		// Only this Region's roles are asked about: the administrator of a province is a
		// member of thousands.
		members, err := queryStrings(ctx, tx, `SELECT r.rolname::text FROM pg_auth_members a
			JOIN pg_roles r ON r.oid = a.roleid
			WHERE a.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND r.rolname = ANY($1)`, all)
		if err != nil {
			return err
		}
		var grant []string
		for _, name := range all {
			if owned[name] && !slices.Contains(members, name) {
				grant = append(grant, name)
			}
		}
		if len(grant) > 0 {
			return ddl(ctx, tx, "granting the Region's roles to the administrator", "GRANT "+identList(grant)+" TO CURRENT_USER")
		}
		return nil
	})
	return owned, err
}

func readRoles(ctx context.Context, q querier, names []string) (map[string]roleState, error) {
	Global.Queries.Add(1)
	rows, err := q.Query(ctx, `SELECT rolname::text, rolcanlogin, coalesce(shobj_description(oid, 'pg_authid'), '')
		FROM pg_roles WHERE rolname = ANY($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("reading roles: %w", describe(err))
	}
	defer rows.Close()
	out := map[string]roleState{}
	for rows.Next() {
		var name, comment string
		var login bool
		if err := rows.Scan(&name, &login, &comment); err != nil {
			return nil, err
		}
		out[name] = roleState{exists: true, login: login, comment: comment}
	}
	return out, rows.Err()
}

// ensureDatabase creates the database (never inside a transaction), takes CONNECT and
// TEMP away from PUBLIC and gives CONNECT to the Region's LOGIN roles.
func ensureDatabase(ctx context.Context, m *Conn, r *RegionDB, owned map[string]bool) error {
	Global.Queries.Add(1)
	var exists, publicAccess bool
	var comment string
	err := m.QueryRow(ctx, `SELECT true, coalesce(shobj_description(oid, 'pg_database'), ''),
			datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0)
		FROM pg_database WHERE datname = $1`, r.Database).Scan(&exists, &comment, &publicAccess)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("reading database %s: %w", r.Database, describe(err))
	}
	marker := Marker(r.Region)
	if exists && comment != marker {
		return &ConflictError{Kind: "database", Name: r.Database}
	}
	if !exists {
		if err := ddl(ctx, m, "creating database "+r.Database, "CREATE DATABASE "+ident(r.Database)+" OWNER "+ident(r.Owner)); err != nil {
			return err
		}
		publicAccess = true
	}
	var missing []string
	for _, role := range r.loginRoles() {
		if !owned[role] {
			continue
		}
		ok, err := queryBool(ctx, m, `SELECT has_database_privilege($1, $2, 'CONNECT')`, role, r.Database)
		if err != nil {
			return err
		}
		if !ok || publicAccess {
			missing = append(missing, role)
		}
	}
	if exists && !publicAccess && len(missing) == 0 {
		return nil
	}
	return inTx(ctx, m, func(tx pgx.Tx) error {
		if !exists {
			if err := ddl(ctx, tx, "marking database "+r.Database, "COMMENT ON DATABASE "+ident(r.Database)+" IS "+quoteLiteral(marker)); err != nil {
				return err
			}
		}
		if publicAccess {
			if err := ddl(ctx, tx, "revoking PUBLIC's access to "+r.Database, "REVOKE ALL ON DATABASE "+ident(r.Database)+" FROM PUBLIC"); err != nil {
				return err
			}
		}
		if len(missing) > 0 {
			return ddl(ctx, tx, "granting CONNECT on "+r.Database, "GRANT CONNECT ON DATABASE "+ident(r.Database)+" TO "+identList(missing))
		}
		return nil
	})
}

// schemaGrant is one privilege a role should hold on a schema.
type schemaGrant struct{ role, schema, privilege string }

// ensureSchemas makes the hub's and the townships' schemas, the org tables and their
// row-level security, and every privilege of the Region's roles, in one transaction.
func ensureSchemas(ctx context.Context, c *Conn, r *RegionDB, owned map[string]bool) error {
	schemas := []string{SchemaCounty, SchemaOrg}
	var grants []schemaGrant
	use := func(role, schema string, privs ...string) {
		if !owned[role] {
			return
		}
		for _, p := range privs {
			grants = append(grants, schemaGrant{role, schema, p})
		}
	}
	use(r.County, SchemaCounty, "USAGE", "CREATE")
	use(r.County, SchemaOrg, "USAGE")
	use(r.Supervisor, SchemaCounty, "USAGE")
	use(r.Supervisor, SchemaOrg, "USAGE")
	readers := []string{r.County, r.Supervisor}
	// Tables whose owners' future tables the supervisor must be able to read.
	defaults := []schemaGrant{{r.County, SchemaCounty, "SELECT"}}
	for _, t := range r.Townships {
		if !owned[t.Role] {
			continue
		}
		schemas = append(schemas, t.Schema)
		use(t.Role, t.Schema, "USAGE", "CREATE")
		use(t.Role, SchemaOrg, "USAGE")
		use(r.Supervisor, t.Schema, "USAGE")
		readers = append(readers, t.Role)
		defaults = append(defaults, schemaGrant{t.Role, t.Schema, "SELECT"})
	}

	return inTx(ctx, c, func(tx pgx.Tx) error {
		if err := sessionStmt(ctx, tx, "SET LOCAL ROLE "+ident(r.Owner), "acting as "+r.Owner); err != nil {
			return err
		}
		open, err := queryBool(ctx, tx, `SELECT has_schema_privilege('public', 'public', 'USAGE') OR has_schema_privilege('public', 'public', 'CREATE')`)
		if err != nil {
			return err
		}
		if open {
			if err := ddl(ctx, tx, "closing schema public", "REVOKE ALL ON SCHEMA public FROM PUBLIC"); err != nil {
				return err
			}
		}
		have, err := queryStrings(ctx, tx, `SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1)`, schemas)
		if err != nil {
			return err
		}
		for _, s := range schemas {
			if !slices.Contains(have, s) {
				if err := ddl(ctx, tx, "creating schema "+s, "CREATE SCHEMA "+ident(s)); err != nil {
					return err
				}
			}
		}
		if err := ensureOrgTables(ctx, tx, r, owned); err != nil {
			return err
		}
		for _, g := range grants {
			ok, err := queryBool(ctx, tx, `SELECT has_schema_privilege($1, $2, $3)`, g.role, g.schema, g.privilege)
			if err != nil {
				return err
			}
			if !ok {
				if err := ddl(ctx, tx, fmt.Sprintf("granting %s on schema %s to %s", g.privilege, g.schema, g.role),
					"GRANT "+g.privilege+" ON SCHEMA "+ident(g.schema)+" TO "+ident(g.role)); err != nil {
					return err
				}
			}
		}
		for _, table := range []string{"township", "branch"} {
			for _, role := range readers {
				if !owned[role] {
					continue
				}
				ok, err := queryBool(ctx, tx, `SELECT has_table_privilege($1, $2, 'SELECT')`, role, qualified(SchemaOrg, table))
				if err != nil {
					return err
				}
				if !ok {
					if err := ddl(ctx, tx, "granting SELECT on org."+table+" to "+role,
						"GRANT SELECT ON "+qualified(SchemaOrg, table)+" TO "+ident(role)); err != nil {
						return err
					}
				}
			}
		}
		// Default privileges and grants on tables the LOGIN roles own need the
		// administrator itself, a member of those roles.
		if err := sessionStmt(ctx, tx, "RESET ROLE", "acting as the administrator"); err != nil {
			return err
		}
		if !owned[r.Supervisor] {
			return nil
		}
		for _, d := range defaults {
			if !owned[d.role] {
				continue
			}
			ok, err := queryBool(ctx, tx, `SELECT EXISTS (SELECT 1 FROM pg_default_acl d
				JOIN pg_namespace n ON n.oid = d.defaclnamespace
				CROSS JOIN LATERAL aclexplode(d.defaclacl) a
				WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND n.nspname = $2 AND d.defaclobjtype = 'r'
				  AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3) AND a.privilege_type = 'SELECT')`, d.role, d.schema, r.Supervisor)
			if err != nil {
				return err
			}
			if !ok {
				if err := ddl(ctx, tx, "letting the supervisor read "+d.schema+"'s future tables",
					"ALTER DEFAULT PRIVILEGES FOR ROLE "+ident(d.role)+" IN SCHEMA "+ident(d.schema)+" GRANT SELECT ON TABLES TO "+ident(r.Supervisor)); err != nil {
					return err
				}
			}
			unread, err := queryBool(ctx, tx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT has_table_privilege($2, c.oid, 'SELECT'))`, d.schema, r.Supervisor)
			if err != nil {
				return err
			}
			if unread {
				if err := ddl(ctx, tx, "letting the supervisor read "+d.schema+"'s tables",
					"GRANT SELECT ON ALL TABLES IN SCHEMA "+ident(d.schema)+" TO "+ident(r.Supervisor)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// sessionStmt runs a session statement that changes no catalog (SET ROLE and the like).
func sessionStmt(ctx context.Context, q querier, sql, what string) error {
	if _, err := q.Exec(ctx, sql); err != nil {
		Global.Failures.Add(1)
		return fmt.Errorf("%s: %w", what, describe(err))
	}
	return nil
}

// orgStatements make the org tables and their row-level security: a township's role
// sees its own rows, the hub's and the supervisor's roles see all.
func orgStatements(r *RegionDB) []struct{ check, what, sql string } {
	township, branch := qualified(SchemaOrg, "township"), qualified(SchemaOrg, "branch")
	everyone := ident(r.County) + ", " + ident(r.Supervisor)
	return []struct{ check, what, sql string }{
		{"table:township", "creating org.township", "CREATE TABLE " + township + ` (
			code text PRIMARY KEY,
			name text NOT NULL,
			display_name text NOT NULL,
			role_name name NOT NULL)`},
		{"table:branch", "creating org.branch", "CREATE TABLE " + branch + ` (
			township_code text NOT NULL REFERENCES ` + township + ` (code) ON DELETE CASCADE,
			name text NOT NULL,
			display_name text NOT NULL,
			kind text NOT NULL,
			code text,
			members integer NOT NULL,
			PRIMARY KEY (township_code, name))`},
		{"rls:township", "enabling row-level security on org.township", "ALTER TABLE " + township + " ENABLE ROW LEVEL SECURITY"},
		{"rls:branch", "enabling row-level security on org.branch", "ALTER TABLE " + branch + " ENABLE ROW LEVEL SECURITY"},
		{"policy:township:own_township", "creating policy own_township", "CREATE POLICY own_township ON " + township + " FOR SELECT USING (role_name = current_user)"},
		{"policy:branch:own_branches", "creating policy own_branches", "CREATE POLICY own_branches ON " + branch +
			" FOR SELECT USING (EXISTS (SELECT 1 FROM " + township + " t WHERE t.code = township_code AND t.role_name = current_user))"},
		{"policy:township:all_townships", "creating policy all_townships", "CREATE POLICY all_townships ON " + township + " FOR SELECT TO " + everyone + " USING (true)"},
		{"policy:branch:all_branches", "creating policy all_branches", "CREATE POLICY all_branches ON " + branch + " FOR SELECT TO " + everyone + " USING (true)"},
	}
}

func ensureOrgTables(ctx context.Context, tx pgx.Tx, r *RegionDB, owned map[string]bool) error {
	if !owned[r.County] || !owned[r.Supervisor] {
		return fmt.Errorf("the hub's roles %s and %s are not the Region's; the org tables wait for them", r.County, r.Supervisor)
	}
	have, err := queryStrings(ctx, tx, `
		SELECT 'table:' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org' AND c.relkind = 'r'
		UNION ALL SELECT 'rls:' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'org' AND c.relrowsecurity
		UNION ALL SELECT 'policy:' || tablename || ':' || policyname FROM pg_policies WHERE schemaname = 'org'`)
	if err != nil {
		return err
	}
	for _, st := range orgStatements(r) {
		if !slices.Contains(have, st.check) {
			if err := ddl(ctx, tx, st.what, st.sql); err != nil {
				return err
			}
		}
	}
	return nil
}

// leftSchemas lists the schemas in the database that no township of the spec has.
func leftSchemas(ctx context.Context, c *Conn, r *RegionDB) ([]string, error) {
	keep := []string{SchemaCounty, SchemaOrg, "public", "information_schema"}
	for _, t := range r.Townships {
		keep = append(keep, t.Schema)
	}
	return queryStrings(ctx, c, `SELECT nspname::text FROM pg_namespace
		WHERE NOT (nspname = ANY($1)) AND nspname NOT LIKE 'pg\_%'`, keep)
}

// removeTownships applies the deletion policy to townships whose schema is in the
// database and no longer in the spec: Retain disables their login and keeps everything,
// Delete drops schema and role. Schemas without a role of this Region are not its own
// and are left alone.
func removeTownships(ctx context.Context, pool *Pool, r *RegionDB, gone []string, res *Result) error {
	if len(gone) == 0 {
		return nil
	}
	roles := map[string]string{}
	var names []string
	for _, schema := range gone {
		role := r.Database + "_" + schema
		roles[schema] = role
		names = append(names, role)
	}
	marker := Marker(r.Region)
	var drop []string
	_, err := withConn(ctx, pool, MaintenanceDB, func(m *Conn) (struct{}, error) {
		states, err := readRoles(ctx, m, names)
		if err != nil {
			return struct{}{}, err
		}
		for _, schema := range gone {
			role := roles[schema]
			st := states[role]
			if !st.exists || st.comment != marker {
				continue
			}
			if r.Policy == PolicyDelete {
				drop = append(drop, schema)
				continue
			}
			if st.login {
				if err := ddl(ctx, m, "disabling login of "+role, "ALTER ROLE "+ident(role)+" NOLOGIN"); err != nil {
					return struct{}{}, err
				}
			}
			res.Retained = append(res.Retained, RetainedDB{Schema: schema, Role: role})
		}
		return struct{}{}, nil
	})
	if err != nil {
		return err
	}
	for _, schema := range drop {
		role := roles[schema]
		_, err := withConn(ctx, pool, r.Database, func(c *Conn) (struct{}, error) {
			return struct{}{}, inTx(ctx, c, func(tx pgx.Tx) error {
				if err := ddl(ctx, tx, "dropping schema "+schema, "DROP SCHEMA IF EXISTS "+ident(schema)+" CASCADE"); err != nil {
					return err
				}
				return ddl(ctx, tx, "dropping what "+role+" owns", "DROP OWNED BY "+ident(role))
			})
		})
		if err != nil {
			return err
		}
		_, err = withConn(ctx, pool, MaintenanceDB, func(m *Conn) (struct{}, error) {
			return struct{}{}, inTx(ctx, m, func(tx pgx.Tx) error {
				if err := ddl(ctx, tx, "revoking CONNECT from "+role, "REVOKE ALL ON DATABASE "+ident(r.Database)+" FROM "+ident(role)); err != nil {
					return err
				}
				return ddl(ctx, tx, "dropping role "+role, "DROP ROLE IF EXISTS "+ident(role))
			})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RetireRegion carries out a Region's deletion. Retain disables every LOGIN role of the
// Region and keeps the database; Delete drops the database, forcing its connections off,
// and then the roles. Only objects marked as the Region's are touched.
func RetireRegion(ctx context.Context, pool *Pool, region, database, policy string) ([]string, error) {
	m, err := pool.Acquire(ctx, MaintenanceDB)
	if err != nil {
		return nil, err
	}
	defer m.Release()
	marker := Marker(region)
	roles, err := queryStrings(ctx, m, `SELECT rolname::text FROM pg_roles
		WHERE shobj_description(oid, 'pg_authid') = $1 ORDER BY rolcanlogin DESC, rolname`, marker)
	if err != nil {
		return nil, err
	}
	if policy != PolicyDelete {
		login, err := queryStrings(ctx, m, `SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1) AND rolcanlogin`, roles)
		if err != nil {
			return nil, err
		}
		for _, role := range login {
			if err := ddl(ctx, m, "disabling login of "+role, "ALTER ROLE "+ident(role)+" NOLOGIN"); err != nil {
				return nil, err
			}
		}
		return roles, nil
	}
	ours, err := queryBool(ctx, m, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') = $2)`, database, marker)
	if err != nil {
		return nil, err
	}
	if ours {
		if err := ddl(ctx, m, "dropping database "+database, "DROP DATABASE IF EXISTS "+ident(database)+" WITH (FORCE)"); err != nil {
			return nil, err
		}
	}
	for _, role := range roles {
		if err := ddl(ctx, m, "dropping role "+role, "DROP ROLE IF EXISTS "+ident(role)); err != nil {
			return nil, err
		}
	}
	return roles, nil
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
