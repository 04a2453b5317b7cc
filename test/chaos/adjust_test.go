package chaos

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// A rename interrupted in the middle: the operator is killed while the transaction that
// renames the township's role and schema waits (a lock held on org.township_history),
// so nothing of it is committed. Started again, the operator finishes it: the renamed
// role logs in with the old password and finds the township's rows.
func TestRenameKilledInTheMiddleFinishes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "renamed"
	logPath := filepath.Join(workDir, name+".log")
	p := start(t, "", logPath)
	rg := county(name, platformv1.DeletionPolicyDelete, 3)
	rg.Spec.Platform = nil
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	converge(g, name, 2*time.Minute)

	secret := func(ns string) (user, password string) {
		s := &corev1.Secret{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.SecretDatabase}, s)).To(Succeed())
		return string(s.Data["user"]), string(s.Data["password"])
	}
	user, password := secret(name + "-t2")
	conn, err := pg.Connect(ctx, user, password, naming.Database(name))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = conn.Exec(ctx, `CREATE TABLE t2.ledger (id int); INSERT INTO t2.ledger VALUES (1), (2), (3)`)
	g.Expect(err).NotTo(HaveOccurred())
	conn.Close(ctx)

	// The rename's transaction will wait for this lock (SHARE lets reads through and
	// holds writes).
	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, naming.Database(name))
	g.Expect(err).NotTo(HaveOccurred())
	defer su.Close(ctx)
	tx, err := su.Begin(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = tx.Exec(ctx, `LOCK TABLE org.township_history IN SHARE MODE`)
	g.Expect(err).NotTo(HaveOccurred())

	update(g, name, func(rg *platformv1.Region) {
		rg.Spec.Townships[1].Name = "t2-zhen"
		rg.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "t2", Code: rg.Spec.Townships[1].Code}}
	})
	watch, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	g.Expect(err).NotTo(HaveOccurred())
	defer watch.Close(ctx)
	waiting := func() int {
		var n int
		g.Expect(watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO org.township_history%'`).Scan(&n)).To(Succeed())
		return n
	}
	g.Eventually(waiting, time.Minute, 100*time.Millisecond).Should(Equal(1), "the rename waits in its transaction")
	p.kill()
	g.Expect(tx.Rollback(ctx)).To(Succeed())
	g.Eventually(waiting, 30*time.Second, 100*time.Millisecond).Should(BeZero())
	roles := func() []string {
		rows, err := watch.Query(ctx, `SELECT rolname::text FROM pg_roles WHERE rolname IN ($1, $2)`, naming.TownshipRole(name, "t2"), naming.TownshipRole(name, "t2-zhen"))
		g.Expect(err).NotTo(HaveOccurred())
		var out []string
		for rows.Next() {
			var r string
			g.Expect(rows.Scan(&r)).To(Succeed())
			out = append(out, r)
		}
		return out
	}
	g.Expect(roles()).To(Equal([]string{naming.TownshipRole(name, "t2")}), "the killed transaction renamed nothing")

	p = start(t, "", logPath)
	defer p.kill()
	converge(g, name, 2*time.Minute)
	g.Expect(roles()).To(Equal([]string{naming.TownshipRole(name, "t2-zhen")}))
	newUser, newPassword := secret(name + "-t2-zhen")
	g.Expect(newUser).To(Equal(naming.TownshipRole(name, "t2-zhen")))
	g.Expect(newPassword).To(Equal(password), "the renamed township keeps its password")
	conn, err = pg.Connect(ctx, newUser, password, naming.Database(name))
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close(ctx)
	var n int
	g.Expect(conn.QueryRow(ctx, `SELECT count(*) FROM ledger`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(3))
	var changes int
	g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM org.township_history WHERE former_name = 't2' AND name = 't2-zhen'`).Scan(&changes)).To(Succeed())
	g.Expect(changes).To(Equal(1))
	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name + "-t2"}, ns)).To(Succeed())
	g.Expect(ns.DeletionTimestamp).To(BeNil(), "the former namespace is retained under Delete")
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelSuccessor, "t2-zhen"))
	noPanic(g, logPath)
}
