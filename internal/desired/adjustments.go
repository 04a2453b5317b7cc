package desired

import (
	"slices"
	"strings"

	"github.com/jiceng-io/region-operator/internal/naming"
)

// Adjustments of the division list (spec.townships[].formerly) carry a former
// township's database objects over to the township it became:
//
//   - a new code under the same name (撤乡设镇) keeps everything; the directory row
//     takes the new code;
//   - a rename (one former township of another name, and no role of the new name yet)
//     renames the schema and the login role in place, keeping every table, row and
//     grant, and the password (SCRAM verifiers do not depend on the role's name);
//   - a merge (several former townships, or a successor that already has its role)
//     keeps each former schema with its data, makes its tables the successor's
//     (REASSIGN OWNED) and disables the former login.
//
// Each carry-over runs in one transaction with its row in org.township_history, so a
// restart in the middle either finds it done or does it again; what is done is read
// back from the catalog (the roles and schemas by name) and from the history.

// hasHistory says whether org.township_history records that f became t.
func hasHistory(d *DatabaseCatalog, f Former, t *TownshipDB) bool {
	return slices.Contains(d.History, HistoryRow{FormerName: f.Name, FormerCode: f.Code, Name: t.Name, Code: t.Code})
}

// recordHistory is the statement that records that f became t.
func recordHistory(r *RegionDB, f Former, t *TownshipDB) Statement {
	return Statement{Kind: KindDML, Object: "row org.township_history " + f.Code, Township: t.Name, Database: r.Database,
		What: "recording that " + f.Name + " became " + t.Name,
		SQL:  `INSERT INTO org.township_history (former_name, former_code, name, code) VALUES ($1, $2, $3, $4) ON CONFLICT (former_name, former_code, name, code) DO UPDATE SET changed_at = pg_catalog.now()`,
		Args: []any{f.Name, f.Code, t.Name, t.Code}}
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
// townships can have left something: it exists, is the Region's and has its directory.
func carryable(r *RegionDB, cat *Catalog) bool {
	d := &cat.Database
	return d.Exists && OwnsDatabase(r, cat) && d.Org["table:township"]
}

// planRenames renames a renamed township's role and schema to its new name. It runs
// before the roles are planned, so the new name's role is found, not made.
func planRenames(pl *planner, r *RegionDB, cat *Catalog) {
	if !carryable(r, cat) {
		return
	}
	d := &cat.Database
	for i := range r.Townships {
		t := &r.Townships[i]
		f, ok := t.renamedFrom()
		if !ok || !t.Placed {
			// Not placed: its Secret, which is to carry the password, is not written.
			continue
		}
		if _, exists := cat.Roles[t.Role]; exists {
			continue // done, or the successor had its own: a merge
		}
		st, had := cat.Roles[f.Role]
		if ours, _ := r.Owns(st.Comment); !had || !ours {
			continue
		}
		pl.begin()
		add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
		add(Statement{Kind: KindAlter, Object: "role " + f.Role, What: "renaming role " + f.Role + " to " + t.Role,
			SQL: "ALTER ROLE " + ident(f.Role) + " RENAME TO " + ident(t.Role)})
		add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
		if slices.Contains(d.Schemas, f.Schema) && !slices.Contains(d.Schemas, t.Schema) {
			add(Statement{Kind: KindAlter, Object: "schema " + f.Schema, What: "renaming schema " + f.Schema + " to " + t.Schema,
				SQL: "ALTER SCHEMA " + ident(f.Schema) + " RENAME TO " + ident(t.Schema)})
		}
		ensureHistoryTable(add, d)
		add(recordHistory(r, f, t))
		add(Statement{Kind: KindSession, Object: "administrator", What: "acting as the administrator", SQL: "RESET ROLE"})
		renameInCatalog(cat, f, t)
		pl.p.Carried = append(pl.p.Carried, f.Name+" renamed to "+t.Name)
	}
}

// renameInCatalog makes the catalog say what it will after f's role and schema are
// renamed to t's, so the rest of the plan finds them under their new names.
func renameInCatalog(cat *Catalog, f Former, t *TownshipDB) {
	move := func(m map[string]Role) {
		if v, ok := m[f.Role]; ok {
			m[t.Role] = v
			delete(m, f.Role)
		}
	}
	move(cat.Roles)
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
	d.History = append(d.History, HistoryRow{FormerName: f.Name, FormerCode: f.Code, Name: t.Name, Code: t.Code})
}

// mergedSchemas are, by township, the schemas of the former townships of another name
// that the catalog holds and whose role, if any, is the Region's: after the renames,
// the merged ones.
func mergedSchemas(r *RegionDB, cat *Catalog) map[string][]string {
	out := map[string][]string{}
	for _, t := range r.Townships {
		_, successorExists := cat.Roles[t.Role]
		renamed, _ := t.renamedFrom()
		for _, f := range t.Formerly {
			if f.Name == t.Name || !slices.Contains(cat.Database.Schemas, f.Schema) {
				continue
			}
			if f == renamed && !successorExists {
				continue // a rename still to come: its schema is renamed, not merged
			}
			if st, ok := cat.Roles[f.Role]; ok {
				if ours, _ := r.Owns(st.Comment); !ours {
					continue
				}
			}
			out[t.Name] = append(out[t.Name], f.Schema)
		}
	}
	return out
}

// planMerges makes the tables of each merged township's schema its successor's and
// disables the former login; and records a new code under the same name in the
// history. Its schema's grants to the successor are planSchemas' (r.merged).
func planMerges(pl *planner, r *RegionDB, cat *Catalog, owned map[string]bool) {
	if !carryable(r, cat) {
		return
	}
	d := &cat.Database
	for i := range r.Townships {
		t := &r.Townships[i]
		for _, f := range t.Formerly {
			done := hasHistory(d, f, t)
			if f.Name == t.Name {
				// A new code (撤乡设镇): the directory row moves to it (planOrgRows).
				if !done && slices.ContainsFunc(d.Townships, func(row TownshipRow) bool { return row.Code == f.Code }) {
					pl.begin()
					add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
					add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
					ensureHistoryTable(add, d)
					add(recordHistory(r, f, t))
					pl.p.Carried = append(pl.p.Carried, t.Name+" recoded from "+f.Code+" to "+t.Code)
				}
				continue
			}
			if !slices.Contains(r.merged[t.Name], f.Schema) || !owned[t.Role] {
				continue
			}
			st, roleExists := cat.Roles[f.Role]
			if roleExists {
				pl.p.Merged = append(pl.p.Merged, RetainedDB{Schema: f.Schema, Role: f.Role})
			}
			if done && (!roleExists || !st.Login) {
				continue
			}
			if !r.Clean {
				pl.p.Withheld = "the database layer did not observe or apply everything; no merge is carried out this time"
				continue
			}
			pl.begin()
			add := func(s Statement) { s.Database, s.Township = r.Database, t.Name; pl.add(s) }
			if roleExists {
				if !cat.Superuser && !cat.Member[f.Role] {
					add(Statement{Kind: KindGrant, Object: "membership of the administrator", What: "granting " + f.Role + " to the administrator",
						SQL: "GRANT " + ident(f.Role) + " TO CURRENT_USER"})
				}
				add(Statement{Kind: KindAlter, Object: "role " + f.Role, What: "giving what " + f.Role + " owns to " + t.Role,
					SQL: "REASSIGN OWNED BY " + ident(f.Role) + " TO " + ident(t.Role)})
				if st.Login {
					// Spec change: the township was merged into t.Name
					// (spec.townships[].formerly names it); its data is t.Name's now.
					add(Statement{Kind: KindDisable, Object: "role " + f.Role, What: "disabling login of " + f.Role + ", merged into " + t.Name,
						SQL: "ALTER ROLE " + ident(f.Role) + " NOLOGIN"})
				}
			}
			add(Statement{Kind: KindSession, Object: "role " + r.Owner, What: "acting as " + r.Owner, SQL: "SET LOCAL ROLE " + ident(r.Owner)})
			ensureHistoryTable(add, d)
			add(recordHistory(r, f, t))
			add(Statement{Kind: KindSession, Object: "administrator", What: "acting as the administrator", SQL: "RESET ROLE"})
			pl.p.Carried = append(pl.p.Carried, f.Name+" merged into "+t.Name)
		}
	}
}

// successorsInSpec are the schemas of former townships whose successor, followed
// through the history, is a township of the spec.
func successorsInSpec(r *RegionDB, history []HistoryRow) []string {
	if len(history) == 0 {
		return nil
	}
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
	var out []string
	for former := range next {
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
				out = append(out, naming.TownshipSchema(former))
				break
			}
			queue = append(queue, next[n]...)
		}
	}
	slices.Sort(out)
	return out
}
