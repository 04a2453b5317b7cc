package desired_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sample reads the sample county the README and the demo apply.
func sample(t *testing.T) *platformv1.Region {
	t.Helper()
	data, err := os.ReadFile("../../config/samples/platform_v1alpha1_region.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rg := &platformv1.Region{}
	if err := yaml.UnmarshalStrict(data, rg); err != nil {
		t.Fatal(err)
	}
	return rg
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/desired -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the sample county becomes now; if the change is meant, run go test ./internal/desired -update and review the diff.\ngot:\n%s", path, got)
	}
}

func allPlaced(string) bool { return true }

// The sample county's objects and, on a server that holds nothing of it yet, its SQL
// plan, with no API server and no database.
func TestSampleCountyGolden(t *testing.T) {
	rg := sample(t)
	objs, err := desired.Objects(rg, desired.Options{
		Server:   desired.Server{Host: "pg.example", Port: 5432, SSLMode: "require"},
		Password: func(role string) string { return "password-of-" + role },
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, o := range objs {
		data, err := json.Marshal(o.Config)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.JSONToYAML(data)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "# layer %s, township %q\n%s---\n", o.Layer, o.Township, y)
	}
	golden(t, "sample-objects.yaml", out.Bytes())

	plan := desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), &desired.Catalog{})
	golden(t, "sample-plan.sql", []byte(render(plan.Statements)))
	if strings.Contains(render(plan.Statements), "password-of-") {
		t.Error("a password is in the plan's text")
	}
}

func render(sts []desired.Statement) string {
	var b strings.Builder
	for _, s := range sts {
		db := s.Database
		if db == "" {
			db = "(maintenance)"
		}
		fmt.Fprintf(&b, "-- %s %s [db %s, tx %d]\n%s;", s.Kind, s.Object, db, s.Tx, s.SQL)
		if len(s.Args) > 0 {
			fmt.Fprintf(&b, " -- args %v", s.Args)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// applied is the catalog a server holds after a clean run of the plan for r, as the
// executor would have left it: what the next plan compares with.
func applied(r *desired.RegionDB) *desired.Catalog {
	marker := desired.Marker(r.Region, r.UID, r.Cluster)
	cat := &desired.Catalog{Superuser: true, Roles: map[string]desired.Role{r.Owner: {Comment: marker}}}
	d := &cat.Database
	d.Exists, d.Comment = true, marker
	d.Connect, d.SchemaPrivileges, d.OrgReaders, d.SupervisorDefaults = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	d.Org = map[string]bool{}
	for _, k := range []string{"table:township", "table:branch", "table:township_history", "column:township:class", "rls:township", "rls:branch",
		"policy:township:own_township", "policy:branch:own_branches", "policy:township:all_townships", "policy:branch:all_branches"} {
		d.Org[k] = true
	}
	d.Schemas = []string{"county", "org", "public"}
	login := func(role, schema string) {
		cat.Roles[role] = desired.Role{Login: true, Comment: marker, SearchPath: r.SearchPath(role), ConnectionLimit: r.LoginLimit(role)}
		d.Connect[role] = true
		d.SchemaPrivileges[desired.SchemaPrivilegeKey(role, "org", "USAGE")] = true
		d.OrgReaders[role+"/township"], d.OrgReaders[role+"/branch"] = true, true
		if schema != "" {
			d.SchemaPrivileges[desired.SchemaPrivilegeKey(role, schema, "USAGE")] = true
			d.SchemaPrivileges[desired.SchemaPrivilegeKey(role, schema, "CREATE")] = true
			d.SchemaPrivileges[desired.SchemaPrivilegeKey(r.Supervisor, schema, "USAGE")] = true
		}
	}
	login(r.County, "county")
	login(r.Supervisor, "")
	d.OrgReaders[r.County+"/township_history"], d.OrgReaders[r.Supervisor+"/township_history"] = true, true
	d.SchemaPrivileges[desired.SchemaPrivilegeKey(r.Supervisor, "county", "USAGE")] = true
	for _, t := range r.Townships {
		login(t.Role, t.Schema)
		d.Schemas = append(d.Schemas, t.Schema)
		d.Townships = append(d.Townships, desired.TownshipRow{Code: t.Code, Name: t.Name, DisplayName: t.DisplayName, Role: t.Role, Class: t.Class})
	}
	d.Branches = slices.Clone(r.Branches)
	return cat
}

func TestPlanAgainstItsOwnResultIsEmpty(t *testing.T) {
	r := desired.Database(sample(t), "test-cluster", allPlaced)
	if plan := desired.PlanDatabase(r, applied(r)); len(plan.Statements) > 0 {
		t.Errorf("a database in step with the spec still gets:\n%s", render(plan.Statements))
	}
}

// county builds a Region with n townships t1..tn under a policy.
func county(n int, policy platformv1.DeletionPolicy) *platformv1.Region {
	rg := &platformv1.Region{}
	rg.Name = "cty"
	rg.UID = "uid-cty"
	rg.Spec.Code = "350599"
	rg.Spec.DeletionPolicy = policy
	for i := 1; i <= n; i++ {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{
			Name: fmt.Sprintf("t%d", i), DisplayName: fmt.Sprintf("镇%d", i), Code: fmt.Sprintf("350599%03d", 100+i),
		})
	}
	return rg
}

func kinds(sts []desired.Statement, kind desired.StatementKind) []string {
	var out []string
	for _, s := range sts {
		if s.Kind == kind {
			out = append(out, s.SQL)
		}
	}
	return out
}

// What is destroyed or disabled comes only from the spec no longer naming a township.
func TestRemovalComesOnlyFromTheSpec(t *testing.T) {
	full := county(6, platformv1.DeletionPolicyDelete)
	cat := applied(desired.Database(full, "test-cluster", allPlaced))
	for _, tc := range []struct {
		name     string
		keep     int
		policy   platformv1.DeletionPolicy
		placed   func(string) bool
		clean    bool
		confirm  string
		drops    int
		disables int
		held     int
		retained int
		withheld bool
	}{
		{name: "nothing removed, every township placed", keep: 6, policy: "Delete", placed: allPlaced, clean: true},
		{name: "a township's namespace missing: not removed", keep: 6, policy: "Delete",
			placed: func(t string) bool { return t != "t2" }, clean: false},
		{name: "two removed under Delete", keep: 4, policy: "Delete", placed: allPlaced, clean: true, drops: 2},
		{name: "two removed under Delete, layer not clean: nothing dropped", keep: 4, policy: "Delete", placed: allPlaced, clean: false, withheld: true},
		{name: "three removed at once under Delete go ahead", keep: 3, policy: "Delete", placed: allPlaced, clean: true, drops: 3},
		{name: "four removed at once under Delete wait", keep: 2, policy: "Delete", placed: allPlaced, clean: true, held: 4, withheld: true},
		{name: "four removed, three confirmed: still wait", keep: 2, policy: "Delete", placed: allPlaced, clean: true, confirm: "t3,t4,t5", held: 4, withheld: true},
		{name: "four removed, all confirmed", keep: 2, policy: "Delete", placed: allPlaced, clean: true, confirm: "t3, t4,t5,t6,t9", drops: 4},
		{name: "four removed, only the Region named: still wait", keep: 2, policy: "Delete", placed: allPlaced, clean: true, confirm: "cty", held: 4, withheld: true},
		{name: "four removed under Retain: disabled, kept", keep: 2, policy: "Retain", placed: allPlaced, clean: true, disables: 4, retained: 4},
		{name: "removed under Retain, layer not clean: nothing disabled", keep: 5, policy: "Retain", placed: allPlaced, clean: false, retained: 1, withheld: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rg := county(6, tc.policy)
			rg.Spec.Townships = rg.Spec.Townships[:tc.keep]
			r := desired.Database(rg, "test-cluster", tc.placed)
			r.Clean = tc.clean
			r.Confirmed = tc.confirm
			plan := desired.PlanDatabase(r, cat)
			if got := len(kinds(plan.Statements, desired.KindDrop)); got != tc.drops*3 {
				t.Errorf("%d DROP statements, want %d:\n%s", got, tc.drops*3, render(plan.Statements))
			}
			if got := len(kinds(plan.Statements, desired.KindDisable)); got != tc.disables {
				t.Errorf("%d logins disabled, want %d", got, tc.disables)
			}
			if len(plan.Held) != tc.held || len(plan.Retained) != tc.retained || (plan.Withheld != "") != tc.withheld {
				t.Errorf("held %v, retained %v, withheld %q", plan.Held, plan.Retained, plan.Withheld)
			}
			for _, s := range plan.Statements {
				if s.Kind.Destructive() && s.Township != "" && slices.ContainsFunc(rg.Spec.Townships, func(x platformv1.Township) bool { return naming.TownshipSchema(x.Name) == s.Township }) {
					t.Errorf("%s destroys township %s, which the spec still names", s.SQL, s.Township)
				}
			}
		})
	}
}

// A role or database that is not the Region's is never altered or dropped.
func TestObjectsOfOthersAreConflicts(t *testing.T) {
	rg := county(2, platformv1.DeletionPolicyDelete)
	r := desired.Database(rg, "test-cluster", allPlaced)
	cat := applied(r)
	cat.Roles[r.Townships[0].Role] = desired.Role{Login: true, Comment: "someone else's"}
	cat.Database.Schemas = append(cat.Database.Schemas, "other")
	cat.Roles[r.TownshipRolePrefix+"other"] = desired.Role{Login: true, Comment: "someone else's"}
	plan := desired.PlanDatabase(r, cat)
	if len(plan.Conflicts) != 1 {
		t.Errorf("conflicts %v, want the one role", plan.Conflicts)
	}
	for _, s := range plan.Statements {
		if strings.Contains(s.SQL, `"`+r.Townships[0].Role+`"`) || strings.Contains(s.SQL, "other") {
			t.Errorf("touches what is not the Region's: %s", s.SQL)
		}
	}
	cat.Database.Comment = "another Region's"
	if plan := desired.PlanDatabase(r, cat); !plan.Blocked || len(kinds(plan.Statements, desired.KindDrop)) > 0 {
		t.Errorf("a database of another Region must block the plan: %+v", plan)
	}
}

// A township whose Secret is not in place gets no role yet; one that exists keeps it.
func TestUnplacedTownshipWaitsForItsSecret(t *testing.T) {
	rg := county(2, platformv1.DeletionPolicyDelete)
	r := desired.Database(rg, "test-cluster", func(t string) bool { return t != "t2" })
	plan := desired.PlanDatabase(r, &desired.Catalog{})
	for _, s := range plan.Statements {
		if strings.Contains(s.SQL, `"region_cty_t2"`) {
			t.Errorf("a role without a Secret for its password is touched: %s", s.SQL)
		}
		if s.PasswordOf != "" && !strings.Contains(s.SQL, desired.PasswordPlaceholder) {
			t.Errorf("a password statement without its placeholder: %s", s.SQL)
		}
	}
}

func TestRetirePlan(t *testing.T) {
	cat := &desired.RetireCatalog{DatabaseOurs: true, Roles: map[string]desired.Role{
		"region_cty": {}, "region_cty_county": {Login: true}, "region_cty_t1": {Login: false},
	}}
	if got := desired.PlanRetire("cty", "region_cty", desired.PolicyRetain, cat); len(got) != 1 || got[0].Kind != desired.KindDisable {
		t.Errorf("Retain: %s", render(got))
	}
	got := desired.PlanRetire("cty", "region_cty", desired.PolicyDelete, cat)
	if len(got) != 4 || !strings.HasPrefix(got[0].SQL, "DROP DATABASE") || got[1].SQL != `DROP ROLE IF EXISTS "region_cty_county"` {
		t.Errorf("Delete: %s", render(got))
	}
}

func TestConfirmation(t *testing.T) {
	for _, tc := range []struct {
		annotation string
		townships  []string
		want       bool
	}{
		{"", []string{"a", "b", "c", "d"}, true},
		{"a,b,c", []string{"a", "b", "c", "d"}, true},
		{"a,b,c,d", []string{"a", "b", "c", "d"}, false},
		{" d , c,b,a,gone", []string{"a", "b", "c", "d"}, false},
		{"cty", []string{"a", "b", "c", "d"}, true},
		{"", []string{"a", "b", "c"}, false},
	} {
		if got := desired.NeedsConfirmation(tc.annotation, tc.townships); got != tc.want {
			t.Errorf("NeedsConfirmation(%q, %v) = %v", tc.annotation, tc.townships, got)
		}
	}
}

// CREATE DATABASE cannot share a transaction with its COMMENT: a database left
// unmarked by an operator stopped between the two, owned by the Region's marked owner
// role, is the Region's and gets its mark; one owned by anyone else is a conflict.
func TestUnmarkedDatabaseOfTheRegionsOwnerIsTakenBack(t *testing.T) {
	r := desired.Database(county(1, platformv1.DeletionPolicyRetain), "test-cluster", allPlaced)
	cat := applied(r)
	cat.Database.Comment, cat.Database.Owner = "", r.Owner
	plan := desired.PlanDatabase(r, cat)
	if plan.Blocked || len(plan.Conflicts) > 0 || !strings.Contains(render(plan.Statements), `COMMENT ON DATABASE "region_cty"`) {
		t.Errorf("the Region's own unmarked database: %+v\n%s", plan.Conflicts, render(plan.Statements))
	}
	cat.Database.Owner = "someone"
	if plan := desired.PlanDatabase(r, cat); !plan.Blocked || len(plan.Conflicts) != 1 {
		t.Errorf("an unmarked database of another owner must be a conflict: %+v", plan)
	}
}

// A role or database marked before markers named the cluster is taken over once and
// marked as this cluster's; one marked by another cluster is a conflict, left alone.
func TestMarkersNameTheCluster(t *testing.T) {
	r := desired.Database(county(1, platformv1.DeletionPolicyDelete), "test-cluster", allPlaced)
	cat := applied(r)
	for name, role := range cat.Roles {
		role.Comment = desired.LegacyMarker(r.Region)
		cat.Roles[name] = role
	}
	cat.Database.Comment = desired.LegacyMarker(r.Region)
	plan := desired.PlanDatabase(r, cat)
	text := render(plan.Statements)
	if len(plan.Conflicts) > 0 || strings.Count(text, "COMMENT ON ROLE") != 4 || !strings.Contains(text, "COMMENT ON DATABASE") ||
		!strings.Contains(text, "in cluster test-cluster") {
		t.Errorf("legacy markers are not taken over: %v\n%s", plan.Conflicts, text)
	}
	other := applied(r)
	for name, role := range other.Roles {
		role.Comment = desired.Marker(r.Region, r.UID, "another-cluster")
		other.Roles[name] = role
	}
	other.Database.Comment = desired.Marker(r.Region, r.UID, "another-cluster")
	other.Database.Schemas = append(other.Database.Schemas, "gone")
	other.Roles[r.TownshipRolePrefix+"gone"] = desired.Role{Login: true, Comment: desired.Marker(r.Region, r.UID, "another-cluster")}
	plan = desired.PlanDatabase(r, other)
	if !plan.Blocked || len(plan.Statements) > 0 {
		t.Errorf("another cluster's Region is not this one's: %s", render(plan.Statements))
	}
}

// The supervisor reads base and partitioned tables, granted one by one; views and the
// like are taken away, and default privileges (which would cover views) revoked.
func TestSupervisorReadsBaseTablesOnly(t *testing.T) {
	r := desired.Database(county(1, platformv1.DeletionPolicyRetain), "test-cluster", allPlaced)
	cat := applied(r)
	cat.Database.SupervisorDefaults[r.Townships[0].Role+"/t1"] = true
	cat.Database.Relations = []desired.Relation{
		{Schema: "t1", Name: "ledger", Kind: "r"},
		{Schema: "t1", Name: "parts", Kind: "p"},
		{Schema: "t1", Name: "read", Kind: "r", SupervisorReads: true},
		{Schema: "t1", Name: "leak", Kind: "v", SupervisorReads: true},
		{Schema: "t1", Name: "hidden", Kind: "v"},
		{Schema: "t1", Name: "policed", Kind: "r", SupervisorReads: true, RowSecurity: true},
		{Schema: "elsewhere", Name: "x", Kind: "r"},
	}
	got := render(desired.PlanDatabase(r, cat).Statements)
	for _, want := range []string{
		`ALTER DEFAULT PRIVILEGES FOR ROLE "region_cty_t1" IN SCHEMA "t1" REVOKE SELECT ON TABLES FROM "region_cty_supervisor"`,
		`GRANT SELECT ON "t1"."ledger" TO "region_cty_supervisor"`,
		`GRANT SELECT ON "t1"."parts" TO "region_cty_supervisor"`,
		`REVOKE SELECT ON "t1"."leak" FROM PUBLIC, "region_cty_supervisor"`,
		`REVOKE SELECT ON "t1"."policed" FROM PUBLIC, "region_cty_supervisor"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	for _, not := range []string{`"t1"."read"`, `"t1"."hidden"`, `"elsewhere"`} {
		if strings.Contains(got, not) {
			t.Errorf("%s touched:\n%s", not, got)
		}
	}
}

// A Region re-created under a deleted one's name (another UID) does not take the
// database objects the deleted one retained: they are conflicts, and none is dropped,
// unless the new Region adopts the old UID (platform.jiceng.io/adopt), when they are
// marked as its own first and only then subject to its deletion policy.
func TestRecreatedRegionDoesNotTakeTheRetainedDatabase(t *testing.T) {
	old := desired.Database(county(3, platformv1.DeletionPolicyRetain), "test-cluster", allPlaced)
	cat := applied(old)
	again := county(1, platformv1.DeletionPolicyDelete)
	again.UID = "uid-new"
	r := desired.Database(again, "test-cluster", allPlaced)
	plan := desired.PlanDatabase(r, cat)
	if !plan.Blocked || len(kinds(plan.Statements, desired.KindDrop)) > 0 || len(plan.Conflicts) == 0 {
		t.Errorf("the retained database was taken: %v\n%s", plan.Conflicts, render(plan.Statements))
	}
	r.Adopt = "uid-cty"
	plan = desired.PlanDatabase(r, cat)
	text := render(plan.Statements)
	if plan.Blocked || len(kinds(plan.Statements, desired.KindDrop)) > 0 || !strings.Contains(text, "(uid uid-new)") {
		t.Errorf("adopting: blocked %v, conflicts %v\n%s", plan.Blocked, plan.Conflicts, text)
	}
	if !strings.Contains(text, `COMMENT ON ROLE "region_cty_t2"`) {
		t.Errorf("a left role of the adopted Region is not marked as the new one's first:\n%s", text)
	}
}

// A township role whose schema is already gone (a removal stopped between its
// transactions) is still removed: dropped under Delete, its login disabled under Retain.
func TestRoleLeftWithoutItsSchemaIsRemoved(t *testing.T) {
	for _, policy := range []platformv1.DeletionPolicy{platformv1.DeletionPolicyDelete, platformv1.DeletionPolicyRetain} {
		full := desired.Database(county(2, policy), "test-cluster", allPlaced)
		cat := applied(full)
		cat.Database.Schemas = slices.DeleteFunc(cat.Database.Schemas, func(s string) bool { return s == "t2" })
		rg := county(2, policy)
		rg.Spec.Townships = rg.Spec.Townships[:1]
		plan := desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), cat)
		text := render(plan.Statements)
		want := `DROP ROLE IF EXISTS "region_cty_t2"`
		if policy == platformv1.DeletionPolicyRetain {
			want = `ALTER ROLE "region_cty_t2" NOLOGIN`
		}
		if !strings.Contains(text, want) || strings.Contains(text, `DROP SCHEMA IF EXISTS "t2"`) {
			t.Errorf("%s: want %s without dropping a schema:\n%s", policy, want, text)
		}
	}
}

// A credential Secret hands the services the server's CA, and its URI and sslrootcert
// name where the platform's pods mount it; without a CA it names none.
func TestCredentialSecretCarriesTheCA(t *testing.T) {
	rg := sample(t)
	c := desired.Credentials(rg)[2]
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	with := desired.CredentialSecret(rg.Name, c, desired.Server{Host: "pg.example", Port: 5432, SSLMode: "verify-full", CACert: ca}, "db", "pw", desired.SecretState{})
	if got := string(with.Data["ca.crt"]); got != ca {
		t.Errorf("ca.crt = %q, want the DatabaseServer's CA", got)
	}
	if got := string(with.Data["sslrootcert"]); got != naming.DatabaseCAFile {
		t.Errorf("sslrootcert = %q, want %s", got, naming.DatabaseCAFile)
	}
	if uri := string(with.Data["uri"]); !strings.Contains(uri, "sslmode=verify-full") || !strings.Contains(uri, "sslrootcert=%2Fetc%2Fjiceng%2Fdatabase%2Fca.crt") {
		t.Errorf("uri %q does not verify with the mounted CA", uri)
	}
	without := desired.CredentialSecret(rg.Name, c, desired.Server{Host: "pg.example", Port: 5432, SSLMode: "require"}, "db", "pw", desired.SecretState{})
	for _, k := range []string{"ca.crt", "sslrootcert"} {
		if _, ok := without.Data[k]; ok {
			t.Errorf("without a CA the Secret still has %s", k)
		}
	}
	if uri := string(without.Data["uri"]); strings.Contains(uri, "sslrootcert") {
		t.Errorf("without a CA the uri %q names a root certificate", uri)
	}
}
