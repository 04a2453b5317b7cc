package desired

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiceng-io/region-operator/internal/naming"
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

// StatementKind says what a statement does to the server, so a plan can be read (and
// guarded) by kind.
type StatementKind string

const (
	KindCreate  StatementKind = "create"
	KindAlter   StatementKind = "alter"
	KindGrant   StatementKind = "grant"
	KindRevoke  StatementKind = "revoke"
	KindDisable StatementKind = "disable"
	KindDrop    StatementKind = "drop"
	KindDML     StatementKind = "dml"
	// KindSession changes the session only (SET LOCAL ROLE and the like).
	KindSession StatementKind = "session"
)

// Destructive says whether a statement of this kind destroys data or takes a login away.
func (k StatementKind) Destructive() bool { return k == KindDrop || k == KindDisable }

// PasswordPlaceholder stands in a statement's text for the SCRAM verifier of the role
// named by the statement's PasswordOf. The executor puts the verifier in; the text a
// plan shows never holds it.
const PasswordPlaceholder = "'<password>'"

// Statement is one SQL statement of a plan, exactly as it runs but for the password.
type Statement struct {
	Kind StatementKind `json:"kind"`
	// Object is what the statement touches, in words: "role region_anxi_county".
	Object string `json:"object"`
	// Township is the township the statement concerns, when it concerns one.
	Township string `json:"township,omitempty"`
	// Database is where the statement runs: the Region's database, or "" for the
	// server's maintenance database.
	Database string `json:"database,omitempty"`
	// Tx groups statements that run in one transaction: consecutive statements with the
	// same non-zero Tx. A statement with Tx 0 runs on its own, outside any transaction
	// (CREATE DATABASE cannot run in one).
	Tx int `json:"tx"`
	// SQL is the statement's text; values of DML statements go as Args.
	SQL  string `json:"sql"`
	Args []any  `json:"args,omitempty"`
	// PasswordOf names the role whose password verifier replaces PasswordPlaceholder.
	PasswordOf string `json:"passwordOf,omitempty"`
	// What says what the statement does, for errors.
	What string `json:"-"`
}

// TownshipDB is one township's part of a Region database.
type TownshipDB struct {
	Name        string // as in the spec
	Schema      string
	Role        string
	Code        string
	DisplayName string
	// ConnectionLimit is the most connections its login may hold at once.
	ConnectionLimit int
	// Placed says whether the township's credential Secret is in place: a role is
	// created or given a password only once a Secret holds that password. A township
	// not placed is still the spec's: nothing of it is removed.
	Placed bool
	// Class is the class its code says (TownshipClass).
	Class string
	// Formerly are the townships it was before an adjustment (spec.townships[].formerly).
	Formerly []Former
}

// Former is a township that a township of the spec was before an adjustment, with
// the schema and role it had.
type Former struct {
	Name, Code, Schema, Role string
}

// renamedFrom is the one former township whose schema and role a township takes
// over by renaming them: the only one of another name. With several of another name
// it is a merge, and each keeps its schema.
func (t *TownshipDB) renamedFrom() (Former, bool) {
	var out []Former
	for _, f := range t.Formerly {
		if f.Name != t.Name {
			out = append(out, f)
		}
	}
	if len(out) != 1 {
		return Former{}, false
	}
	return out[0], true
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

// TownshipRow is one row of org.township.
type TownshipRow struct {
	Code, Name, DisplayName, Role, Class string
}

// HistoryRow is one row of org.township_history: a township that became another, by
// a recode, a rename or a merge.
type HistoryRow struct {
	FormerName, FormerCode, Name, Code, Kind string
}

// RegionDB is everything a Region asks of its database.
type RegionDB struct {
	Region string
	// UID is the Region's UID; Adopt the UID of an earlier Region of the same name
	// whose database objects this one takes over.
	UID, Adopt string
	// Cluster is the identity of the cluster the Region lives in.
	Cluster    string
	Database   string
	Owner      string // NOLOGIN, owns the database and the hub's schemas
	County     string // LOGIN, the hub's modules
	Supervisor string // LOGIN, read-only everywhere
	// TownshipRolePrefix begins the name of every township role of the Region.
	TownshipRolePrefix string
	// ConnectionLimit is the most connections each of the hub's logins may hold.
	ConnectionLimit int
	Townships       []TownshipDB
	Branches        []BranchRow
	// Reset names the roles whose password must be set now even if the role exists:
	// its Secret was new, or a rotation was asked for.
	Reset map[string]bool
	// Policy is Retain or Delete, for townships no longer in the spec.
	Policy string
	// HubPlaced says whether the hub's credential Secrets are in place.
	HubPlaced bool
	// Clean says whether the rest of the reconcile observed and applied everything of
	// the database layer it had to; only then may a plan destroy or disable anything.
	Clean bool
	// Confirmed is the value of the Region's confirm-destruction annotation.
	Confirmed string

	// Set while a plan is made: merged are, by township, the schemas of the former
	// townships merged into it or being merged (its search_path); mergedDone the
	// former townships merged already; blocked the townships an adjustment's
	// conflict keeps from being made or enabled.
	merged        map[string][]string
	mergedDone    map[string][]Former
	mergedPending map[string][]Former
	blocked       map[string]error
}

// Marker is the comment that marks a role or database as made for one Region (by its
// UID) of one cluster; an object without it is never changed or dropped. Several
// clusters may provision on one server: the cluster's identity keeps a Region of the
// same name in another cluster from taking this one's database as its own, and the
// Region's UID keeps a Region re-created under a deleted one's name from taking the
// data the deleted one retained.
func Marker(region, uid, cluster string) string {
	return LegacyMarker(region) + " (uid " + uid + ") in cluster " + cluster
}

// LegacyMarker is the marker written before markers named the cluster. The first
// cluster that finds it takes the object over and marks it as its own.
func LegacyMarker(region string) string { return "managed by region-operator for Region " + region }

// Owns says whether a comment marks an object as this Region's, and whether the mark
// is one to be rewritten: the legacy marker, or that of the earlier Region the
// Region adopts (platform.jiceng.io/adopt).
func (r *RegionDB) Owns(comment string) (ours, rewrite bool) {
	switch {
	case comment == r.marker():
		return true, false
	case comment == LegacyMarker(r.Region):
		return true, true
	case r.Adopt != "" && comment == Marker(r.Region, r.Adopt, r.Cluster):
		return true, true
	}
	return false, false
}

func (r *RegionDB) marker() string { return Marker(r.Region, r.UID, r.Cluster) }

// Role is a role as the catalog has it.
type Role struct {
	Login   bool
	Comment string
	// SearchPath is the role's own search_path setting, schema by schema.
	SearchPath []string
	// ConnectionLimit is the role's CONNECTION LIMIT (-1 for none).
	ConnectionLimit int
}

// Catalog is what the server holds of a Region, read before a plan is made.
type Catalog struct {
	// Superuser says whether the administrator is a superuser.
	Superuser bool
	// Roles are the Region's roles that exist, by name: those the spec names and every
	// role whose name begins with the Region's township role prefix.
	Roles map[string]Role
	// Member names the Region's roles the administrator is a member of.
	Member map[string]bool
	// Elsewhere names, by role, the other databases where something depends on the
	// role: privileges another county granted it, or objects it owns there. They are
	// let go there before the role is dropped.
	Elsewhere map[string][]string
	// Database is the Region's database; the fields after Exists are read only when it
	// exists and is the Region's.
	Database DatabaseCatalog
}

// DatabaseCatalog is what the Region's database holds.
type DatabaseCatalog struct {
	Exists  bool
	Comment string
	// Owner is the role that owns the database.
	Owner        string
	PublicAccess bool
	// Connect names the roles with CONNECT on the database.
	Connect map[string]bool
	// PublicSchemaOpen says whether PUBLIC may use or create in schema public.
	PublicSchemaOpen bool
	// Schemas are the schemas in the database, but PostgreSQL's own.
	Schemas []string
	// Org holds "table:<t>", "rls:<t>" and "policy:<t>:<p>" for what exists in org.
	Org map[string]bool
	// SchemaPrivileges holds "role/schema/PRIVILEGE" for every privilege held.
	SchemaPrivileges map[string]bool
	// OrgReaders holds "role/table" for every org table a role may read.
	OrgReaders map[string]bool
	// SupervisorDefaults holds "owner/schema" where default privileges let the
	// supervisor read the owner's future relations (views too: they are taken away).
	SupervisorDefaults map[string]bool
	// Relations are the relations of the hub's and the townships' schemas, with whether
	// the supervisor may read each.
	Relations []Relation
	Townships []TownshipRow
	Branches  []BranchRow
	// History are the rows of org.township_history.
	History []HistoryRow
}

// Relation is a table, view or the like in a schema of the Region's database.
type Relation struct {
	Schema, Name string
	// Kind is pg_class.relkind: r table, p partitioned table, v view, m materialised
	// view, f foreign table.
	Kind string
	// SupervisorReads says whether the supervisor may SELECT from it.
	SupervisorReads bool
	// RowSecurity says whether row-level security is on: its policies, written by the
	// schema's township, would run as whoever reads.
	RowSecurity bool
}

// EmptyDatabase is the catalog of a database about to be created: PostgreSQL gives a
// new database a schema public that PUBLIC may use.
func EmptyDatabase() DatabaseCatalog {
	return DatabaseCatalog{PublicAccess: true, PublicSchemaOpen: true, Schemas: []string{"public"}}
}

// RetainedDB is a township's schema and role kept after it left the spec.
type RetainedDB struct {
	Schema, Role string
}

// Conflict is a database object the Region would make that exists and is not the
// Region's: it is left alone.
type Conflict struct {
	Kind, Name string
}

func (e *Conflict) Error() string {
	return fmt.Sprintf("database %s %s already exists and is not managed by this Region; left alone", e.Kind, e.Name)
}

// Conflict marks the error as a conflict for the status functions.
func (e *Conflict) Conflict() bool { return true }

// DatabasePlan is what a Region's database needs, in order.
type DatabasePlan struct {
	Statements []Statement
	// Conflicts are objects in the way; what depends on them is left out.
	Conflicts []error
	// Retained are townships no longer in the spec kept with their login disabled.
	Retained []RetainedDB
	// Dropped are the schemas (townships) whose data the plan destroys.
	Dropped []string
	// Carried are the adjustments the plan carries out (spec.townships[].formerly),
	// in words: "fengcheng renamed to fengcheng-zhen".
	Carried []string
	// Merged are the former townships merged into a township of the spec: their
	// schemas are the successor's, their logins disabled.
	Merged []RetainedDB
	// Held are the schemas whose destruction waits for confirmation.
	Held []string
	// Withheld says why destruction was left out of the plan, when it was.
	Withheld string
	// Provisioned is true once any role of the Region exists or is created.
	Provisioned bool
	// Blocked says the plan stops early: the owner role or the database is not the
	// Region's, so nothing inside the database can be planned.
	Blocked bool
}

// MaxUnconfirmedDestruction is how many townships' data a change may destroy at once
// without the confirmation annotation.
const MaxUnconfirmedDestruction = 3

// listed reads the confirm-destruction annotation's entries.
func listed(annotation string) map[string]bool {
	out := map[string]bool{}
	for _, e := range strings.Split(annotation, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out[e] = true
		}
	}
	return out
}

// Confirmation says whether the confirm-destruction annotation's value lists every
// township to be destroyed. Entries that name nothing to destroy are ignored; the
// Region's own name confirms the Region's deletion only (ConfirmsRegion), so an
// annotation left from that never waves township removals through.
//
// A township is named in the annotation as in the spec; the database layer knows it
// by its schema (hyphens as underscores): both are compared as schema names.
func Confirmation(annotation string, townships []string) bool {
	l := map[string]bool{}
	for e := range listed(annotation) {
		l[naming.TownshipSchema(e)] = true
	}
	for _, t := range townships {
		if !l[naming.TownshipSchema(t)] {
			return false
		}
	}
	return true
}

// ConfirmsRegion says whether the annotation confirms the deletion of the Region.
func ConfirmsRegion(annotation, region string) bool { return listed(annotation)[region] }

// NeedsConfirmation says whether destroying these townships' data at once waits for
// the confirmation annotation.
func NeedsConfirmation(annotation string, townships []string) bool {
	return len(townships) > MaxUnconfirmedDestruction && !Confirmation(annotation, townships)
}

// planner accumulates the statements of a plan.
type planner struct {
	p  *DatabasePlan
	tx int
}

func (pl *planner) begin() { pl.tx++ }

func (pl *planner) add(st Statement) {
	if st.Tx == 0 {
		st.Tx = pl.tx
	}
	pl.p.Statements = append(pl.p.Statements, st)
}

func ident(name string) string             { return pgx.Identifier{name}.Sanitize() }
func qualified(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}

// quoteLiteral quotes a string as an SQL literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (r *RegionDB) loginRoles() []string {
	roles := []string{r.County, r.Supervisor}
	for _, t := range r.Townships {
		roles = append(roles, t.Role)
	}
	return roles
}

// placed says whether a LOGIN role's password is at hand in its Secret.
func (r *RegionDB) placed(role string) bool {
	if role == r.County || role == r.Supervisor {
		return r.HubPlaced
	}
	for _, t := range r.Townships {
		if t.Role == role {
			return t.Placed
		}
	}
	return false
}

// PlanDatabase is the plan that makes the Region's database match r, from what the
// catalog holds: roles, database, schemas, privileges, row-level security, the org
// tables' rows, and what the deletion policy does with townships the spec no longer
// names. Only what is missing or different is planned, so a second plan after a clean
// run is empty.
func PlanDatabase(r *RegionDB, cat *Catalog) *DatabasePlan {
	p := &DatabasePlan{}
	pl := &planner{p: p}
	r.blocked = nil
	if carryable(r, cat) {
		r.blocked = blockAdjustments(r, cat)
	}
	for _, t := range r.Townships {
		if err := r.blocked[t.Name]; err != nil {
			p.Conflicts = append(p.Conflicts, err)
		}
	}
	planRenames(pl, r, cat)
	done, pending := merges(r, cat)
	r.mergedDone, r.mergedPending, r.merged = done, pending, map[string][]string{}
	for _, t := range r.Townships {
		r.merged[t.Name] = schemasOf(done[t.Name])
		if r.Clean && t.Placed {
			r.merged[t.Name] = append(r.merged[t.Name], schemasOf(pending[t.Name])...)
		}
	}
	owned := planRoles(pl, r, cat)
	if !owned[r.Owner] {
		p.Blocked = true
		if cat.Database.Exists && !OwnsDatabase(r, cat) {
			p.Conflicts = append(p.Conflicts, &Conflict{Kind: "database", Name: r.Database})
		}
		return p
	}
	if !planDatabase(pl, r, cat, owned) {
		p.Blocked = true
		return p
	}
	planSchemas(pl, r, cat, owned)
	planMerges(pl, r, cat, owned)
	planOrgRows(pl, r, cat)
	planRemovals(pl, r, cat)
	return p
}

// planRoles creates the Region's roles, makes LOGIN roles able to log in and sets the
// passwords asked for. It returns the roles that are the Region's to use.
func planRoles(pl *planner, r *RegionDB, cat *Catalog) map[string]bool {
	all := append([]string{r.Owner}, r.loginRoles()...)
	owned := map[string]bool{}
	marker := r.marker()
	pl.begin()
	for _, name := range all {
		st, exists := cat.Roles[name]
		login := name != r.Owner
		township := r.townshipOf(name)
		if township != "" && r.blocked[township] != nil {
			continue // an adjustment's conflict: nothing of it changes
		}
		ours, legacy := r.Owns(st.Comment)
		if exists && !ours {
			pl.p.Conflicts = append(pl.p.Conflicts, &Conflict{Kind: "role", Name: name})
			continue
		}
		if exists && legacy {
			pl.add(Statement{Kind: KindAlter, Object: "role " + name, Township: township, What: "marking role " + name + " as this cluster's",
				SQL: "COMMENT ON ROLE " + ident(name) + " IS " + quoteLiteral(marker)})
		}
		if login && !exists && !r.placed(name) {
			// No Secret holds a password for it yet: the role waits for one.
			continue
		}
		owned[name] = true
		pl.p.Provisioned = true
		obj := "role " + name
		if !exists {
			if login {
				pl.add(Statement{Kind: KindCreate, Object: obj, Township: township, What: "creating role " + name,
					SQL: "CREATE ROLE " + ident(name) + " LOGIN PASSWORD " + PasswordPlaceholder, PasswordOf: name})
			} else {
				pl.add(Statement{Kind: KindCreate, Object: obj, What: "creating role " + name, SQL: "CREATE ROLE " + ident(name) + " NOLOGIN"})
			}
			pl.add(Statement{Kind: KindAlter, Object: obj, Township: township, What: "marking role " + name,
				SQL: "COMMENT ON ROLE " + ident(name) + " IS " + quoteLiteral(marker)})
			continue
		}
		if login && !st.Login {
			pl.add(Statement{Kind: KindAlter, Object: obj, Township: township, What: "allowing " + name + " to log in",
				SQL: "ALTER ROLE " + ident(name) + " LOGIN"})
		}
		if login && r.Reset[name] && r.placed(name) {
			pl.add(Statement{Kind: KindAlter, Object: obj, Township: township, What: "setting the password of " + name,
				SQL: "ALTER ROLE " + ident(name) + " PASSWORD " + PasswordPlaceholder, PasswordOf: name})
		}
	}
	for _, name := range r.loginRoles() {
		if want := r.SearchPath(name); owned[name] && !slices.Equal(cat.Roles[name].SearchPath, want) {
			pl.add(Statement{Kind: KindAlter, Object: "role " + name, Township: r.townshipOf(name), What: "setting the search_path of " + name,
				SQL: "ALTER ROLE " + ident(name) + " SET search_path = " + identList(want)})
		}
		if limit := r.LoginLimit(name); owned[name] && limit > 0 && cat.Roles[name].ConnectionLimit != limit {
			pl.add(Statement{Kind: KindAlter, Object: "role " + name, Township: r.townshipOf(name), What: "limiting the connections of " + name,
				SQL: fmt.Sprintf("ALTER ROLE %s CONNECTION LIMIT %d", ident(name), limit)})
		}
	}
	if cat.Superuser {
		return owned
	}
	// A non-superuser administrator must be a member of the roles it creates objects for
	// (the owner) and sets default privileges for (the LOGIN roles).
	var grant []string
	for _, name := range all {
		if owned[name] && !cat.Member[name] {
			grant = append(grant, name)
		}
	}
	if len(grant) > 0 {
		pl.add(Statement{Kind: KindGrant, Object: "membership of the administrator", What: "granting the Region's roles to the administrator",
			SQL: "GRANT " + identList(grant) + " TO CURRENT_USER"})
	}
	return owned
}

// SearchPath is the search_path a LOGIN role of the Region logs in with: its own schema
// first, so that services name their tables unqualified, then org for the directory,
// then the schemas of the townships merged into it. The supervisor's reaches the
// directory, the hub and every township.
func (r *RegionDB) SearchPath(role string) []string {
	switch role {
	case r.County:
		return []string{SchemaCounty, SchemaOrg}
	case r.Supervisor:
		out := []string{SchemaOrg, SchemaCounty}
		for _, t := range r.Townships {
			out = append(out, t.Schema)
		}
		for _, t := range r.Townships {
			out = append(out, r.merged[t.Name]...)
		}
		return out
	}
	for _, t := range r.Townships {
		if t.Role == role {
			// The merged schemas come after org: nothing made in them while they were
			// another township's can stand in for the directory.
			return append([]string{t.Schema, SchemaOrg}, r.merged[t.Name]...)
		}
	}
	return nil
}

// LoginLimit is the connection limit of a LOGIN role of the Region.
func (r *RegionDB) LoginLimit(role string) int {
	for _, t := range r.Townships {
		if t.Role == role {
			return t.ConnectionLimit
		}
	}
	return r.ConnectionLimit
}

func (r *RegionDB) townshipOf(role string) string {
	for _, t := range r.Townships {
		if t.Role == role {
			return t.Name
		}
	}
	return ""
}

// OwnsDatabase says whether the database in the catalog is the Region's: it carries the
// Region's marker, or, having no comment at all, is owned by the Region's owner role
// (itself marked): CREATE DATABASE cannot share a transaction with its COMMENT, and an
// operator stopped between the two left exactly that.
func OwnsDatabase(r *RegionDB, cat *Catalog) bool {
	d := &cat.Database
	if ours, _ := r.Owns(d.Comment); ours {
		return true
	}
	owner, ok := cat.Roles[r.Owner]
	ownerOurs, _ := r.Owns(owner.Comment)
	return d.Comment == "" && d.Owner == r.Owner && ok && ownerOurs
}

// planDatabase creates the database (never inside a transaction), takes CONNECT and
// TEMP away from PUBLIC and gives CONNECT to the Region's LOGIN roles. It says whether
// the database is the Region's.
func planDatabase(pl *planner, r *RegionDB, cat *Catalog, owned map[string]bool) bool {
	d := &cat.Database
	marker := r.marker()
	if d.Exists && !OwnsDatabase(r, cat) {
		pl.p.Conflicts = append(pl.p.Conflicts, &Conflict{Kind: "database", Name: r.Database})
		return false
	}
	obj := "database " + r.Database
	if d.Exists && d.Comment != marker {
		pl.begin()
		pl.add(Statement{Kind: KindAlter, Object: obj, What: "marking database " + r.Database,
			SQL: "COMMENT ON DATABASE " + ident(r.Database) + " IS " + quoteLiteral(marker)})
	} else if !d.Exists {
		pl.p.Statements = append(pl.p.Statements, Statement{Kind: KindCreate, Object: obj, What: "creating database " + r.Database,
			SQL: "CREATE DATABASE " + ident(r.Database) + " OWNER " + ident(r.Owner)})
		*d = EmptyDatabase()
		d.Exists = true
		d.Comment = marker
		pl.begin()
		pl.add(Statement{Kind: KindAlter, Object: obj, What: "marking database " + r.Database,
			SQL: "COMMENT ON DATABASE " + ident(r.Database) + " IS " + quoteLiteral(marker)})
	} else {
		pl.begin()
	}
	if d.PublicAccess {
		pl.add(Statement{Kind: KindRevoke, Object: obj, What: "revoking PUBLIC's access to " + r.Database,
			SQL: "REVOKE ALL ON DATABASE " + ident(r.Database) + " FROM PUBLIC"})
	}
	var missing []string
	for _, role := range r.loginRoles() {
		if owned[role] && (!d.Connect[role] || d.PublicAccess) {
			missing = append(missing, role)
		}
	}
	if len(missing) > 0 {
		pl.add(Statement{Kind: KindGrant, Object: obj, What: "granting CONNECT on " + r.Database,
			SQL: "GRANT CONNECT ON DATABASE " + ident(r.Database) + " TO " + identList(missing)})
	}
	return true
}

// SchemaPrivilegeKey is the key of Catalog.SchemaPrivileges.
func SchemaPrivilegeKey(role, schema, privilege string) string {
	return role + "/" + schema + "/" + privilege
}

// orgStatement is one statement that makes the org tables or their row-level security,
// with the catalog key that says it is done.
type orgStatement struct{ check, object, what, sql string }

// historyTable makes org.township_history: which township became which, and when.
// The hub's services and the supervisor read it.
func historyTable() orgStatement {
	return orgStatement{"table:township_history", "table org.township_history", "creating org.township_history", "CREATE TABLE " + qualified(SchemaOrg, "township_history") + ` (
			former_name text NOT NULL,
			former_code text NOT NULL,
			name text NOT NULL,
			code text NOT NULL,
			kind text NOT NULL,
			changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
			PRIMARY KEY (former_name, former_code, name, code))`}
}

// orgStatements make the org tables and their row-level security: a township's role
// sees its own rows, the hub's and the supervisor's roles see all. org.township made
// before it had a class column gets one.
func orgStatements(r *RegionDB, org map[string]bool) []orgStatement {
	township, branch := qualified(SchemaOrg, "township"), qualified(SchemaOrg, "branch")
	everyone := ident(r.County) + ", " + ident(r.Supervisor)
	class := orgStatement{"column:township:class", "table org.township", "adding the class column to org.township",
		"ALTER TABLE " + township + " ADD COLUMN class text NOT NULL DEFAULT ''"}
	if !org["table:township"] {
		// Made with the column.
		org[class.check] = true
	}
	return []orgStatement{
		{"table:township", "table org.township", "creating org.township", "CREATE TABLE " + township + ` (
			code text PRIMARY KEY,
			name text NOT NULL,
			display_name text NOT NULL,
			role_name name NOT NULL,
			class text NOT NULL DEFAULT '')`},
		class,
		historyTable(),
		{"table:branch", "table org.branch", "creating org.branch", "CREATE TABLE " + branch + ` (
			township_code text NOT NULL REFERENCES ` + township + ` (code) ON DELETE CASCADE,
			name text NOT NULL,
			display_name text NOT NULL,
			kind text NOT NULL,
			code text,
			members integer NOT NULL,
			PRIMARY KEY (township_code, name))`},
		{"rls:township", "table org.township", "enabling row-level security on org.township", "ALTER TABLE " + township + " ENABLE ROW LEVEL SECURITY"},
		{"rls:branch", "table org.branch", "enabling row-level security on org.branch", "ALTER TABLE " + branch + " ENABLE ROW LEVEL SECURITY"},
		{"policy:township:own_township", "policy own_township", "creating policy own_township", "CREATE POLICY own_township ON " + township + " FOR SELECT USING (role_name = current_user)"},
		{"policy:branch:own_branches", "policy own_branches", "creating policy own_branches", "CREATE POLICY own_branches ON " + branch +
			" FOR SELECT USING (EXISTS (SELECT 1 FROM " + township + " t WHERE t.code = township_code AND t.role_name = current_user))"},
		{"policy:township:all_townships", "policy all_townships", "creating policy all_townships", "CREATE POLICY all_townships ON " + township + " FOR SELECT TO " + everyone + " USING (true)"},
		{"policy:branch:all_branches", "policy all_branches", "creating policy all_branches", "CREATE POLICY all_branches ON " + branch + " FOR SELECT TO " + everyone + " USING (true)"},
	}
}

// planSchemas makes the hub's and the townships' schemas, the org tables and their
// row-level security, and every privilege of the Region's roles, in one transaction.
func planSchemas(pl *planner, r *RegionDB, cat *Catalog, owned map[string]bool) {
	d := &cat.Database
	schemas := []string{SchemaCounty, SchemaOrg}
	type grant struct{ role, schema, privilege, township string }
	var grants []grant
	use := func(role, schema, township string, privs ...string) {
		if !owned[role] {
			return
		}
		for _, p := range privs {
			grants = append(grants, grant{role, schema, p, township})
		}
	}
	use(r.County, SchemaCounty, "", "USAGE", "CREATE")
	use(r.County, SchemaOrg, "", "USAGE")
	use(r.Supervisor, SchemaCounty, "", "USAGE")
	use(r.Supervisor, SchemaOrg, "", "USAGE")
	readers := []string{r.County, r.Supervisor}
	// Owners whose future tables the supervisor must be able to read, in their schema.
	type ownerSchema struct{ role, schema, township string }
	defaults := []ownerSchema{{r.County, SchemaCounty, ""}}
	townshipOfSchema := map[string]string{}
	for _, t := range r.Townships {
		if !owned[t.Role] {
			continue
		}
		schemas = append(schemas, t.Schema)
		townshipOfSchema[t.Schema] = t.Name
		use(t.Role, t.Schema, t.Name, "USAGE", "CREATE")
		use(t.Role, SchemaOrg, t.Name, "USAGE")
		use(r.Supervisor, t.Schema, t.Name, "USAGE")
		readers = append(readers, t.Role)
		defaults = append(defaults, ownerSchema{t.Role, t.Schema, t.Name})
		// A merged township's schema is its successor's: its tables are, and so are
		// the tables made there from now on.
		for _, f := range r.mergedDone[t.Name] {
			townshipOfSchema[f.Schema] = t.Name
			use(t.Role, f.Schema, t.Name, "USAGE", "CREATE")
			use(r.Supervisor, f.Schema, t.Name, "USAGE")
			defaults = append(defaults, ownerSchema{t.Role, f.Schema, t.Name})
		}
	}

	pl.begin()
	db := r.Database
	start := len(pl.p.Statements)
	add := func(st Statement) { st.Database = db; pl.add(st) }
	add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
	if d.Org == nil {
		d.Org = map[string]bool{}
	}
	if d.PublicSchemaOpen {
		add(Statement{Kind: KindRevoke, Object: "schema public", What: "closing schema public", SQL: "REVOKE ALL ON SCHEMA public FROM PUBLIC"})
	}
	for _, s := range schemas {
		if !slices.Contains(d.Schemas, s) {
			add(Statement{Kind: KindCreate, Object: "schema " + s, Township: townshipOfSchema[s], What: "creating schema " + s, SQL: "CREATE SCHEMA " + ident(s)})
		}
	}
	if !owned[r.County] || !owned[r.Supervisor] {
		pl.p.Conflicts = append(pl.p.Conflicts, fmt.Errorf("the hub's roles %s and %s are not the Region's; the org tables wait for them", r.County, r.Supervisor))
	} else {
		for _, st := range orgStatements(r, d.Org) {
			if !d.Org[st.check] {
				kind := KindCreate
				if strings.HasPrefix(st.check, "rls:") || strings.HasPrefix(st.check, "column:") {
					kind = KindAlter
				}
				add(Statement{Kind: kind, Object: st.object, What: st.what, SQL: st.sql})
				d.Org[st.check] = true
			}
		}
	}
	for _, g := range grants {
		if !d.SchemaPrivileges[SchemaPrivilegeKey(g.role, g.schema, g.privilege)] {
			add(Statement{Kind: KindGrant, Object: "schema " + g.schema, Township: g.township,
				What: fmt.Sprintf("granting %s on schema %s to %s", g.privilege, g.schema, g.role),
				SQL:  "GRANT " + g.privilege + " ON SCHEMA " + ident(g.schema) + " TO " + ident(g.role)})
		}
	}
	if owned[r.County] && owned[r.Supervisor] {
		for _, table := range []string{"township", "branch", "township_history"} {
			for _, role := range readers {
				if table == "township_history" && role != r.County && role != r.Supervisor {
					continue // the hub's services and the supervisor read the history
				}
				if owned[role] && !d.OrgReaders[role+"/"+table] {
					add(Statement{Kind: KindGrant, Object: "table org." + table, Township: r.townshipOf(role),
						What: "granting SELECT on org." + table + " to " + role,
						SQL:  "GRANT SELECT ON " + qualified(SchemaOrg, table) + " TO " + ident(role)})
				}
			}
		}
	}
	// Default privileges and grants on tables the LOGIN roles own need the
	// administrator itself, a member of those roles.
	add(Statement{Kind: KindSession, Object: "administrator", What: "acting as the administrator", SQL: "RESET ROLE"})
	if owned[r.Supervisor] {
		// The supervisor reads base tables only. A view (or a materialised or foreign
		// one), like a table's row-level security policy, runs what its author wrote
		// with the reader's rights: a township's view over a function could act as the
		// supervisor on every township's rows. So no default privileges, which would
		// cover views too; plain tables are granted one by one at each check of the
		// database, and views and tables under row-level security are taken away, from
		// the supervisor and from PUBLIC (in a township's schema only the township and
		// the supervisor could use a grant to PUBLIC).
		read := map[string]string{}
		for _, o := range defaults {
			if !owned[o.role] {
				continue
			}
			read[o.schema] = o.township
			if d.SupervisorDefaults[o.role+"/"+o.schema] {
				add(Statement{Kind: KindRevoke, Object: "schema " + o.schema, Township: o.township,
					What: "taking the supervisor's default read of " + o.schema + "'s future relations away",
					SQL:  "ALTER DEFAULT PRIVILEGES FOR ROLE " + ident(o.role) + " IN SCHEMA " + ident(o.schema) + " REVOKE SELECT ON TABLES FROM " + ident(r.Supervisor)})
			}
		}
		// A township about to be merged is read as its successor's already.
		for _, t := range r.Townships {
			for _, f := range r.mergedPending[t.Name] {
				read[f.Schema] = t.Name
			}
		}
		for _, rel := range d.Relations {
			township, ok := read[rel.Schema]
			if !ok {
				continue
			}
			table := (rel.Kind == "r" || rel.Kind == "p") && !rel.RowSecurity
			switch {
			case table && !rel.SupervisorReads:
				add(Statement{Kind: KindGrant, Object: "table " + rel.Schema + "." + rel.Name, Township: township,
					What: "letting the supervisor read " + rel.Schema + "." + rel.Name,
					SQL:  "GRANT SELECT ON " + qualified(rel.Schema, rel.Name) + " TO " + ident(r.Supervisor)})
			case !table && rel.SupervisorReads:
				add(Statement{Kind: KindRevoke, Object: "view " + rel.Schema + "." + rel.Name, Township: township,
					What: "taking " + rel.Schema + "." + rel.Name + " away from the supervisor",
					SQL:  "REVOKE SELECT ON " + qualified(rel.Schema, rel.Name) + " FROM PUBLIC, " + ident(r.Supervisor)})
			}
		}
	}
	// A transaction that only sets and resets the role changes nothing: leave it out.
	changes := false
	for _, st := range pl.p.Statements[start:] {
		changes = changes || st.Kind != KindSession
	}
	if !changes {
		pl.p.Statements = pl.p.Statements[:start]
	}
}

type branchKey struct{ township, name string }

// planOrgRows makes org.township and org.branch equal to the spec. Every value goes as
// a parameter: display names with quotes, backslashes or Chinese text are stored exactly
// as given.
func planOrgRows(pl *planner, r *RegionDB, cat *Catalog) {
	d := &cat.Database
	pl.begin()
	start := len(pl.p.Statements)
	add := func(st Statement) { st.Database = r.Database; pl.add(st) }
	add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
	want := map[string]TownshipRow{}
	for _, t := range r.Townships {
		want[t.Code] = TownshipRow{Code: t.Code, Name: t.Name, DisplayName: t.DisplayName, Role: t.Role, Class: t.Class}
	}
	current := map[string]TownshipRow{}
	for _, t := range d.Townships {
		current[t.Code] = t
		if _, ok := want[t.Code]; !ok {
			// The spec no longer names this township: its directory row goes (its
			// schema and data are the deletion policy's business, below).
			add(Statement{Kind: KindDML, Object: "row org.township " + t.Code, Township: t.Name, What: "removing township " + t.Name,
				SQL: `DELETE FROM org.township WHERE code = $1`, Args: []any{t.Code}})
		}
	}
	for _, t := range r.Townships {
		w := want[t.Code]
		if cur, ok := current[t.Code]; ok && cur == w {
			continue
		}
		add(Statement{Kind: KindDML, Object: "row org.township " + t.Code, Township: t.Name, What: "writing township " + t.Name,
			SQL:  `INSERT INTO org.township (code, name, display_name, role_name, class) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name, role_name = EXCLUDED.role_name, class = EXCLUDED.class`,
			Args: []any{w.Code, w.Name, w.DisplayName, w.Role, w.Class}})
	}
	wantBranches := map[branchKey]BranchRow{}
	for _, b := range r.Branches {
		wantBranches[branchKey{b.TownshipCode, b.Name}] = b
	}
	currentBranches := map[branchKey]BranchRow{}
	for _, b := range d.Branches {
		k := branchKey{b.TownshipCode, b.Name}
		currentBranches[k] = b
		if _, ok := wantBranches[k]; !ok {
			if _, kept := want[b.TownshipCode]; !kept {
				continue // removed with its township, by the cascade
			}
			add(Statement{Kind: KindDML, Object: "row org.branch " + b.TownshipCode + "/" + b.Name, What: "removing branch " + b.Name,
				SQL: `DELETE FROM org.branch WHERE township_code = $1 AND name = $2`, Args: []any{b.TownshipCode, b.Name}})
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
		add(Statement{Kind: KindDML, Object: "row org.branch " + b.TownshipCode + "/" + b.Name, What: "writing branch " + b.Name,
			SQL:  `INSERT INTO org.branch (township_code, name, display_name, kind, code, members) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (township_code, name) DO UPDATE SET display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, code = EXCLUDED.code, members = EXCLUDED.members`,
			Args: []any{b.TownshipCode, b.Name, b.DisplayName, b.Kind, code, b.Members}})
	}
	if len(pl.p.Statements) == start+1 {
		pl.p.Statements = pl.p.Statements[:start]
	}
}

// reservedSchemas are the schemas of every Region database that are no township's.
var reservedSchemas = []string{SchemaCounty, SchemaOrg, "public", "information_schema"}

// LeftTownships are the townships whose schema or login role is in the database, marked
// as this Region's with the current marker, and which the spec no longer names: by
// schema name. What the spec names, placed or not, is never among them: a township
// whose namespace or credentials are missing is not ready, never gone. A role whose
// schema is already gone (a removal stopped between its transactions) is among them.
func LeftTownships(r *RegionDB, cat *Catalog) []string {
	keep := map[string]bool{}
	for _, s := range reservedSchemas {
		keep[s] = true
	}
	for _, t := range r.Townships {
		keep[t.Schema] = true
		// A former township's schema is its successor's (spec.townships[].formerly).
		for _, f := range t.Formerly {
			keep[f.Schema] = true
		}
	}
	// And stays so while the successor, or the township it became in turn, is in
	// the spec, after formerly no longer names it.
	for _, s := range successorsInSpec(r, cat.Database.History) {
		keep[s] = true
	}
	hub := map[string]bool{r.Owner: true, r.County: true, r.Supervisor: true}
	current := func(role string) bool {
		st, ok := cat.Roles[role]
		return ok && !hub[role] && st.Comment == r.marker()
	}
	found := map[string]bool{}
	for _, s := range cat.Database.Schemas {
		if !keep[s] && !strings.HasPrefix(s, "pg_") && current(r.TownshipRolePrefix+s) {
			found[s] = true
		}
	}
	for role := range cat.Roles {
		if s, ok := strings.CutPrefix(role, r.TownshipRolePrefix); ok && !keep[s] && current(role) {
			found[s] = true
		}
	}
	out := make([]string, 0, len(found))
	for s := range found {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// planRemovals carries out the deletion policy for townships the spec no longer names
// (LeftTownships): Retain disables their login and keeps everything; Delete drops their
// schema and role. Destruction is planned only when the reconcile was clean (r.Clean)
// and, for more than MaxUnconfirmedDestruction townships at once, confirmed. A left
// role marked by the legacy or an adopted marker is first marked as this Region's:
// what a Region took over is never destroyed in the same reconcile.
func planRemovals(pl *planner, r *RegionDB, cat *Catalog) {
	inSpec := map[string]bool{r.Owner: true, r.County: true, r.Supervisor: true}
	for _, t := range r.Townships {
		inSpec[t.Role] = true
	}
	var remark []string
	for role, st := range cat.Roles {
		if ours, rewrite := r.Owns(st.Comment); ours && rewrite && !inSpec[role] && strings.HasPrefix(role, r.TownshipRolePrefix) {
			remark = append(remark, role)
		}
	}
	slices.Sort(remark)
	if len(remark) > 0 {
		pl.begin()
		for _, role := range remark {
			pl.add(Statement{Kind: KindAlter, Object: "role " + role, What: "marking role " + role + " as this Region's",
				SQL: "COMMENT ON ROLE " + ident(role) + " IS " + quoteLiteral(r.marker())})
		}
	}
	gone := LeftTownships(r, cat)
	if len(gone) == 0 {
		return
	}
	if r.Policy != PolicyDelete {
		pl.begin()
		for _, schema := range gone {
			role := r.TownshipRolePrefix + schema
			pl.p.Retained = append(pl.p.Retained, RetainedDB{Schema: schema, Role: role})
			if !cat.Roles[role].Login {
				continue
			}
			if !r.Clean {
				pl.p.Withheld = "the database layer did not observe or apply everything; nothing is disabled this time"
				continue
			}
			// Spec change: the township left spec.townships under deletionPolicy Retain.
			pl.add(Statement{Kind: KindDisable, Object: "role " + role, Township: schema, What: "disabling login of " + role,
				SQL: "ALTER ROLE " + ident(role) + " NOLOGIN"})
		}
		return
	}
	if !r.Clean {
		pl.p.Withheld = "the database layer did not observe or apply everything; nothing is dropped this time"
		return
	}
	if NeedsConfirmation(r.Confirmed, gone) {
		pl.p.Held = gone
		pl.p.Withheld = fmt.Sprintf("dropping %d townships at once waits for confirmation", len(gone))
		return
	}
	for _, schema := range gone {
		role := r.TownshipRolePrefix + schema
		pl.p.Dropped = append(pl.p.Dropped, schema)
		// Spec change: the township left spec.townships under deletionPolicy Delete.
		if slices.Contains(cat.Database.Schemas, schema) {
			pl.begin()
			pl.add(Statement{Kind: KindDrop, Object: "schema " + schema, Township: schema, Database: r.Database, What: "dropping schema " + schema,
				SQL: "DROP SCHEMA IF EXISTS " + ident(schema) + " CASCADE"})
		} else {
			pl.begin()
		}
		pl.add(Statement{Kind: KindDrop, Object: "role " + role, Township: schema, Database: r.Database, What: "dropping what " + role + " owns",
			SQL: "DROP OWNED BY " + ident(role)})
		for _, db := range cat.Elsewhere[role] {
			pl.begin()
			pl.add(Statement{Kind: KindDrop, Object: "role " + role, Township: schema, Database: db, What: "letting " + role + " go in database " + db,
				SQL: "DROP OWNED BY " + ident(role)})
		}
		pl.begin()
		pl.add(Statement{Kind: KindRevoke, Object: "database " + r.Database, Township: schema, What: "revoking CONNECT from " + role,
			SQL: "REVOKE ALL ON DATABASE " + ident(r.Database) + " FROM " + ident(role)})
		pl.add(Statement{Kind: KindDrop, Object: "role " + role, Township: schema, What: "dropping role " + role,
			SQL: "DROP ROLE IF EXISTS " + ident(role)})
	}
}

// RetireCatalog is what the server holds of a Region being deleted.
type RetireCatalog struct {
	// Roles are every role marked as the Region's, by name.
	Roles map[string]Role
	// DatabaseOurs says the Region's database exists and is marked as the Region's.
	DatabaseOurs bool
	// Elsewhere names, by role, the other databases where something depends on it.
	Elsewhere map[string][]string
}

// PlanRetire carries out a Region's deletion on its database. Retain disables every
// LOGIN role of the Region and keeps the database; Delete drops the database, forcing
// its connections off, and then the roles. Only objects marked as the Region's appear.
func PlanRetire(region, database, policy string, cat *RetireCatalog) []Statement {
	names := make([]string, 0, len(cat.Roles))
	for n := range cat.Roles {
		names = append(names, n)
	}
	// Login roles first, so a role that owns nothing goes before the owner.
	slices.SortFunc(names, func(a, b string) int {
		la, lb := cat.Roles[a].Login, cat.Roles[b].Login
		if la != lb {
			if la {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []Statement
	if policy != PolicyDelete {
		for _, n := range names {
			if cat.Roles[n].Login {
				// Spec change: the Region was deleted under deletionPolicy Retain.
				out = append(out, Statement{Kind: KindDisable, Object: "role " + n, What: "disabling login of " + n,
					SQL: "ALTER ROLE " + ident(n) + " NOLOGIN"})
			}
		}
		return out
	}
	if cat.DatabaseOurs {
		// Spec change: the Region was deleted under deletionPolicy Delete, confirmed.
		out = append(out, Statement{Kind: KindDrop, Object: "database " + database, What: "dropping database " + database,
			SQL: "DROP DATABASE IF EXISTS " + ident(database) + " WITH (FORCE)"})
	}
	for _, n := range names {
		// What another county granted the role, or the role owns there, would keep it
		// from being dropped: it is let go database by database first.
		for _, db := range cat.Elsewhere[n] {
			if db == database {
				continue
			}
			out = append(out, Statement{Kind: KindDrop, Object: "role " + n, Database: db, Tx: 0, What: "letting " + n + " go in database " + db,
				SQL: "DROP OWNED BY " + ident(n)})
		}
		out = append(out, Statement{Kind: KindDrop, Object: "role " + n, What: "dropping role " + n,
			SQL: "DROP ROLE IF EXISTS " + ident(n)})
	}
	return out
}
