package controllers_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/naming"
)

func dbRegion(name string) *platformv1.Region {
	rg := sampleRegion(name)
	rg.Spec.Database = &platformv1.Database{ServerRef: testServer}
	return rg
}

type login struct{ user, password, db, uri string }

func credential(g Gomega, namespace, secret string) login {
	s := &corev1.Secret{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: secret}, s)).To(Succeed())
	for _, k := range []string{"host", "port", "dbname", "user", "password", "sslmode", "uri"} {
		g.Expect(s.Data).To(HaveKey(k))
	}
	return login{string(s.Data["user"]), string(s.Data["password"]), string(s.Data["dbname"]), string(s.Data["uri"])}
}

func connectAs(g Gomega, l login) *pgx.Conn {
	conn, err := pg.Connect(context.Background(), l.user, l.password, l.db)
	g.Expect(err).NotTo(HaveOccurred(), "logging in as %s", l.user)
	return conn
}

func superuser(g Gomega, db string) *pgx.Conn {
	conn, err := pg.Connect(context.Background(), pg.SuperUser, pg.SuperPassword, db)
	g.Expect(err).NotTo(HaveOccurred())
	return conn
}

// sqlState is the SQLSTATE of a failed statement, "" when it did not fail.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

const insufficientPrivilege = "42501"

func exec(conn *pgx.Conn, sql string) error {
	_, err := conn.Exec(context.Background(), sql)
	return err
}

func TestDatabaseAccessWithGeneratedCredentials(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("db")
	createRegion(t, dbRegion(name))
	rg := waitReady(t, name)
	g.Expect(condition(rg, controllers.ConditionDatabaseReady).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(rg.Status.Database).To(PointTo(And(HaveField("Server", testServer), HaveField("Name", naming.Database(name)))))
	g.Expect(rg.Status.Townships[0]).To(And(HaveField("Schema", "fengcheng"), HaveField("Role", naming.TownshipRole(name, "fengcheng"))))

	fc := credential(g, name+"-fengcheng", "database")
	ht := credential(g, name+"-hutou", "database")
	county := credential(g, name, "database")
	sup := credential(g, name, "database-supervisor")
	g.Expect(fc.user).To(Equal(naming.TownshipRole(name, "fengcheng")))
	g.Expect(county.user).To(Equal(naming.CountyRole(name)))
	g.Expect(sup.user).To(Equal(naming.SupervisorRole(name)))
	g.Expect(fc.password).To(HaveLen(32))

	// A township creates and reads tables in its own schema.
	fconn := connectAs(g, fc)
	defer fconn.Close(ctx)
	g.Expect(exec(fconn, `CREATE TABLE fengcheng.ledger (id int, note text)`)).To(Succeed())
	g.Expect(exec(fconn, `INSERT INTO fengcheng.ledger VALUES (1, '低保申请')`)).To(Succeed())
	var note string
	g.Expect(fconn.QueryRow(ctx, `SELECT note FROM fengcheng.ledger`).Scan(&note)).To(Succeed())
	g.Expect(note).To(Equal("低保申请"))

	hconn := connectAs(g, ht)
	defer hconn.Close(ctx)
	g.Expect(exec(hconn, `CREATE TABLE hutou.notes (id int)`)).To(Succeed())

	// ... and cannot touch a sibling's schema, nor public.
	g.Expect(sqlState(exec(fconn, `SELECT * FROM hutou.notes`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(fconn, `INSERT INTO hutou.notes VALUES (1)`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(fconn, `CREATE TABLE hutou.mine (id int)`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(fconn, `CREATE TABLE public.mine (id int)`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(fconn, `CREATE SCHEMA extra`))).To(Equal(insufficientPrivilege))

	// The supervisor reads every schema's tables, those made later from the next check
	// of the database on, never a township's views, and writes none.
	sconn := connectAs(g, sup)
	defer sconn.Close(ctx)
	g.Expect(exec(hconn, `CREATE TABLE hutou.later (id int); CREATE VIEW hutou.peek AS SELECT * FROM hutou.notes; GRANT SELECT ON hutou.peek TO PUBLIC;
		CREATE TABLE hutou.policed (id int); ALTER TABLE hutou.policed ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON hutou.policed USING (true); GRANT SELECT ON hutou.policed TO PUBLIC`)).To(Succeed())
	// checkDatabase is the operator's next check of the database: a reconciler that
	// remembers no earlier check.
	checkDatabase := func() {
		r := &controllers.RegionReconciler{Client: mgrClient, APIReader: apiReader, Scheme: controllers.NewScheme(), Pools: operator.Pools, SecretNamespace: controllers.DefaultSecretNamespace}
		_, err := r.Reconcile(ctx, reconcileRequest(name))
		g.Expect(err).NotTo(HaveOccurred())
	}
	checkDatabase()
	for _, q := range []string{`SELECT * FROM fengcheng.ledger`, `SELECT * FROM hutou.notes`, `SELECT * FROM hutou.later`, `SELECT * FROM org.branch`} {
		g.Expect(exec(sconn, q)).To(Succeed(), q)
	}
	g.Expect(sqlState(exec(sconn, `SELECT * FROM hutou.peek`))).To(Equal(insufficientPrivilege), "a township's view is not the supervisor's to run")
	g.Expect(sqlState(exec(sconn, `SELECT * FROM hutou.policed`))).To(Equal(insufficientPrivilege), "nor a table whose row-level security policies the township wrote")
	g.Expect(sqlState(exec(sconn, `INSERT INTO fengcheng.ledger VALUES (2, 'x')`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(sconn, `DELETE FROM hutou.notes`))).To(Equal(insufficientPrivilege))
	g.Expect(sqlState(exec(sconn, `CREATE TABLE hutou.sup (id int)`))).To(Equal(insufficientPrivilege))

	// Row-level security: a township sees its own rows of the directory, the hub all.
	var codes []string
	rows, err := fconn.Query(ctx, `SELECT code FROM org.township`)
	g.Expect(err).NotTo(HaveOccurred())
	codes, err = pgx.CollectRows(rows, pgx.RowTo[string])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(codes).To(ConsistOf("350524100"))
	var n int
	g.Expect(fconn.QueryRow(ctx, `SELECT count(*) FROM org.branch`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(2), "fengcheng's two branches only")
	cconn := connectAs(g, county)
	defer cconn.Close(ctx)
	g.Expect(cconn.QueryRow(ctx, `SELECT count(*) FROM org.township`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(2))
	g.Expect(exec(cconn, `CREATE TABLE county.cases (id int)`)).To(Succeed())
	g.Expect(sqlState(exec(cconn, `SELECT * FROM fengcheng.ledger`))).To(Equal(insufficientPrivilege))
	// The hub's new table is the supervisor's to read from the next check on.
	checkDatabase()
	g.Expect(exec(sconn, `SELECT * FROM county.cases`)).To(Succeed())

	// The URI in the Secret works as it is.
	uconn, err := pgx.Connect(ctx, fc.uri)
	g.Expect(err).NotTo(HaveOccurred())
	uconn.Close(ctx)

	// A login that is not the Region's gets nowhere.
	_, err = pg.Connect(ctx, "stranger", "guess", fc.db)
	g.Expect(err).To(HaveOccurred())
	_, err = pg.Connect(ctx, fc.user, "wrong-password", fc.db)
	g.Expect(err).To(HaveOccurred())

	// A second reconcile with nothing changed runs no DDL.
	r := &controllers.RegionReconciler{Client: mgrClient, APIReader: apiReader, Scheme: controllers.NewScheme(), Pools: operator.Pools, SecretNamespace: controllers.DefaultSecretNamespace}
	before := ddlCount()
	_, err = r.Reconcile(ctx, reconcileRequest(name))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ddlCount()-before).To(BeZero(), "no DDL when nothing changed")
	// And once a reconcile found the database complete, the next ones leave the server
	// alone altogether.
	before = sqlCount()
	_, err = r.Reconcile(ctx, reconcileRequest(name))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sqlCount()-before).To(BeZero(), "no statement at all when the database was found complete moments ago")
}

func ddlCount() int64 { return pgsqlGlobalDDL() }

func TestDirectoryRowsFollowTheSpec(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("rows")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	tricky := `O'Brien; DROP TABLE org.branch; -- \ 西安村"党支部"`
	updateRegion(t, name, func(rg *platformv1.Region) {
		f := &rg.Spec.Townships[0]
		f.Branches[0].DisplayName = tricky
		f.Branches[0].Members = 7
		f.Branches = append(f.Branches, platformv1.Branch{Name: "shequ", DisplayName: "凤城社区党支部", Kind: platformv1.BranchCommunity, Members: 30})
		f.Branches = slices.DeleteFunc(f.Branches, func(b platformv1.Branch) bool { return b.Name == "xinan" })
		rg.Spec.Townships[1].DisplayName = "湖头镇（新）"
	})
	waitReady(t, name)
	conn := superuser(g, naming.Database(name))
	defer conn.Close(ctx)
	type row struct {
		Township, Name, DisplayName, Kind string
		Members                           int32
	}
	rows, err := conn.Query(ctx, `SELECT t.name, b.name, b.display_name, b.kind, b.members FROM org.branch b JOIN org.township t ON t.code = b.township_code ORDER BY 1, 2`)
	g.Expect(err).NotTo(HaveOccurred())
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal([]row{
		{"fengcheng", "jiguan", tricky, "Organ", 7},
		{"fengcheng", "shequ", "凤城社区党支部", "Community", 30},
		{"hutou", "zhongxue", "湖头中学党支部", "School", 60},
	}))
	var display string
	g.Expect(conn.QueryRow(ctx, `SELECT display_name FROM org.township WHERE name = 'hutou'`).Scan(&display)).To(Succeed())
	g.Expect(display).To(Equal("湖头镇（新）"))

	// Removing a township removes its rows (its schema stays, see the retention test).
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
	waitReady(t, name)
	var n int
	g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM org.township`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(1))
	g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM org.branch`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(2))
}

func TestRotationReplacesEveryPassword(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("rotate")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	old := credential(g, name+"-hutou", "database")
	oldSup := credential(g, name, "database-supervisor")

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Annotations = map[string]string{naming.AnnotationRotateCredentials: "2026-11-25"}
	})
	var rg *platformv1.Region
	g.Eventually(func(g Gomega) {
		rg = getRegion(g, name)
		g.Expect(rg.Status.Database).NotTo(BeNil())
		g.Expect(rg.Status.Database.RotationToken).To(Equal("2026-11-25"))
	}, timeout, interval).Should(Succeed())
	g.Expect(rg.Status.Database.LastRotationTime).NotTo(BeNil())

	fresh := credential(g, name+"-hutou", "database")
	g.Expect(fresh.password).NotTo(Equal(old.password))
	connectAs(g, fresh).Close(ctx)
	_, err := pg.Connect(ctx, old.user, old.password, old.db)
	g.Expect(err).To(HaveOccurred(), "the old password stops working")
	_, err = pg.Connect(ctx, oldSup.user, oldSup.password, oldSup.db)
	g.Expect(err).To(HaveOccurred())
	connectAs(g, credential(g, name, "database-supervisor")).Close(ctx)

	// A deleted Secret comes back with a new password that works.
	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "database"}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		l := credential(g, name+"-hutou", "database")
		g.Expect(l.password).NotTo(Equal(fresh.password))
		conn, err := pg.Connect(ctx, l.user, l.password, l.db)
		g.Expect(err).NotTo(HaveOccurred())
		conn.Close(ctx)
	}, timeout, interval).Should(Succeed())
}

func TestDatabaseRetainAndDelete(t *testing.T) {
	ctx := context.Background()
	t.Run("removed township, Retain", func(t *testing.T) {
		g := NewWithT(t)
		name := uniqueName("dbkeep")
		createRegion(t, dbRegion(name))
		waitReady(t, name)
		ht := credential(g, name+"-hutou", "database")
		conn := connectAs(g, ht)
		g.Expect(exec(conn, `CREATE TABLE hutou.archive (id int); INSERT INTO hutou.archive VALUES (42)`)).To(Succeed())
		conn.Close(ctx)

		updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
		rg := waitReady(t, name)
		g.Expect(rg.Status.Retained).To(ContainElements(
			platformv1.RetainedObject{Kind: "Schema", Name: "hutou", Township: "hutou"},
			platformv1.RetainedObject{Kind: "Role", Name: ht.user, Township: "hutou"}))
		_, err := pg.Connect(ctx, ht.user, ht.password, ht.db)
		g.Expect(err).To(HaveOccurred(), "a retained township's login is disabled")
		su := superuser(g, ht.db)
		defer su.Close(ctx)
		var id int
		g.Expect(su.QueryRow(ctx, `SELECT id FROM hutou.archive`).Scan(&id)).To(Succeed())
		g.Expect(id).To(Equal(42), "its data is kept")

		// Deleting the Region under Retain keeps the database; every login is disabled.
		fc := credential(g, name+"-fengcheng", "database")
		deleteRegion(name)
		_, err = pg.Connect(ctx, fc.user, fc.password, fc.db)
		g.Expect(err).To(HaveOccurred())
		g.Expect(su.QueryRow(ctx, `SELECT id FROM hutou.archive`).Scan(&id)).To(Succeed())
	})
	t.Run("Delete", func(t *testing.T) {
		g := NewWithT(t)
		name := uniqueName("dbdrop")
		rg := dbRegion(name)
		rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
		createRegion(t, rg)
		waitReady(t, name)
		ht := credential(g, name+"-hutou", "database")
		updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
		waitReady(t, name)
		su := superuser(g, "postgres")
		defer su.Close(ctx)
		roleExists := func(role string) bool {
			var ok bool
			g.Expect(su.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&ok)).To(Succeed())
			return ok
		}
		g.Expect(roleExists(ht.user)).To(BeFalse(), "a removed township's role is dropped")

		// A connection held open does not stop the database from being dropped.
		fc := credential(g, name+"-fengcheng", "database")
		held := connectAs(g, fc)
		defer held.Close(ctx)
		deleteRegionConfirmed(t, name)
		var exists bool
		g.Expect(su.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, naming.Database(name)).Scan(&exists)).To(Succeed())
		g.Expect(exists).To(BeFalse())
		for _, role := range []string{fc.user, naming.CountyRole(name), naming.SupervisorRole(name), naming.OwnerRole(name)} {
			g.Expect(roleExists(role)).To(BeFalse(), role)
		}
	})
}

func TestExistingDatabaseRoleIsAConflict(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("dbconf")
	su := superuser(g, "postgres")
	defer su.Close(ctx)
	sup := naming.SupervisorRole(name)
	g.Expect(exec(su, `CREATE ROLE `+sup+` LOGIN PASSWORD 'theirs'`)).To(Succeed())
	createRegion(t, dbRegion(name))
	rg := waitStalled(t, name)
	g.Expect(condition(rg, controllers.ConditionDatabaseReady).Message).To(ContainSubstring("role " + sup + " already exists and is not managed by this Region"))
	conn, err := pg.Connect(ctx, sup, "theirs", "postgres")
	g.Expect(err).NotTo(HaveOccurred(), "their role keeps its password")
	conn.Close(ctx)
	g.Expect(condition(rg, controllers.ConditionNamespacesReady).Status).To(Equal(metav1.ConditionTrue))
}

func TestWrongAdminPasswordIsReported(t *testing.T) {
	g := NewWithT(t)
	server := uniqueName("wrong-pg")
	g.Expect(registerServer(server, "not-the-password", 2)).To(Succeed())
	g.Eventually(func(g Gomega) {
		ds := &platformv1.DatabaseServer{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: server}, ds)).To(Succeed())
		c := metaCondition(ds.Status.Conditions, controllers.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("password authentication failed"))
		g.Expect(c.Message).NotTo(ContainSubstring("not-the-password"))
		g.Expect(c.Message).NotTo(ContainSubstring(pgAdmin), "nor the user name read from the Secret")
	}, timeout, interval).Should(Succeed())

	name := uniqueName("dbwrong")
	rg := dbRegion(name)
	rg.Spec.Database.ServerRef = server
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		c := condition(rg, controllers.ConditionDatabaseReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("password authentication failed"))
		g.Expect(c.Reason).To(Equal(controllers.ReasonAuthenticationFailed))
		g.Expect(condition(rg, controllers.ConditionNamespacesReady).Status).To(Equal(metav1.ConditionTrue))
		expectRetryingUntilTheBound(g, rg, c)
	}, timeout, interval).Should(Succeed())
}

// expectRetryingUntilTheBound: a Region failing on cause's condition is Reconciling
// until the stall bound has passed since the cause began, and Stalled with that cause
// after it.
func expectRetryingUntilTheBound(g Gomega, rg *platformv1.Region, cause metav1.Condition) {
	if time.Since(cause.LastTransitionTime.Time) < stallAfter-time.Second {
		g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		return
	}
	if time.Since(cause.LastTransitionTime.Time) > stallAfter+time.Second {
		g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(condition(rg, controllers.ConditionStalled).Reason).To(Equal(cause.Reason))
	}
}

func TestGoodServerReportsItsVersion(t *testing.T) {
	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		ds := &platformv1.DatabaseServer{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: testServer}, ds)).To(Succeed())
		g.Expect(metaCondition(ds.Status.Conditions, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(ds.Status.ServerVersion).To(HavePrefix("15."))
		g.Expect(ds.Status.LastReachedTime).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())
}

// An operator started again (or taking over) writes nothing for a server whose status
// already says what its first check finds, even with the time it was last reached older
// than the check interval; its next check moves that time.
func TestFirstCheckAfterAStartWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	server := uniqueName("restarted")
	registerServerFor(t, server, 2)
	ds := &platformv1.DatabaseServer{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
		g.Expect(metaCondition(ds.Status.Conditions, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
	// As the operator before left it ten minutes ago.
	long := metav1.NewTime(time.Now().Add(-10 * time.Minute).Truncate(time.Second))
	patch := client.MergeFrom(ds.DeepCopy())
	ds.Status.LastReachedTime = &long
	g.Expect(k8s.Status().Patch(ctx, ds, patch)).To(Succeed())
	written := ds.ResourceVersion
	g.Eventually(func(g Gomega) {
		seen := &platformv1.DatabaseServer{}
		g.Expect(mgrClient.Get(ctx, client.ObjectKey{Name: server}, seen)).To(Succeed())
		g.Expect(seen.ResourceVersion).To(Equal(written))
	}, timeout, interval).Should(Succeed())

	started := &controllers.DatabaseServerReconciler{Client: mgrClient, APIReader: apiReader, Pools: operator.Pools, SecretNamespace: controllers.DefaultSecretNamespace}
	_, err := started.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: server}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
	g.Expect(ds.ResourceVersion).To(Equal(written), "the first check after a start wrote the server's status")
	g.Expect(ds.Status.LastReachedTime.Time).To(BeTemporally("==", long.Time))

	_, err = started.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: server}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
	g.Expect(ds.Status.LastReachedTime.Time).To(BeTemporally(">", long.Add(9*time.Minute)))
}

// Stopping the server while Regions reconcile, then starting it again, ends converged,
// and the operator never holds more connections than maxConnections.
func TestServerDownAndBackConverges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var peak atomic.Int64
	stop := watchConnections(&peak)
	defer stop()

	names := []string{uniqueName("outage"), uniqueName("outage"), uniqueName("outage")}
	for _, n := range names {
		createRegion(t, dbRegion(n))
	}
	g.Expect(pg.Stop()).To(Succeed())
	for _, n := range names {
		updateRegion(t, n, func(rg *platformv1.Region) {
			rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "guanqiao", DisplayName: "官桥镇", Code: "350524103"})
		})
	}
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, names[0])
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		c := condition(rg, controllers.ConditionDatabaseReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("connect"))
		for _, row := range rg.Status.Townships {
			g.Expect(row.Ready).To(BeFalse(), "%s is not in place while its database is out of reach", row.Name)
		}
	}, timeout, interval).Should(Succeed())
	// The Kubernetes layers went on without the database.
	getNamespace(g, names[0]+"-guanqiao")

	g.Expect(pg.StartAgain()).To(Succeed())
	for _, n := range names {
		rg := waitReadyWithin(t, n, 3*time.Minute)
		g.Expect(rg.Status.Townships).To(HaveLen(3))
		for _, row := range rg.Status.Townships {
			g.Expect(row.Ready).To(BeTrue(), row.Name)
		}
		l := credential(g, n+"-guanqiao", "database")
		connectAs(g, l).Close(ctx)
	}
	su := superuser(g, "postgres")
	defer su.Close(ctx)
	var roles int
	g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname LIKE $1`, naming.Database(names[0])+"%").Scan(&roles)).To(Succeed())
	g.Expect(roles).To(Equal(6), "owner, county, supervisor and three townships: no duplicates, none missing")
	// What the operator holds never exceeds maxConnections. The server may list one
	// more for a moment: a backend whose client has closed it is still exiting when the
	// slot is used for a new connection to another database.
	_, poolPeak := operator.Pools.Lookup(testServer).Open()
	g.Expect(poolPeak).To(BeNumerically("<=", testMaxConns))
	g.Expect(poolPeak).To(BeNumerically(">", 1), "the Regions did use the pool at once")
	g.Expect(peak.Load()).To(BeNumerically(">", 0), "the watcher saw the operator's connections")
	g.Expect(peak.Load()).To(BeNumerically("<=", testMaxConns+1))
}

// watchConnections records the most connections the operator's administrator held.
func watchConnections(peak *atomic.Int64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var conn *pgx.Conn
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if conn == nil || conn.IsClosed() {
				c, err := pg.Connect(context.Background(), pg.SuperUser, pg.SuperPassword, "postgres")
				if err != nil {
					continue
				}
				conn = c
			}
			var n int64
			if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, pgAdmin).Scan(&n); err != nil {
				conn.Close(context.Background())
				conn = nil
				continue
			}
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// A DatabaseServer that names a Secret outside the operator's own namespace gets
// nothing read from it: its status names the field, and no value of the Secret appears
// anywhere the DatabaseServer's author can read.
func TestAdminSecretOutsideTheOperatorsNamespaceIsRefused(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	server := uniqueName("foreign-pg")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: server},
		StringData: map[string]string{"token": "TOPSECRET-token-value", "password": pgAdminPassword}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	g.Expect(k8s.Create(ctx, &platformv1.DatabaseServer{
		ObjectMeta: metav1.ObjectMeta{Name: server},
		Spec: platformv1.DatabaseServerSpec{Host: pg.Host, Port: int32(pg.Port), SSLMode: "disable",
			AdminSecretRef: platformv1.SecretKeyReference{Namespace: "kube-system", Name: server, UsernameKey: "token"}},
	})).To(Succeed())
	g.Eventually(func(g Gomega) {
		ds := &platformv1.DatabaseServer{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: server}, ds)).To(Succeed())
		c := metaCondition(ds.Status.Conditions, controllers.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("spec.adminSecretRef.namespace"))
		g.Expect(c.Message).To(ContainSubstring(controllers.DefaultSecretNamespace))
		g.Expect(c.Message).NotTo(ContainSubstring("TOPSECRET"))
	}, timeout, interval).Should(Succeed())
}

// Without a word on sslMode, a DatabaseServer requires TLS.
func TestDatabaseServerRequiresTLSByDefault(t *testing.T) {
	g := NewWithT(t)
	ds := &platformv1.DatabaseServer{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("tls-pg")},
		Spec: platformv1.DatabaseServerSpec{Host: "pg.example", AdminSecretRef: platformv1.SecretKeyReference{Namespace: controllers.DefaultSecretNamespace, Name: "x"}}}
	g.Expect(k8s.Create(context.Background(), ds)).To(Succeed())
	g.Expect(ds.Spec.SSLMode).To(Equal("require"))
}

// Every login the operator makes finds its own schema first and the directory after
// it: a service names its tables unqualified.
func TestLoginsFindTheirOwnSchemaFirst(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("path")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	for _, c := range []struct{ ns, secret, schema string }{
		{name + "-hutou", "database", "hutou"},
		{name, "database", "county"},
		{name, "database-supervisor", "org"},
	} {
		conn := connectAs(g, credential(g, c.ns, c.secret))
		var schema string
		g.Expect(conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema)).To(Succeed())
		g.Expect(schema).To(Equal(c.schema), c.ns+"/"+c.secret)
		var n int
		g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM township`).Scan(&n)).To(Succeed(), "the directory, unqualified")
		if c.schema != "org" {
			g.Expect(exec(conn, `CREATE TABLE ledger (id int); INSERT INTO ledger VALUES (1)`)).To(Succeed())
			g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM `+c.schema+`.ledger`).Scan(&n)).To(Succeed())
			g.Expect(n).To(Equal(1))
		}
		conn.Close(ctx)
	}
}

// Each login holds at most its connection limit: the township's override for that
// township alone, the Region's for the others, and the Secret says which.
func TestConnectionLimitBoundsOneTownship(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("connlimit")
	rg := dbRegion(name)
	rg.Spec.Townships[1].ConnectionLimit = ptr.To(int32(2))
	createRegion(t, rg)
	waitReady(t, name)
	s := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "database"}, s)).To(Succeed())
	g.Expect(string(s.Data["connectionLimit"])).To(Equal("2"))
	ht := credential(g, name+"-hutou", "database")
	for range 2 {
		c := connectAs(g, ht)
		defer c.Close(ctx)
	}
	_, err := pg.Connect(ctx, ht.user, ht.password, ht.db)
	g.Expect(err).To(HaveOccurred(), "the third connection of hutou is refused")
	g.Expect(err.Error()).To(ContainSubstring("too many connections for role"))
	fc := credential(g, name+"-fengcheng", "database")
	for range 3 {
		c := connectAs(g, fc)
		defer c.Close(ctx)
	}

	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships[1].ConnectionLimit = ptr.To(int32(3)) })
	g.Eventually(func(g Gomega) {
		c, err := pg.Connect(ctx, ht.user, ht.password, ht.db)
		g.Expect(err).NotTo(HaveOccurred(), "the raised limit is kept in step")
		c.Close(ctx)
	}, timeout, interval).Should(Succeed())
}

// The deletion policy acts on what the server marks as the Region's, not on what the
// status says: a status that does not say yet that the database was made (it is written
// after the reconcile that made it) does not keep it from being dropped under Delete.
// A server that cannot be asked drops nothing: a Region whose status says something was
// made waits for it, and one whose status says nothing lets go without it.
func TestRetireAsksTheServerNotTheStatus(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("dbretire")
	rg := dbRegion(name)
	rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	createRegion(t, rg)
	waitReady(t, name)
	// Suspended, the operator leaves the Region's database to this test's reconciler;
	// its status still says the database was made.
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Suspend = true })
	var got *platformv1.Region
	g.Eventually(func(g Gomega) {
		got = getRegion(g, name)
		g.Expect(condition(got, controllers.ConditionSuspended).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
	g.Expect(got.Status.Database).NotTo(BeNil())
	g.Expect(got.Status.Database.Provisioned).To(BeTrue())

	su := superuser(g, "postgres")
	defer su.Close(ctx)
	exists := func(query, name string) bool {
		var ok bool
		g.Expect(su.QueryRow(ctx, query, name).Scan(&ok)).To(Succeed())
		return ok
	}
	const dbQuery = `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`
	const roleQuery = `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`
	r := aReconciler(apiReader)

	// A failure: the server cannot be asked (its DatabaseServer is not there).
	away := got.DeepCopy()
	away.Spec.Database.ServerRef = uniqueName("nowhere")
	away.Status.Database.Server = away.Spec.Database.ServerRef
	g.Expect(r.RetireDatabase(ctx, away)).To(MatchError(ContainSubstring("does not exist")),
		"a Region whose status says its database was made let go without its server")
	// What the status says of another server says nothing of this one.
	away.Status.Database.Server = testServer
	g.Expect(r.RetireDatabase(ctx, away)).To(Succeed(), "a Region moved to a server never reached is stuck on it")
	away.Status.Database.Server = away.Spec.Database.ServerRef
	away.Status.Database.Provisioned = false
	g.Expect(r.RetireDatabase(ctx, away)).To(Succeed(), "a Region with nothing made is stuck on a server that cannot be asked")
	g.Expect(exists(dbQuery, naming.Database(name))).To(BeTrue(), "a server out of reach dropped the database")
	g.Expect(exists(roleQuery, naming.OwnerRole(name))).To(BeTrue())

	// The spec change (deleted under Delete), with a status behind what was made.
	behind := got.DeepCopy()
	behind.Status.Database.Provisioned = false
	g.Expect(r.RetireDatabase(ctx, behind)).To(Succeed())
	g.Expect(exists(dbQuery, naming.Database(name))).To(BeFalse(), "a status behind kept the database from its deletion policy")
	for _, role := range []string{naming.CountyRole(name), naming.SupervisorRole(name), naming.OwnerRole(name)} {
		g.Expect(exists(roleQuery, role)).To(BeFalse(), role)
	}
}

// A Region deleted under Delete while its status was held back waits for confirmation
// with a status that says its database was made, when this process made it: that status
// may stand for as long as the confirmation takes, through restarts, and the deletion
// policy falls back on it when the server cannot be asked.
func TestAwaitingConfirmationSaysTheDatabaseWasMade(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("dbheld")
	rg := dbRegion(name)
	rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	rg.Spec.Suspend = true // nothing made by the operator, no status of a database
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		g.Expect(condition(getRegion(g, name), controllers.ConditionSuspended).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())

	// A process that made nothing says nothing of it.
	var plain *platformv1.Region
	g.Eventually(func(g Gomega) { // over the operator's own status writes of the Region
		plain = getRegion(g, name)
		g.Expect(aReconciler(apiReader).AwaitConfirmation(ctx, plain, []string{name})).To(Succeed())
	}, timeout, interval).Should(Succeed())
	g.Expect(condition(plain, controllers.ConditionConfirmationRequired).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(plain.Status.Database).To(BeNil())

	r := aReconciler(apiReader)
	r.Made(plain, testServer)
	var held *platformv1.Region
	g.Eventually(func(g Gomega) { // over the operator's own status writes of the Region
		held = getRegion(g, name)
		g.Expect(r.AwaitConfirmation(ctx, held, []string{name})).To(Succeed())
	}, timeout, interval).Should(Succeed())
	g.Expect(held.Status.Database).NotTo(BeNil())
	g.Expect(held.Status.Database.Provisioned).To(BeTrue(), "the status awaiting confirmation does not say the database was made")
	g.Expect(held.Status.Database.Server).To(Equal(testServer))
}
