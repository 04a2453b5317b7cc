package desired_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
)

// sqlOf lists the statements' SQL, for comparing plans as a person reads them.
func sqlOf(sts []desired.Statement) []string {
	out := make([]string, len(sts))
	for i, s := range sts {
		out[i] = s.SQL
	}
	return out
}

// A rename carries the schema and the role over in place, before any role is made:
// the new name's role is never created, nothing is dropped, and the history records it.
func TestRenameCarriesSchemaAndRole(t *testing.T) {
	before := county(3, platformv1.DeletionPolicyDelete)
	cat := applied(desired.Database(before, "test-cluster", allPlaced))
	after := county(3, platformv1.DeletionPolicyDelete)
	after.Spec.Townships[1].Name = "t2-zhen"
	after.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "t2", Code: "350599102"}}
	plan := desired.PlanDatabase(desired.Database(after, "test-cluster", allPlaced), cat)

	got := sqlOf(plan.Statements)
	want := []string{
		`ALTER ROLE "region_cty_t2" RENAME TO "region_cty_t2_zhen"`,
		`ALTER ROLE "region_cty_t2_zhen" PASSWORD '<password>'`,
		`SET LOCAL ROLE "region_cty"`,
		`ALTER SCHEMA "t2" RENAME TO "t2_zhen"`,
	}
	if len(got) < 4 || !slices.Equal(got[:4], want) {
		t.Fatalf("the plan does not open with the rename:\n%s", render(plan.Statements))
	}
	for _, s := range plan.Statements {
		if s.Kind.Destructive() || strings.HasPrefix(s.SQL, "CREATE ROLE") || strings.HasPrefix(s.SQL, "CREATE SCHEMA") {
			t.Errorf("a rename runs %s", s.SQL)
		}
	}
	if !slices.ContainsFunc(plan.Statements, func(s desired.Statement) bool {
		return strings.HasPrefix(s.SQL, "INSERT INTO org.township_history") && slices.Equal(s.Args, []any{"t2", "350599102", "t2-zhen", "350599102", "rename"}) && s.Tx == plan.Statements[0].Tx
	}) {
		t.Errorf("the rename is not recorded in org.township_history:\n%s", render(plan.Statements))
	}
	if !slices.Contains(got, `ALTER ROLE "region_cty_t2_zhen" SET search_path = "t2_zhen", "org"`) {
		t.Errorf("the renamed role keeps the old search_path:\n%s", render(plan.Statements))
	}
	if len(plan.Dropped) > 0 || len(plan.Retained) > 0 {
		t.Errorf("a rename drops %v, retains %v", plan.Dropped, plan.Retained)
	}
	if !slices.Equal(plan.Carried, []string{"t2 renamed to t2-zhen"}) {
		t.Errorf("carried %v", plan.Carried)
	}

	// Once done, the next plan is empty.
	done := applied(desired.Database(after, "test-cluster", allPlaced))
	done.Database.History = []desired.HistoryRow{{FormerName: "t2", FormerCode: "350599102", Name: "t2-zhen", Code: "350599102", Kind: "rename"}}
	if plan := desired.PlanDatabase(desired.Database(after, "test-cluster", allPlaced), done); len(plan.Statements) > 0 {
		t.Errorf("a finished rename plans again:\n%s", render(plan.Statements))
	}
}

// A renamed township whose Secret is not in place yet waits: its role is neither
// renamed nor made.
func TestRenameWaitsForTheSecret(t *testing.T) {
	before := county(2, platformv1.DeletionPolicyRetain)
	cat := applied(desired.Database(before, "test-cluster", allPlaced))
	after := county(2, platformv1.DeletionPolicyRetain)
	after.Spec.Townships[1].Name = "t2-zhen"
	after.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "t2", Code: "350599102"}}
	plan := desired.PlanDatabase(desired.Database(after, "test-cluster", func(t string) bool { return t != "t2-zhen" }), cat)
	for _, s := range plan.Statements {
		if strings.Contains(s.SQL, `"t2"`) || strings.Contains(s.SQL, `"region_cty_t2`) {
			t.Errorf("a township without its Secret gets %s", s.SQL)
		}
	}
}

// A merge keeps each former schema with its data: the tables become the successor's,
// the former logins are disabled, and not even deletionPolicy Delete drops a merged
// schema, while formerly names it or after, while the history leads to the spec.
func TestMergeKeepsEveryFormerSchema(t *testing.T) {
	before := county(4, platformv1.DeletionPolicyDelete)
	cat := applied(desired.Database(before, "test-cluster", allPlaced))
	after := county(4, platformv1.DeletionPolicyDelete)
	merged := platformv1.Township{Name: "t9", DisplayName: "新镇", Code: "350599109", Formerly: []platformv1.FormerTownship{
		{Name: "t2", Code: "350599102"}, {Name: "t3", Code: "350599103"}}}
	after.Spec.Townships = []platformv1.Township{after.Spec.Townships[0], after.Spec.Townships[3], merged}
	r := desired.Database(after, "test-cluster", allPlaced)
	plan := desired.PlanDatabase(r, cat)
	got := sqlOf(plan.Statements)
	for _, want := range []string{
		`CREATE ROLE "region_cty_t9" LOGIN PASSWORD '<password>'`,
		`CREATE SCHEMA "t9"`,
		`REASSIGN OWNED BY "region_cty_t2" TO "region_cty_t9"`,
		`ALTER ROLE "region_cty_t2" NOLOGIN`,
		`REVOKE ALL ON SCHEMA "t2" FROM "region_cty_t2"`,
		`GRANT USAGE, CREATE ON SCHEMA "t2" TO "region_cty_t9"`,
		`REASSIGN OWNED BY "region_cty_t3" TO "region_cty_t9"`,
		`ALTER ROLE "region_cty_t3" NOLOGIN`,
		`GRANT USAGE, CREATE ON SCHEMA "t3" TO "region_cty_t9"`,
		`ALTER ROLE "region_cty_t9" SET search_path = "t9", "org", "t2", "t3"`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("the merge lacks %s:\n%s", want, render(plan.Statements))
		}
	}
	if len(kinds(plan.Statements, desired.KindDrop)) > 0 || len(plan.Dropped) > 0 {
		t.Errorf("a merge drops: %v", kinds(plan.Statements, desired.KindDrop))
	}
	if i, j := slices.Index(got, `CREATE ROLE "region_cty_t9" LOGIN PASSWORD '<password>'`), slices.Index(got, `REASSIGN OWNED BY "region_cty_t2" TO "region_cty_t9"`); i > j {
		t.Error("the tables are given to the successor before its role exists")
	}

	// Done: the former roles cannot log in and the history has both. formerly is then
	// taken out of the spec; the merged schemas are still the successor's.
	done := applied(r)
	for _, f := range []string{"t2", "t3"} {
		done.Roles["region_cty_"+f] = desired.Role{Comment: done.Roles["region_cty_t1"].Comment}
		done.Database.Schemas = append(done.Database.Schemas, f)
	}
	done.Database.History = []desired.HistoryRow{
		{FormerName: "t2", FormerCode: "350599102", Name: "t9", Code: "350599109", Kind: "merge"},
		{FormerName: "t3", FormerCode: "350599103", Name: "t9", Code: "350599109", Kind: "merge"},
	}
	if plan := desired.PlanDatabase(r, done); len(kinds(plan.Statements, desired.KindDrop)) > 0 || len(kinds(plan.Statements, desired.KindDisable)) > 0 {
		t.Errorf("a finished merge still plans:\n%s", render(plan.Statements))
	}
	after.Spec.Townships[2].Formerly = nil
	plan = desired.PlanDatabase(desired.Database(after, "test-cluster", allPlaced), done)
	if drops := kinds(plan.Statements, desired.KindDrop); len(drops) > 0 {
		t.Errorf("formerly taken out of the spec drops the merged schemas: %v", drops)
	}
	// The successor leaves the spec: what was merged into it leaves with it.
	after.Spec.Townships = after.Spec.Townships[:2]
	plan = desired.PlanDatabase(desired.Database(after, "test-cluster", allPlaced), done)
	if !slices.Equal(plan.Dropped, []string{"t2", "t3", "t9"}) {
		t.Errorf("the successor removed under Delete drops %v", plan.Dropped)
	}
}

// A merge found by a reconcile that did not observe everything waits: no login is
// disabled on a failure.
func TestMergeWaitsForACleanReconcile(t *testing.T) {
	before := county(3, platformv1.DeletionPolicyRetain)
	cat := applied(desired.Database(before, "test-cluster", allPlaced))
	after := county(3, platformv1.DeletionPolicyRetain)
	after.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "t2", Code: "350599102"}}
	after.Spec.Townships = slices.Delete(after.Spec.Townships, 1, 2)
	r := desired.Database(after, "test-cluster", allPlaced)
	r.Clean = false
	plan := desired.PlanDatabase(r, cat)
	if d := kinds(plan.Statements, desired.KindDisable); len(d) > 0 {
		t.Errorf("an unclean reconcile disables %v", d)
	}
	if plan.Withheld == "" {
		t.Error("the plan does not say the merge waits")
	}
	r.Clean = true
	plan = desired.PlanDatabase(r, cat)
	if d := kinds(plan.Statements, desired.KindDisable); !slices.Equal(d, []string{`ALTER ROLE "region_cty_t2" NOLOGIN`}) {
		t.Errorf("t2 merged into t1 (which keeps its name) disables %v", d)
	}
}

// A new code under the same name (撤乡设镇) moves the directory row and records the
// history; schema and role stay as they are.
func TestRecodeMovesTheDirectoryRow(t *testing.T) {
	before := county(2, platformv1.DeletionPolicyDelete)
	before.Spec.Townships[1].Code = "350599202"
	cat := applied(desired.Database(before, "test-cluster", allPlaced))
	after := county(2, platformv1.DeletionPolicyDelete)
	after.Spec.Townships[1].Code = "350599120"
	after.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "t2", Code: "350599202"}}
	plan := desired.PlanDatabase(desired.Database(after, "test-cluster", allPlaced), cat)
	var dml []string
	for _, s := range plan.Statements {
		if s.Kind == desired.KindDML {
			dml = append(dml, fmt.Sprintf("%s %v", strings.Join(strings.Fields(s.SQL)[:3], " "), s.Args))
		}
	}
	want := []string{
		"INSERT INTO org.township_history [t2 350599202 t2 350599120 recode]",
		"DELETE FROM org.township [350599202]",
		"INSERT INTO org.township [350599120 t2 镇2 region_cty_t2 town]",
	}
	if !slices.Equal(dml, want) {
		t.Errorf("directory statements:\n%s\nwant\n%s", strings.Join(dml, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range plan.Statements {
		if s.Kind != desired.KindDML && s.Kind != desired.KindSession {
			t.Errorf("a recode runs %s", s.SQL)
		}
	}
}

func TestClassesFollowTheCodes(t *testing.T) {
	for code, want := range map[string]string{
		"350782001": desired.ClassSubdistrict, "350782099": desired.ClassSubdistrict,
		"350782100": desired.ClassTown, "350782199": desired.ClassTown,
		"350782200": desired.ClassTownship, "350782399": desired.ClassTownship,
		"350782400": desired.ClassCombined, "350782599": desired.ClassCombined,
		"350782000": "", "350782600": "", "3507": "",
	} {
		if got := desired.TownshipClass(code); got != want {
			t.Errorf("TownshipClass(%s) = %q, want %q", code, got, want)
		}
	}
	for code, want := range map[string]string{
		"350782001001": desired.VillageResidents, "350782001199": desired.VillageResidents,
		"350782200201": desired.VillageVillagers, "350782200399": desired.VillageVillagers,
		"350782203400": "", "": "",
	} {
		if got := desired.VillageClass(code); got != want {
			t.Errorf("VillageClass(%s) = %q, want %q", code, got, want)
		}
	}
}

func TestClassWarnings(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    platformv1.Township
		want []string
	}{
		{"names and codes agree", platformv1.Township{Name: "chongan", DisplayName: "崇安街道", Code: "350782001", Branches: []platformv1.Branch{
			{Name: "yingpan", Kind: platformv1.BranchCommunity, Code: "350782001001"},
			{Name: "chengnan", Kind: platformv1.BranchVillage, Code: "350782001201"},
			{Name: "jiguan", Kind: platformv1.BranchOrgan},
		}}, nil},
		{"a 镇 with a 乡's code", platformv1.Township{Name: "shangmei", DisplayName: "上梅镇", Code: "350782200"},
			[]string{"上梅镇 is named as a town (镇) but its code 350782200 (digits 7–9 200–399) is a township (乡)"}},
		{"a 乡 with a subdistrict's code", platformv1.Township{Name: "wutun", DisplayName: "吴屯乡", Code: "350782002"},
			[]string{"吴屯乡 is named as a township (乡) but its code 350782002 (digits 7–9 001–099) is a subdistrict (街道)"}},
		{"a 街道 with a town's code", platformv1.Township{Name: "wuyi", DisplayName: "武夷街道", Code: "350782103"},
			[]string{"武夷街道 is named as a subdistrict (街道) but its code 350782103 (digits 7–9 100–199) is a town (镇)"}},
		{"a name of no class", platformv1.Township{Name: "farm", DisplayName: "茶场", Code: "350782400"}, nil},
		{"a Village branch with a residents' committee code", platformv1.Township{Name: "wutun", DisplayName: "吴屯乡", Code: "350782201", Branches: []platformv1.Branch{
			{Name: "wutun-ju", Kind: platformv1.BranchVillage, Code: "350782201001"}}},
			[]string{"branch wutun-ju is of kind Village but its code 350782201001 (digits 10–12 001–199) is a residents' committee's (社区/居委会)"}},
		{"a Community branch with a villagers' committee code", platformv1.Township{Name: "wutun", DisplayName: "吴屯乡", Code: "350782201", Branches: []platformv1.Branch{
			{Name: "wubian", Kind: platformv1.BranchCommunity, Code: "350782201201"}}},
			[]string{"branch wubian is of kind Community but its code 350782201201 (digits 10–12 200–399) is a villagers' committee's (村委会)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := desired.ClassWarnings(tc.t); !slices.Equal(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A township's quota is its own over its class's over the Region's default, field by
// field.
func TestQuotaByClass(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	d := platformv1.Defaults{
		Quota:       platformv1.Quota{CPU: q("4"), Memory: q("8Gi"), Pods: q("40")},
		ClassQuotas: platformv1.ClassQuotas{Subdistrict: &platformv1.Quota{CPU: q("16"), Memory: q("32Gi")}, Township: &platformv1.Quota{CPU: q("2")}},
	}
	for _, tc := range []struct {
		t                 platformv1.Township
		cpu, memory, pods string
	}{
		{platformv1.Township{Code: "350782001"}, "16", "32Gi", "40"},
		{platformv1.Township{Code: "350782100"}, "4", "8Gi", "40"},
		{platformv1.Township{Code: "350782200"}, "2", "8Gi", "40"},
		{platformv1.Township{Code: "350782002", Quota: &platformv1.Quota{Memory: q("64Gi")}}, "16", "64Gi", "40"},
	} {
		got := desired.TownshipQuota(d, &tc.t)
		if got.CPU.String() != tc.cpu || got.Memory.String() != tc.memory || got.Pods.String() != tc.pods {
			t.Errorf("%s: cpu %s memory %s pods %s, want %s %s %s", tc.t.Code, got.CPU, got.Memory, got.Pods, tc.cpu, tc.memory, tc.pods)
		}
	}
}

// The second sample county's names and codes agree, and its subdistricts, towns and
// townships each get their class's quota.
func TestWuyishanSample(t *testing.T) {
	data, err := os.ReadFile("../../config/samples/platform_v1alpha1_region_wuyishan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rg := &platformv1.Region{}
	if err := yaml.UnmarshalStrict(data, rg); err != nil {
		t.Fatal(err)
	}
	classes := map[string]int{}
	cpu := map[string]string{}
	for i := range rg.Spec.Townships {
		tw := &rg.Spec.Townships[i]
		if w := desired.ClassWarnings(*tw); len(w) > 0 {
			t.Errorf("%s: %v", tw.Name, w)
		}
		class := desired.TownshipClass(tw.Code)
		classes[class]++
		cpu[class] = desired.TownshipQuota(rg.Spec.Defaults, tw).CPU.String()
	}
	if want := map[string]int{desired.ClassSubdistrict: 3, desired.ClassTown: 3, desired.ClassTownship: 4}; !maps.Equal(classes, want) {
		t.Errorf("classes %v, want %v", classes, want)
	}
	if want := map[string]string{desired.ClassSubdistrict: "8", desired.ClassTown: "4", desired.ClassTownship: "2"}; !maps.Equal(cpu, want) {
		t.Errorf("cpu by class %v, want %v", cpu, want)
	}
}

// The hub's roles and schemas are never a former township's, whatever reaches the
// planner: a township claiming to have been the supervisor or the county gets nothing.
func TestReservedFormerNamesCarryNothing(t *testing.T) {
	rg := county(2, platformv1.DeletionPolicyDelete)
	cat := applied(desired.Database(rg, "test-cluster", allPlaced))
	rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "x", DisplayName: "某镇", Code: "350599150",
		Formerly: []platformv1.FormerTownship{{Name: "supervisor", Code: "350599998"}, {Name: "county", Code: "350599999"}, {Name: "org", Code: "350599997"}}})
	r := desired.Database(rg, "test-cluster", allPlaced)
	if f := r.Townships[2].Formerly; len(f) > 0 {
		t.Errorf("formerly kept %v", f)
	}
	for _, s := range desired.PlanDatabase(r, cat).Statements {
		if strings.Contains(s.SQL, "RENAME") || strings.Contains(s.SQL, "REASSIGN") || s.Kind.Destructive() {
			t.Errorf("a reserved former name plans %s", s.SQL)
		}
	}
}

// A township that was merged into another of the spec cannot come back under its old
// name (its schema holds the successor's tables): a conflict, and nothing of it is
// made or enabled. After a rename, the old name may be used again: a new township.
func TestMergedNameCannotComeBack(t *testing.T) {
	rg := county(3, platformv1.DeletionPolicyDelete)
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "t9", Code: "350599109"}}
	r := desired.Database(rg, "test-cluster", allPlaced)
	cat := applied(r)
	cat.Roles["region_cty_t9"] = desired.Role{Comment: cat.Roles["region_cty_t1"].Comment}
	cat.Database.Schemas = append(cat.Database.Schemas, "t9")
	cat.Database.History = []desired.HistoryRow{{FormerName: "t9", FormerCode: "350599109", Name: "t1", Code: "350599101", Kind: "merge"}}

	rg.Spec.Townships[0].Formerly = nil
	rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "t9", DisplayName: "镇9", Code: "350599109"})
	plan := desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), cat)
	if len(plan.Conflicts) != 1 || !strings.Contains(plan.Conflicts[0].Error(), "t9 was merged into t1") {
		t.Errorf("conflicts %v", plan.Conflicts)
	}
	for _, s := range plan.Statements {
		if strings.Contains(s.SQL, `"region_cty_t9"`) {
			t.Errorf("the merged name back in the spec gets %s", s.SQL)
		}
	}

	// Renamed, not merged: t9 is a new township of that name.
	cat.Database.History[0].Kind = "rename"
	delete(cat.Roles, "region_cty_t9")
	cat.Database.Schemas = slices.DeleteFunc(cat.Database.Schemas, func(s string) bool { return s == "t9" })
	plan = desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), cat)
	if len(plan.Conflicts) > 0 || !slices.Contains(sqlOf(plan.Statements), `CREATE ROLE "region_cty_t9" LOGIN PASSWORD '<password>'`) {
		t.Errorf("a renamed township's old name is not free again: %v\n%s", plan.Conflicts, render(plan.Statements))
	}
	// And it leaves the spec as any township does: the rename's history keeps nothing.
	done := applied(desired.Database(rg, "test-cluster", allPlaced))
	done.Database.History = cat.Database.History
	rg.Spec.Townships = rg.Spec.Townships[:3]
	plan = desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), done)
	if !slices.Equal(plan.Dropped, []string{"t9"}) {
		t.Errorf("dropped %v", plan.Dropped)
	}
}

// A rename onto the name of a township removed earlier and retained would hand the
// former township's data to that old login: a conflict, nothing renamed or merged.
func TestRenameOntoARetainedTownshipIsAConflict(t *testing.T) {
	rg := county(3, platformv1.DeletionPolicyRetain)
	cat := applied(desired.Database(rg, "test-cluster", allPlaced))
	old := cat.Roles["region_cty_t3"]
	old.Login = false
	cat.Roles["region_cty_t3"] = old
	cat.Database.Townships = cat.Database.Townships[:2]
	rg.Spec.Townships = rg.Spec.Townships[:2]
	rg.Spec.Townships[1] = platformv1.Township{Name: "t3", DisplayName: "镇3", Code: "350599102", Formerly: []platformv1.FormerTownship{{Name: "t2", Code: "350599102"}}}
	plan := desired.PlanDatabase(desired.Database(rg, "test-cluster", allPlaced), cat)
	if len(plan.Conflicts) != 1 || !strings.Contains(plan.Conflicts[0].Error(), "removed earlier and retained") {
		t.Errorf("conflicts %v", plan.Conflicts)
	}
	for _, s := range plan.Statements {
		if strings.Contains(s.SQL, "RENAME") || strings.Contains(s.SQL, "REASSIGN") || strings.Contains(s.SQL, `"region_cty_t3" LOGIN`) {
			t.Errorf("a rename onto a retained township plans %s", s.SQL)
		}
	}
}

// A merged township's login enabled again by hand is disabled again: the spec says
// its data is the successor's.
func TestMergedLoginStaysDisabled(t *testing.T) {
	rg := county(2, platformv1.DeletionPolicyRetain)
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "t9", Code: "350599109"}}
	r := desired.Database(rg, "test-cluster", allPlaced)
	cat := applied(r)
	cat.Roles["region_cty_t9"] = desired.Role{Login: true, Comment: cat.Roles["region_cty_t1"].Comment}
	cat.Database.Schemas = append(cat.Database.Schemas, "t9")
	cat.Database.History = []desired.HistoryRow{{FormerName: "t9", FormerCode: "350599109", Name: "t1", Code: "350599101", Kind: "merge"}}
	if d := kinds(desired.PlanDatabase(r, cat).Statements, desired.KindDisable); !slices.Equal(d, []string{`ALTER ROLE "region_cty_t9" NOLOGIN`}) {
		t.Errorf("disables %v", d)
	}
	r.Clean = false
	if d := kinds(desired.PlanDatabase(r, cat).Statements, desired.KindDisable); len(d) > 0 {
		t.Errorf("an unclean reconcile disables %v", d)
	}
}
