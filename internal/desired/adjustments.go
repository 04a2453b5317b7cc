package desired

import (
	"fmt"
	"slices"
	"strings"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// Adjustments of the division list (spec.townships[].formerly) carry a former
// township's database objects over to the township it became:
//
//   - a new code under the same name (撤乡设镇) keeps everything; the directory row
//     takes the new code;
//   - a rename (one former township of another name, and no role of the new name yet)
//     renames the schema and the login role in place, keeping every table, row and
//     grant, and sets the new name's Secret's password on it in the same transaction;
//   - a merge (several former townships, or a successor that already has its role)
//     keeps each former schema with its data, makes its tables the successor's
//     (REASSIGN OWNED), takes the schema away from the former login and disables it.
//
// Each carry-over runs in one transaction with its row in org.township_history, so a
// restart in the middle either finds it done or does it again; what is done is read
// back from the catalog (the roles and schemas by name) and from the history.

// Kinds of org.township_history rows.
const (
	HistoryRecode = "recode"
	HistoryRename = "rename"
	HistoryMerge  = "merge"
)

// hasHistory says whether org.township_history records that f became t.
func hasHistory(d *DatabaseCatalog, f Former, t *TownshipDB) bool {
	return slices.ContainsFunc(d.History, func(h HistoryRow) bool {
		return h.FormerName == f.Name && h.FormerCode == f.Code && h.Name == t.Name && h.Code == t.Code
	})
}

// recordHistory is the statement that records that f became t.
func recordHistory(r *RegionDB, f Former, t *TownshipDB, kind string) Statement {
	return Statement{Kind: KindDML, Object: "row org.township_history " + f.Code, Township: t.Name, Database: r.Database,
		What: "recording that " + f.Name + " became " + t.Name,
		SQL:  `INSERT INTO org.township_history (former_name, former_code, name, code, kind) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (former_name, former_code, name, code) DO UPDATE SET kind = EXCLUDED.kind, changed_at = pg_catalog.now()`,
		Args: []any{f.Name, f.Code, t.Name, t.Code, kind}}
}

// ensureHistoryTable adds the making of org.township_history to a transaction acting
// as the owner, when the catalog does not have it yet.
func ensureHistoryTable(add func(Statement), d *DatabaseCatalog) {
	if d.Org == nil {
		d.Org = map[string]bool{}
	}
	if h := historyTable(); !d.Org[h.check] {
		add(Statement{Kind: KindCreate, Object: h.object, What: h.what, SQL: h.sql})
		d.Org[h.check] = true
	}
}

// carryable says whether the catalog holds a Region database in which former
// townships can have left something: it exists, it and its owner role are the
// Region's, and it has its directory.
func carryable(r *RegionDB, cat *Catalog) bool {
	d := &cat.Database
	owner, ok := cat.Roles[r.Owner]
	ownerOurs, _ := r.Owns(owner.Comment)
	return ok && ownerOurs && d.Exists && OwnsDatabase(r, cat) && d.Org["table:township"]
}

// ours says whether a role exists and is the Region's.
func (r *RegionDB) ours(cat *Catalog, role string) bool {
	st, ok := cat.Roles[role]
	if !ok {
		return false
	}
	ours, _ := r.Owns(st.Comment)
	return ours
}

// blockAdjustments finds the townships of the spec that must not be made or enabled,
// with why: one whose name the history says was merged into another township of the
// spec (its schema holds that township's tables), and one named as the successor of
// an adjustment whose own role is a retained township's of the same name (a rename
// or merge into it would hand the former township's data to that old login). Each is
// a conflict for a person to settle; nothing of it changes.
func blockAdjustments(r *RegionDB, cat *Catalog) map[string]error {
	out := map[string]error{}
	d := &cat.Database
	inSpec := map[string]bool{}
	for _, t := range r.Townships {
		inSpec[t.Name] = true
	}
	for _, h := range d.History {
		if h.Kind != HistoryMerge || !inSpec[h.FormerName] || h.FormerName == h.Name {
			continue
		}
		if successor := successorInSpec(r, d.History, h.FormerName); successor != "" {
			out[h.FormerName] = fmt.Errorf("spec.townships[%s]: %s was merged into %s (org.township_history) and its schema %s holds %s's tables; a township cannot take that name back: choose another name",
				h.FormerName, h.FormerName, successor, naming.TownshipSchema(h.FormerName), successor)
		}
	}
	for _, t := range r.Townships {
		st, exists := cat.Roles[t.Role]
		if !exists || st.Login || !slices.ContainsFunc(t.Formerly, func(f Former) bool { return f.Name != t.Name }) {
			continue
		}
		if slices.ContainsFunc(d.Townships, func(row TownshipRow) bool { return row.Role == t.Role }) {
			continue // the successor is in service: its login was disabled by a person
		}
		out[t.Name] = fmt.Errorf("spec.townships[%s]: the role %s is a township %s's, removed earlier and retained; carrying %s into it would hand their data to that old login: choose another name, or bring %s back first",
			t.Name, t.Role, t.Name, formerNames(t), t.Name)
	}
	return out
}

func formerNames(t TownshipDB) string {
	var out []string
	for _, f := range t.Formerly {
		if f.Name != t.Name {
			out = append(out, f.Name)
		}
	}
	return strings.Join(out, ", ")
}

// planRenames renames a renamed township's role and schema to its new name, and sets
// the password its Secret holds on it, in one transaction. It runs before the roles
// are planned, so the new name's role is found, not made.
func planRenames(pl *planner, r *RegionDB, cat *Catalog) {
	if !carryable(r, cat) {
		return
	}
	d := &cat.Database
	for i := range r.Townships {
		t := &r.Townships[i]
		f, ok := r.renames(cat, t)
		if !ok || !t.Placed {
			// Not placed: its Secret, which holds the password, is not written.
			continue
		}
		pl.begin()
		add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
		add(Statement{Kind: KindAlter, Object: "role " + f.Role, What: "renaming role " + f.Role + " to " + t.Role,
			SQL: "ALTER ROLE " + ident(f.Role) + " RENAME TO " + ident(t.Role)})
		// The Secret of the new name holds the password handed out from now on: the
		// former one's, carried over, unless a person changed it in between.
		add(Statement{Kind: KindAlter, Object: "role " + t.Role, What: "setting the password of " + t.Role,
			SQL: "ALTER ROLE " + ident(t.Role) + " PASSWORD " + PasswordPlaceholder, PasswordOf: t.Role})
		delete(r.Reset, t.Role)
		add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
		if slices.Contains(d.Schemas, f.Schema) && !slices.Contains(d.Schemas, t.Schema) {
			add(Statement{Kind: KindAlter, Object: "schema " + f.Schema, What: "renaming schema " + f.Schema + " to " + t.Schema,
				SQL: "ALTER SCHEMA " + ident(f.Schema) + " RENAME TO " + ident(t.Schema)})
		}
		ensureHistoryTable(add, d)
		add(recordHistory(r, f, t, HistoryRename))
		add(Statement{Kind: KindSession, Object: "administrator", What: "acting as the administrator", SQL: "RESET ROLE"})
		renameInCatalog(cat, f, t)
		pl.p.Carried = append(pl.p.Carried, f.Name+" renamed to "+t.Name)
	}
}

// RenamedFrom is the former township whose role and schema a township of the Region
// takes over by renaming them, if it is renamed rather than merged or recoded.
func RenamedFrom(rg *platformv1.Region, township string) (Former, bool) {
	for _, t := range Database(rg, "", func(string) bool { return true }).Townships {
		if t.Name == township {
			return t.renamedFrom()
		}
	}
	return Former{}, false
}

// renames says which former township's role and schema a township of the spec takes
// over by renaming them: its one former township of another name, when that one's
// role is the Region's and the township has no role of its own yet.
func (r *RegionDB) renames(cat *Catalog, t *TownshipDB) (Former, bool) {
	f, ok := t.renamedFrom()
	if !ok || r.blocked[t.Name] != nil {
		return Former{}, false
	}
	if _, exists := cat.Roles[t.Role]; exists || !r.ours(cat, f.Role) {
		return Former{}, false // done, or the successor had its own: a merge
	}
	return f, true
}

// RenamePending says whether a plan made from this catalog renames a former
// township's role to the township's: only then may the township's first Secret carry
// the former one's password.
func RenamePending(r *RegionDB, cat *Catalog, township string) bool {
	if !carryable(r, cat) {
		return false
	}
	r.blocked = blockAdjustments(r, cat)
	defer func() { r.blocked = nil }()
	for i := range r.Townships {
		if t := &r.Townships[i]; t.Name == township {
			_, ok := r.renames(cat, t)
			return ok
		}
	}
	return false
}

// renameInCatalog makes the catalog say what it will after f's role and schema are
// renamed to t's, so the rest of the plan finds them under their new names.
func renameInCatalog(cat *Catalog, f Former, t *TownshipDB) {
	if v, ok := cat.Roles[f.Role]; ok {
		cat.Roles[t.Role] = v
		delete(cat.Roles, f.Role)
	}
	if v, ok := cat.Member[f.Role]; ok {
		cat.Member[t.Role] = v
		delete(cat.Member, f.Role)
	}
	if v, ok := cat.Elsewhere[f.Role]; ok {
		cat.Elsewhere[t.Role] = v
		delete(cat.Elsewhere, f.Role)
	}
	d := &cat.Database
	if i := slices.Index(d.Schemas, f.Schema); i >= 0 && !slices.Contains(d.Schemas, t.Schema) {
		d.Schemas[i] = t.Schema
	}
	name := func(part string) string {
		switch part {
		case f.Role:
			return t.Role
		case f.Schema:
			return t.Schema
		}
		return part
	}
	rekey := func(m map[string]bool) map[string]bool {
		out := make(map[string]bool, len(m))
		for k, v := range m {
			parts := strings.Split(k, "/")
			for i := range parts {
				parts[i] = name(parts[i])
			}
			out[strings.Join(parts, "/")] = v
		}
		return out
	}
	d.Connect = rekey(d.Connect)
	d.SchemaPrivileges = rekey(d.SchemaPrivileges)
	d.OrgReaders = rekey(d.OrgReaders)
	d.SupervisorDefaults = rekey(d.SupervisorDefaults)
	for i := range d.Relations {
		if d.Relations[i].Schema == f.Schema {
			d.Relations[i].Schema = t.Schema
		}
	}
	d.History = append(d.History, HistoryRow{FormerName: f.Name, FormerCode: f.Code, Name: t.Name, Code: t.Code, Kind: HistoryRename})
}

// merges are, by township, the former townships merged into it whose schema the
// catalog holds and whose role is the Region's: those merged already (the history
// says so) and those this plan may merge.
func merges(r *RegionDB, cat *Catalog) (done, pending map[string][]Former) {
	done, pending = map[string][]Former{}, map[string][]Former{}
	for _, t := range r.Townships {
		if r.blocked[t.Name] != nil {
			continue
		}
		_, successorExists := cat.Roles[t.Role]
		renamed, _ := t.renamedFrom()
		for _, f := range t.Formerly {
			if f.Name == t.Name || !slices.Contains(cat.Database.Schemas, f.Schema) || !r.ours(cat, f.Role) {
				continue
			}
			if f == renamed && !successorExists {
				continue // a rename still to come: its schema is renamed, not merged
			}
			if hasHistory(&cat.Database, f, &t) {
				done[t.Name] = append(done[t.Name], f)
			} else {
				pending[t.Name] = append(pending[t.Name], f)
			}
		}
	}
	return done, pending
}

func schemasOf(fs []Former) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Schema
	}
	return out
}

// planMerges carries out the merges this plan may: in one transaction per former
// township, its tables become the successor's, the schema is taken from the former
// login and given to the successor, and the former login is disabled. It records a
// new code under the same name in the history too. Once merged, the successor's
// grants on the schema are planSchemas' to keep (r.merged).
func planMerges(pl *planner, r *RegionDB, cat *Catalog, owned map[string]bool) {
	if !carryable(r, cat) {
		return
	}
	d := &cat.Database
	_, pending := merges(r, cat)
	for i := range r.Townships {
		t := &r.Townships[i]
		if r.blocked[t.Name] != nil {
			continue
		}
		for _, f := range t.Formerly {
			if f.Name != t.Name {
				continue
			}
			// A new code (撤乡设镇): the directory row moves to it (planOrgRows).
			if !hasHistory(d, f, t) && slices.ContainsFunc(d.Townships, func(row TownshipRow) bool { return row.Code == f.Code }) {
				pl.begin()
				add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
				add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
				ensureHistoryTable(add, d)
				add(recordHistory(r, f, t, HistoryRecode))
				pl.p.Carried = append(pl.p.Carried, t.Name+" recoded from "+f.Code+" to "+t.Code)
			}
		}
		for _, f := range r.mergedAll(t.Name) {
			if st := cat.Roles[f.Role]; st.Login && hasHistory(d, f, t) && r.Clean {
				// Merged, and its login enabled again by hand: the spec says it is
				// the successor's.
				pl.begin()
				pl.add(Statement{Kind: KindDisable, Object: "role " + f.Role, Township: t.Name, Database: r.Database,
					What: "disabling login of " + f.Role + ", merged into " + t.Name, SQL: "ALTER ROLE " + ident(f.Role) + " NOLOGIN"})
			}
			pl.p.Merged = append(pl.p.Merged, RetainedDB{Schema: f.Schema, Role: f.Role})
		}
		for _, f := range pending[t.Name] {
			if !owned[t.Role] {
				continue
			}
			if !r.Clean {
				pl.p.Withheld = "the database layer did not observe or apply everything; no merge is carried out this time"
				continue
			}
			st := cat.Roles[f.Role]
			pl.begin()
			add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
			if !cat.Superuser && !cat.Member[f.Role] {
				add(Statement{Kind: KindGrant, Object: "membership of the administrator", What: "granting " + f.Role + " to the administrator",
					SQL: "GRANT " + ident(f.Role) + " TO CURRENT_USER"})
			}
			add(Statement{Kind: KindAlter, Object: "role " + f.Role, What: "giving what " + f.Role + " owns to " + t.Role,
				SQL: "REASSIGN OWNED BY " + ident(f.Role) + " TO " + ident(t.Role)})
			if st.Login {
				// Spec change: the township was merged into t.Name (its
				// spec.townships[].formerly names it); its data is t.Name's now.
				add(Statement{Kind: KindDisable, Object: "role " + f.Role, What: "disabling login of " + f.Role + ", merged into " + t.Name,
					SQL: "ALTER ROLE " + ident(f.Role) + " NOLOGIN"})
			}
			add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
			// Spec change as above: an open session of the former login can make
			// nothing more in the schema it no longer has.
			add(Statement{Kind: KindRevoke, Object: "schema " + f.Schema, What: "taking schema " + f.Schema + " from " + f.Role,
				SQL: "REVOKE ALL ON SCHEMA " + ident(f.Schema) + " FROM " + ident(f.Role)})
			add(Statement{Kind: KindGrant, Object: "schema " + f.Schema, What: "granting schema " + f.Schema + " to " + t.Role,
				SQL: "GRANT USAGE, CREATE ON SCHEMA " + ident(f.Schema) + " TO " + ident(t.Role)})
			ensureHistoryTable(add, d)
			add(recordHistory(r, f, t, HistoryMerge))
			add(Statement{Kind: KindSession, Object: "administrator", What: "acting as the administrator", SQL: "RESET ROLE"})
			pl.p.Merged = append(pl.p.Merged, RetainedDB{Schema: f.Schema, Role: f.Role})
			pl.p.Carried = append(pl.p.Carried, f.Name+" merged into "+t.Name)
		}
	}
}

// mergedAll are the former townships merged into a township already.
func (r *RegionDB) mergedAll(township string) []Former { return r.mergedDone[township] }

// successorInSpec is the township of the spec that a former township became through
// merges (following the history), or "".
func successorInSpec(r *RegionDB, history []HistoryRow, former string) string {
	inSpec := map[string]bool{}
	for _, t := range r.Townships {
		inSpec[t.Name] = true
	}
	next := map[string][]string{}
	for _, h := range history {
		if h.FormerName != h.Name {
			next[h.FormerName] = append(next[h.FormerName], h.Name)
		}
	}
	seen := map[string]bool{}
	queue := slices.Clone(next[former])
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		if inSpec[n] {
			return n
		}
		queue = append(queue, next[n]...)
	}
	return ""
}

// successorsInSpec are the schemas of the townships merged into another that is, or
// through later adjustments became, a township of the spec: they hold its tables.
func successorsInSpec(r *RegionDB, history []HistoryRow) []string {
	var out []string
	for _, h := range history {
		if h.Kind == HistoryMerge && h.FormerName != h.Name && successorInSpec(r, history, h.FormerName) != "" {
			out = append(out, naming.TownshipSchema(h.FormerName))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
