package controllers_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// An adjustment the division list cannot have made is refused by the API server, with
// the field named: the operator never sees it.
func TestImpossibleAdjustmentsAreRefused(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*platformv1.Region)
		want   string
	}{
		{"a former township still in the spec", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
		}, "spec.townships[].formerly[] names a township that is still in spec.townships"},
		{"a former code another township of the spec has", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "old-fengcheng", Code: "350524100"}}
		}, "spec.townships[].formerly[] names a township that is still in spec.townships"},
		{"one former township claimed by two", func(r *platformv1.Region) {
			r.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}}
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}}
		}, "the same former township (name or code) is claimed twice"},
		{"one former code under two names", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}, {Name: "shangqing-xiang", Code: "350524203"}}
		}, "the same former township (name or code) is claimed twice"},
		{"a former code of another county", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "taocheng", Code: "350525100"}}
		}, "spec.townships[].formerly[].code must extend the county code spec.code"},
		{"a former code of 8 digits", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "taocheng", Code: "35052410"}}
		}, "spec.townships[1].formerly[0].code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			rg := sampleRegion("invalid")
			tc.mutate(rg)
			err := k8s.Create(context.Background(), rg, dryRunAll)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// A change of code or of name for a code is refused unless formerly says what the
// township was; with it, both go through.
func TestRecodeAndRenameNeedFormerly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("recode")
	createRegion(t, sampleRegion(name))

	rg := getRegion(g, name)
	rg.Spec.Townships[0].Code = "350524199"
	err := k8s.Update(ctx, rg, dryRunAll)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[fengcheng].code is immutable"))
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[fengcheng].formerly"))
	rg.Spec.Townships[0].Branches[1].Code = "350524199201"
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
	g.Expect(k8s.Update(ctx, rg, dryRunAll)).To(Succeed(), "a recode that names the old code")

	// Today's hole: the township's code under a new name made a second namespace with
	// the same code beside the first.
	rg = getRegion(g, name)
	rg.Spec.Townships[0].Name = "fengcheng-zhen"
	err = k8s.Update(ctx, rg, dryRunAll)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[].name: a township took the code of a township the Region had under another name"))
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
	g.Expect(k8s.Update(ctx, rg, dryRunAll)).To(Succeed(), "a rename that names the old name")
}

// withTownships gives a Region with a database these townships, branchless.
func withTownships(name string, policy platformv1.DeletionPolicy, townships ...platformv1.Township) *platformv1.Region {
	rg := dbRegion(name)
	rg.Spec.DeletionPolicy = policy
	rg.Spec.Townships = townships
	return rg
}

// history reads org.township_history as the superuser.
func history(g Gomega, su *pgx.Conn) []string {
	rows, err := su.Query(context.Background(), `SELECT former_name || ' ' || former_code || ' -> ' || name || ' ' || code FROM org.township_history ORDER BY 1`)
	g.Expect(err).NotTo(HaveOccurred())
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	g.Expect(err).NotTo(HaveOccurred())
	return out
}

// 撤乡设镇: a 乡 becomes a 镇 with a new code. Keeping its name, it keeps everything;
// taking a new name too, its schema and login are renamed in place, so its table rows
// stay and its old password logs in as the new role.
func TestTownshipUpgradedToATownKeepsItsData(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("upgrade")
	createRegion(t, withTownships(name, platformv1.DeletionPolicyDelete,
		platformv1.Township{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100"},
		platformv1.Township{Name: "hushang", DisplayName: "湖上乡", Code: "350524201"},
		platformv1.Township{Name: "bailai-xiang", DisplayName: "白濑乡", Code: "350524202"},
	))
	waitReady(t, name)
	hushang := credential(g, name+"-hushang", "database")
	bailai := credential(g, name+"-bailai-xiang", "database")
	for _, c := range []struct {
		l      login
		schema string
	}{{hushang, "hushang"}, {bailai, "bailai_xiang"}} {
		conn := connectAs(g, c.l)
		g.Expect(exec(conn, `CREATE TABLE `+c.schema+`.households (id int, head text); INSERT INTO `+c.schema+`.households VALUES (1, '王'), (2, '李')`)).To(Succeed())
		conn.Close(ctx)
	}
	g.Expect(getNamespace(g, name+"-hushang").Labels).To(HaveKeyWithValue(naming.LabelClass, "township"))

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships[1] = platformv1.Township{Name: "hushang", DisplayName: "湖上镇", Code: "350524115",
			Formerly: []platformv1.FormerTownship{{Name: "hushang", Code: "350524201"}}}
		rg.Spec.Townships[2] = platformv1.Township{Name: "bailai", DisplayName: "白濑镇", Code: "350524116",
			Formerly: []platformv1.FormerTownship{{Name: "bailai-xiang", Code: "350524202"}}}
	})
	rg := waitReady(t, name)
	g.Expect(rg.Status.PendingDestruction).To(BeEmpty())

	// Kept its name: the same namespace, now of the new code and class; the same login.
	ns := getNamespace(g, name+"-hushang")
	g.Expect(ns.Labels).To(And(HaveKeyWithValue(naming.LabelCode, "350524115"), HaveKeyWithValue(naming.LabelClass, "town")))
	g.Expect(credential(g, name+"-hushang", "database")).To(Equal(hushang))
	// Renamed: the new namespace's Secret carries the old password for the renamed role.
	renamed := credential(g, name+"-bailai", "database")
	g.Expect(renamed.user).To(Equal(naming.TownshipRole(name, "bailai")))
	g.Expect(renamed.password).To(Equal(bailai.password))
	old := login{user: renamed.user, password: bailai.password, db: bailai.db}
	for _, c := range []struct {
		l      login
		schema string
	}{{hushang, "hushang"}, {old, "bailai"}} {
		conn := connectAs(g, c.l)
		var n int
		g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM `+c.schema+`.households`).Scan(&n)).To(Succeed())
		g.Expect(n).To(Equal(2), "the rows of %s", c.schema)
		g.Expect(exec(conn, `INSERT INTO households VALUES (3, '张')`)).To(Succeed(), "its search_path leads to its own schema")
		conn.Close(ctx)
	}
	_, err := pg.Connect(ctx, bailai.user, bailai.password, bailai.db)
	g.Expect(err).To(HaveOccurred(), "the old role name is gone")

	// Namespaces cannot be renamed: the former one is retained, under Delete too, and
	// says which township it became; its Secret stays with it.
	former := getNamespace(g, name+"-bailai-xiang")
	g.Expect(former.DeletionTimestamp).To(BeNil())
	g.Expect(former.Labels).To(And(HaveKeyWithValue(naming.LabelRetained, "true"), HaveKeyWithValue(naming.LabelSuccessor, "bailai")))
	g.Expect(credential(g, name+"-bailai-xiang", "database").user).To(Equal(bailai.user))

	su := superuser(g, hushang.db)
	defer su.Close(ctx)
	rows, err := su.Query(ctx, `SELECT code || ' ' || name || ' ' || role_name || ' ' || class FROM org.township ORDER BY code`)
	g.Expect(err).NotTo(HaveOccurred())
	dir, err := pgx.CollectRows(rows, pgx.RowTo[string])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(dir).To(Equal([]string{
		"350524100 fengcheng " + naming.TownshipRole(name, "fengcheng") + " town",
		"350524115 hushang " + hushang.user + " town",
		"350524116 bailai " + renamed.user + " town",
	}))
	g.Expect(history(g, su)).To(Equal([]string{
		"bailai-xiang 350524202 -> bailai 350524116",
		"hushang 350524201 -> hushang 350524115",
	}))

	// Nothing more to do: a plan made now against the server is empty.
	g.Expect(planNow(g, name)).To(BeEmpty())
}

// planNow is what the operator would run for the Region against the server now.
func planNow(g Gomega, name string) []string {
	ctx := context.Background()
	kubeSystem := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "kube-system"}, kubeSystem)).To(Succeed())
	pool := pgsql.NewPool(pgsql.ServerConfig{Host: pg.Host, Port: pg.Port, User: pgAdmin, Password: pgAdminPassword, SSLMode: "disable", MaxConns: 2})
	defer pool.Close()
	db := desired.Database(getRegion(g, name), string(kubeSystem.UID), func(string) bool { return true })
	cat, err := pgsql.Snapshot(ctx, pool, db)
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, st := range desired.PlanDatabase(db, cat).Statements {
		out = append(out, st.SQL)
	}
	return out
}

// 乡镇合并: two townships become one. Each former schema stays with its data; the new
// township's login reads and writes both, the former logins are disabled; nothing is
// deleted, under Delete either.
func TestMergedTownshipsKeepTheirSchemas(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("merge")
	createRegion(t, withTownships(name, platformv1.DeletionPolicyDelete,
		platformv1.Township{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100"},
		platformv1.Township{Name: "taozhou", DisplayName: "桃舟乡", Code: "350524209"},
		platformv1.Township{Name: "futian", DisplayName: "福田乡", Code: "350524210"},
	))
	waitReady(t, name)
	formers := map[string]login{}
	for _, f := range []string{"taozhou", "futian"} {
		formers[f] = credential(g, name+"-"+f, "database")
		conn := connectAs(g, formers[f])
		g.Expect(exec(conn, `CREATE TABLE `+f+`.visits (id int); INSERT INTO `+f+`.visits VALUES (1)`)).To(Succeed())
		conn.Close(ctx)
	}

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = []platformv1.Township{rg.Spec.Townships[0], {Name: "taofu", DisplayName: "桃福镇", Code: "350524117",
			Formerly: []platformv1.FormerTownship{{Name: "taozhou", Code: "350524209"}, {Name: "futian", Code: "350524210"}}}}
	})
	rg := waitReady(t, name)
	g.Expect(rg.Status.PendingDestruction).To(BeEmpty())
	for f, l := range formers {
		g.Expect(rg.Status.Retained).To(ContainElement(platformv1.RetainedObject{Kind: "Role", Name: l.user, Township: f}))
		_, err := pg.Connect(ctx, l.user, l.password, l.db)
		g.Expect(err).To(HaveOccurred(), "the former login of %s is disabled", f)
		ns := getNamespace(g, name+"-"+f)
		g.Expect(ns.DeletionTimestamp).To(BeNil(), "a merged township's namespace is retained under Delete")
		g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelSuccessor, "taofu"))
	}
	conn := connectAs(g, credential(g, name+"-taofu", "database"))
	defer conn.Close(ctx)
	for f := range formers {
		g.Expect(exec(conn, `INSERT INTO `+f+`.visits VALUES (2)`)).To(Succeed(), "the new township writes %s's table", f)
		var n int
		g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM `+f+`.visits`).Scan(&n)).To(Succeed())
		g.Expect(n).To(Equal(2), "the new township reads %s's rows", f)
	}
	su := superuser(g, formers["futian"].db)
	defer su.Close(ctx)
	g.Expect(history(g, su)).To(Equal([]string{"futian 350524210 -> taofu 350524117", "taozhou 350524209 -> taofu 350524117"}))

	// formerly is taken out of the spec a year later: the merged schemas are still the
	// new township's, as the history says.
	g.Expect(planNow(g, name)).To(BeEmpty())
	g.Expect(exec(conn, `CREATE TABLE futian.later (id int)`)).To(Succeed(), "the new township makes tables there")
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships[1].Formerly = nil })
	waitReady(t, name)
	g.Expect(exec(conn, `INSERT INTO taozhou.visits VALUES (3)`)).To(Succeed())
	g.Expect(planNow(g, name)).To(BeEmpty())
}

// A former township this Region never had is a warning on the row; the township is
// made as any new one.
func TestFormerTownshipNeverHadIsAWarning(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("never")
	rg := sampleRegion(name)
	rg.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "longmen-xiang", Code: "350524299"}}
	createRegion(t, rg)
	rg = waitReady(t, name)
	g.Expect(rg.Status.Townships[1].Message).To(ContainSubstring("formerly names longmen-xiang (code 350524299), which this Region never had: nothing was carried over from it"))
}

// A code a retained township had, taken by a new name two changes later (the API
// server only compares with the spec just before), is a warning naming the way to
// carry the data over; and formerly then carries it.
func TestCodeOfARetainedTownshipIsAWarning(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("reuse")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
	waitReady(t, name)
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "hutou-zhen", DisplayName: "湖头镇", Code: "350524102"})
	})
	rg := waitReady(t, name)
	g.Expect(row(rg, "hutou-zhen").Message).To(Equal("its code 350524102 was township hutou's, whose namespace is retained: to carry hutou's data over, name it in spec.townships[hutou-zhen].formerly"))
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "hutou", Code: "350524102"}}
	})
	rg = waitReady(t, name)
	g.Expect(row(rg, "hutou-zhen").Message).To(BeEmpty())
	g.Expect(getNamespace(g, name+"-hutou").Labels).To(HaveKeyWithValue(naming.LabelSuccessor, "hutou-zhen"))
}

// Codes mean what they mean: the class is on the namespace and picks the quota; where
// names and codes disagree, the row says so.
func TestCodeClasses(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("classes")
	rg := sampleRegion(name)
	rg.Spec.Code = "350782"
	rg.Spec.Townships = []platformv1.Township{
		{Name: "chongan", DisplayName: "崇安街道", Code: "350782001", Branches: []platformv1.Branch{
			{Name: "yingpan", DisplayName: "营盘社区党支部", Kind: platformv1.BranchCommunity, Code: "350782001001", Members: 20},
			{Name: "chengnan", DisplayName: "城南村党支部", Kind: platformv1.BranchCommunity, Code: "350782001201", Members: 20}}},
		{Name: "xingcun", DisplayName: "星村乡", Code: "350782100"},
		{Name: "wutun", DisplayName: "吴屯乡", Code: "350782201", Branches: []platformv1.Branch{
			{Name: "wutun-ju", DisplayName: "吴屯居委会党支部", Kind: platformv1.BranchVillage, Code: "350782201001", Members: 20}}},
	}
	rg.Spec.Defaults.ClassQuotas = platformv1.ClassQuotas{
		Subdistrict: &platformv1.Quota{CPU: quantity("16")},
		Township:    &platformv1.Quota{Memory: quantity("4Gi")},
	}
	createRegion(t, rg)
	rg = waitReady(t, name)
	g.Expect(rg.Status.Townships[0].Message).To(Equal("branch chengnan is of kind Community but its code 350782001201 (digits 10–12 200–399) is a villagers' committee's (村委会)"))
	g.Expect(rg.Status.Townships[1].Message).To(Equal("星村乡 is named as a township (乡) but its code 350782100 (digits 7–9 100–199) is a town (镇)"))
	g.Expect(rg.Status.Townships[2].Message).To(Equal("branch wutun-ju is of kind Village but its code 350782201001 (digits 10–12 001–199) is a residents' committee's (社区/居委会)"))

	for township, want := range map[string]struct{ class, cpu, memory string }{
		"chongan": {"subdistrict", "16", "8Gi"},
		"xingcun": {"town", "4", "8Gi"},
		"wutun":   {"township", "4", "4Gi"},
	} {
		ns := name + "-" + township
		g.Expect(getNamespace(g, ns).Labels).To(HaveKeyWithValue(naming.LabelClass, want.class))
		q := &corev1.ResourceQuota{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ResourceQuota}, q)).To(Succeed())
		g.Expect(q.Spec.Hard.Name(corev1.ResourceRequestsCPU, resource.DecimalSI).String()).To(Equal(want.cpu), township)
		g.Expect(q.Spec.Hard.Name(corev1.ResourceRequestsMemory, resource.BinarySI).String()).To(Equal(want.memory), township)
	}
	dir := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: naming.DirectoryConfigMap}, dir)).To(Succeed())
	g.Expect(dir.Data[naming.DirectoryKey]).To(ContainSubstring(`"class": "subdistrict"`))
}

// A merge is what disables the former logins; the same step reached while a failure
// keeps the reconcile from seeing everything (a township's namespace deleted by hand)
// disables nothing, and is carried out once the failure is gone.
func TestMergeWaitsWhileATownshipIsMissing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("mergewait")
	createRegion(t, withTownships(name, platformv1.DeletionPolicyDelete,
		platformv1.Township{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100"},
		platformv1.Township{Name: "taozhou", DisplayName: "桃舟乡", Code: "350524209"},
		platformv1.Township{Name: "futian", DisplayName: "福田乡", Code: "350524210"},
	))
	waitReady(t, name)
	taozhou := credential(g, name+"-taozhou", "database")

	g.Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-fengcheng"}})).To(Succeed())
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = []platformv1.Township{rg.Spec.Townships[0], {Name: "taofu", DisplayName: "桃福镇", Code: "350524117",
			Formerly: []platformv1.FormerTownship{{Name: "taozhou", Code: "350524209"}, {Name: "futian", Code: "350524210"}}}}
	})
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		g.Expect(row(rg, "fengcheng").Ready).To(BeFalse())
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		conn := connectAs(g, taozhou)
		conn.Close(ctx)
	}, 3*time.Second, 300*time.Millisecond).Should(Succeed(), "no login is disabled while the reconcile cannot see everything")

	finalizeNamespace(g, name+"-fengcheng")
	waitReady(t, name)
	_, err := pg.Connect(ctx, taozhou.user, taozhou.password, taozhou.db)
	g.Expect(err).To(HaveOccurred(), "the merge is carried out once the namespace is back")
}

// Derived names meet: Region p's township a-b and Region p-a's township b share the
// namespace p-a-b and the role region_p_a_b. A township of p that claims a-b as its
// former self gets nothing of p-a's: not its password, not its role.
func TestFormerlyReachesNoOtherRegion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	p := uniqueName("leak")
	q := withTownships(p+"-a", platformv1.DeletionPolicyRetain, platformv1.Township{Name: "b", DisplayName: "某镇", Code: "350525100"})
	q.Spec.Code = "350525"
	createRegion(t, q)
	createRegion(t, withTownships(p, platformv1.DeletionPolicyRetain, platformv1.Township{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100"}))
	waitReady(t, q.Name)
	waitReady(t, p)
	victim := credential(g, p+"-a-b", "database")

	updateRegion(t, p, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "x", DisplayName: "新镇", Code: "350524120",
			Formerly: []platformv1.FormerTownship{{Name: "a-b", Code: "350524121"}}})
	})
	rg := waitReady(t, p)
	g.Expect(row(rg, "x").Message).To(ContainSubstring("formerly names a-b (code 350524121), which this Region never had"))
	x := credential(g, p+"-x", "database")
	g.Expect(x.password).NotTo(Equal(victim.password))
	conn := connectAs(g, victim)
	conn.Close(ctx)
	ns := getNamespace(g, p+"-a-b")
	g.Expect(ns.Labels).NotTo(HaveKey(naming.LabelSuccessor))
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelRegion, q.Name))
}
