package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// The rule these tests hold the operator to: nothing is destroyed, disabled or pruned
// unless the spec stopped naming it. Each test reaches a destructive path by a failure
// instead, and checks that nothing is lost.

// readyToDelete makes a Region with a database under deletionPolicy Delete (with the
// given townships, or the sample's) and waits until it is Ready.
func readyToDelete(t *testing.T, name string, tws []platformv1.Township) {
	t.Helper()
	rg := dbRegion(name)
	rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	if tws != nil {
		rg.Spec.Townships = tws
	}
	createRegion(t, rg)
	waitReady(t, name)
}

func roleExists(g Gomega, role string) bool {
	su := superuser(g, "postgres")
	defer su.Close(context.Background())
	var ok bool
	g.Expect(su.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&ok)).To(Succeed())
	return ok
}

func row(rg *platformv1.Region, township string) platformv1.TownshipStatus {
	for _, r := range rg.Status.Townships {
		if r.Name == township {
			return r
		}
	}
	return platformv1.TownshipStatus{}
}

// finalizeNamespace does what the namespace controller, absent in envtest, does last:
// it lets a terminating namespace go.
func finalizeNamespace(g Gomega, name string) {
	cs, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	ns, err := cs.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	ns.Spec.Finalizers = nil
	_, err = cs.CoreV1().Namespaces().Finalize(context.Background(), ns, metav1.UpdateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
}

// A township's namespace deleted by hand under Delete: the township is still in the
// spec, so its schema, rows and login survive, the Region says what is wrong, and once
// the namespace is made again the township is back with its data.
func TestNamespaceDeletedByHandKeepsTheTownshipsData(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("nsgone")
	readyToDelete(t, name, nil)
	ht := credential(g, name+"-hutou", "database")
	conn := connectAs(g, ht)
	g.Expect(exec(conn, `CREATE TABLE hutou.ledger (id int); INSERT INTO hutou.ledger VALUES (7)`)).To(Succeed())
	conn.Close(ctx)

	g.Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou"}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		r := row(got, "hutou")
		g.Expect(r.Ready).To(BeFalse())
		g.Expect(r.Message).To(ContainSubstring("being deleted"))
		g.Expect(condition(got, controllers.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
	}, timeout, interval).Should(Succeed())
	// Reconcile after reconcile (the failing namespace is retried), the township's
	// data and login are all there.
	g.Consistently(func(g Gomega) {
		g.Expect(roleExists(g, ht.user)).To(BeTrue())
		conn := connectAs(g, ht)
		defer conn.Close(ctx)
		var id int
		g.Expect(conn.QueryRow(ctx, `SELECT id FROM hutou.ledger`).Scan(&id)).To(Succeed())
		g.Expect(id).To(Equal(7))
	}, 4*time.Second, 500*time.Millisecond).Should(Succeed())

	// The namespace goes for good and is made again: the township is back, with its data.
	finalizeNamespace(g, name+"-hutou")
	waitReady(t, name)
	conn = connectAs(g, credential(g, name+"-hutou", "database"))
	defer conn.Close(ctx)
	var id int
	g.Expect(conn.QueryRow(ctx, `SELECT id FROM hutou.ledger`).Scan(&id)).To(Succeed())
	g.Expect(id).To(Equal(7))
}

// A township whose namespace cannot be applied (its code label was changed by hand, a
// conflict) while another township leaves the spec under Delete: the layer did not
// apply everything, so nothing is dropped this time; once the conflict is gone, the
// township that left is dropped and the other is untouched.
func TestNamespaceConflictDropsNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("nsconf")
	readyToDelete(t, name, nil)
	fc := credential(g, name+"-fengcheng", "database")
	ht := credential(g, name+"-hutou", "database")

	relabel := func(code string) {
		patch := []byte(`{"metadata":{"labels":{"` + naming.LabelCode + `":"` + code + `"}}}`)
		g.Expect(k8s.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou"}}, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	}
	relabel("999999999")
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[1:] }) // fengcheng leaves
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(row(got, "hutou").Message).To(ContainSubstring("was made for code 999999999"))
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(roleExists(g, fc.user)).To(BeTrue(), "nothing is dropped while a township's namespace is in conflict")
		g.Expect(roleExists(g, ht.user)).To(BeTrue())
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())

	relabel("350524102")
	g.Eventually(func(g Gomega) {
		g.Expect(roleExists(g, fc.user)).To(BeFalse(), "the township that left the spec goes once the layer is clean")
	}, conflictWait, interval).Should(Succeed())
	g.Expect(roleExists(g, ht.user)).To(BeTrue())
	connectAs(g, ht).Close(ctx)
}

// conflictWait covers the operator's retry of a Region stalled on a conflict.
const conflictWait = 3 * time.Minute

func townships(n int) []platformv1.Township {
	var out []platformv1.Township
	for i := 1; i <= n; i++ {
		out = append(out, platformv1.Township{Name: fmt.Sprintf("t%d", i), DisplayName: fmt.Sprintf("第%d镇", i), Code: fmt.Sprintf("350524%03d", 100+i)})
	}
	return out
}

func events(g Gomega, region, reason string) []string {
	var list eventsv1.EventList
	g.Expect(k8s.List(context.Background(), &list)).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Region" && e.Regarding.Name == region && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// Under Delete, removing more than three townships at once waits for the confirmation
// annotation while the rest of the change goes ahead; exactly three go at once.
func TestMassDestructionWaitsForConfirmation(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("mass")
	readyToDelete(t, name, townships(8))
	role := func(t string) string { return naming.TownshipRole(name, t) }

	// t1..t4 leave and t9 comes, in one change.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships[4:], platformv1.Township{Name: "t9", DisplayName: "第9镇", Code: "350524109"})
	})
	want := naming.AnnotationConfirmDestruction + "=t1,t2,t3,t4"
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(got.Status.PendingDestruction).To(Equal([]string{"t1", "t2", "t3", "t4"}))
		c := condition(got, controllers.ConditionConfirmationRequired)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring(want))
		g.Expect(condition(got, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(row(got, "t9").Ready).To(BeTrue(), "the addition goes ahead")
	}, timeout, interval).Should(Succeed())
	g.Expect(getNamespace(g, name+"-t9").DeletionTimestamp).To(BeNil())
	for _, tw := range []string{"t1", "t2", "t3", "t4"} {
		g.Expect(getNamespace(g, name+"-"+tw).DeletionTimestamp).To(BeNil(), tw)
		g.Expect(roleExists(g, role(tw))).To(BeTrue(), tw)
	}
	g.Eventually(func(g Gomega) {
		g.Expect(events(g, name, controllers.ReasonConfirmationRequired)).To(ConsistOf(ContainSubstring(want)), "said once")
	}, timeout, interval).Should(Succeed())

	// Confirming three of the four is not enough.
	confirm := func(value string) { g.Expect(annotate(name, naming.AnnotationConfirmDestruction, value)).To(Succeed()) }
	confirm("t1,t2,t3")
	g.Consistently(func(g Gomega) {
		g.Expect(roleExists(g, role("t1"))).To(BeTrue())
		g.Expect(getNamespace(g, name+"-t1").DeletionTimestamp).To(BeNil())
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())

	confirm("t1,t2,t3,t4,gone")
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(got.Status.PendingDestruction).To(BeEmpty())
		g.Expect(condition(got, controllers.ConditionConfirmationRequired).Status).To(Equal(metav1.ConditionFalse))
		for _, tw := range []string{"t1", "t2", "t3", "t4"} {
			g.Expect(roleExists(g, role(tw))).To(BeFalse(), tw)
			g.Expect(getNamespace(g, name+"-"+tw).DeletionTimestamp).NotTo(BeNil(), tw)
		}
	}, timeout, interval).Should(Succeed())
	g.Eventually(func(g Gomega) {
		// The recorder folds events of one reason into a series; one is enough to read.
		g.Expect(events(g, name, "Dropped")).To(ContainElement(MatchRegexp(`dropped schema t[1-4] and role region_mass_.*_t[1-4]`)))
	}, timeout, interval).Should(Succeed())

	// Exactly three at once need no confirmation (the annotation names none of them).
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[3:] }) // t5, t6, t7 leave
	g.Eventually(func(g Gomega) {
		for _, tw := range []string{"t5", "t6", "t7"} {
			g.Expect(roleExists(g, role(tw))).To(BeFalse(), tw)
		}
		got := getRegion(g, name)
		g.Expect(got.Status.PendingDestruction).To(BeEmpty())
	}, timeout, interval).Should(Succeed())
	g.Expect(roleExists(g, role("t8"))).To(BeTrue())
	g.Expect(roleExists(g, role("t9"))).To(BeTrue())
}

// A Region being deleted under Delete waits for its confirmation; switching it to
// Retain lets it go at once, keeping everything.
func TestRegionDeletionReleasedBySwitchingToRetain(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("switch")
	readyToDelete(t, name, nil)
	fc := credential(g, name+"-fengcheng", "database")

	g.Expect(k8s.Delete(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(condition(got, controllers.ConditionConfirmationRequired).Message).To(ContainSubstring("spec.deletionPolicy to Retain"))
	}, timeout, interval).Should(Succeed())
	g.Expect(getNamespace(g, name+"-fengcheng").DeletionTimestamp).To(BeNil())
	connectAs(g, fc).Close(ctx)

	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.DeletionPolicy = platformv1.DeletionPolicyRetain })
	g.Eventually(func(g Gomega) {
		err := k8s.Get(ctx, client.ObjectKey{Name: name}, &platformv1.Region{})
		g.Expect(err).To(HaveOccurred())
	}, timeout, interval).Should(Succeed())
	for _, ns := range []string{name, name + "-fengcheng", name + "-hutou"} {
		got := getNamespace(g, ns)
		g.Expect(got.DeletionTimestamp).To(BeNil(), ns)
		g.Expect(got.Labels).To(HaveKeyWithValue(naming.LabelRetained, "true"), ns)
	}
	g.Expect(roleExists(g, fc.user)).To(BeTrue(), "the database is kept")
	_, err := pg.Connect(ctx, fc.user, fc.password, fc.db)
	g.Expect(err).To(HaveOccurred(), "its logins are disabled")
	g.Expect(strings.Join(events(g, name, "Deleted"), "")).To(BeEmpty())
}

// An injected database failure (a trigger that refuses every write to org.township)
// while a township leaves the spec under Delete: the plan stops at the failure, before
// its DROP statements, so the township's schema and role survive; once the failure is
// gone, the spec's word is carried out.
func TestDatabaseFailureDropsNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("dbfail")
	readyToDelete(t, name, nil)
	fc := credential(g, name+"-fengcheng", "database")
	su := superuser(g, naming.Database(name))
	defer su.Close(ctx)
	g.Expect(exec(su, `CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
		CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON org.township FOR EACH ROW EXECUTE FUNCTION public.refuse()`)).To(Succeed())

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = rg.Spec.Townships[1:] // fengcheng leaves
		rg.Spec.Townships[0].DisplayName = "湖头镇（新）"
	})
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(condition(got, controllers.ConditionDatabaseReady).Status).To(Equal(metav1.ConditionFalse))
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(roleExists(g, fc.user)).To(BeTrue(), "nothing is dropped after a failed statement")
		var n int
		g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = 'fengcheng'`).Scan(&n)).To(Succeed())
		g.Expect(n).To(Equal(1))
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())

	g.Expect(exec(su, `DROP TRIGGER refuse ON org.township`)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(roleExists(g, fc.user)).To(BeFalse(), "the township that left the spec goes once the server takes writes")
		var display string
		g.Expect(su.QueryRow(ctx, `SELECT display_name FROM org.township WHERE name = 'hutou'`).Scan(&display)).To(Succeed())
		g.Expect(display).To(Equal("湖头镇（新）"))
	}, conflictWait, interval).Should(Succeed())
}

// An object the operator made, with its managed-by label taken off by hand, is taken
// back (the label put back), not reported as someone else's.
func TestObjectWithLabelsRemovedIsTakenBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("unlabel")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: naming.DirectoryConfigMap}}
	g.Expect(k8s.Patch(ctx, cm, client.RawPatch(types.JSONPatchType,
		[]byte(`[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1managed-by"}]`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), got)).To(Succeed())
		g.Expect(got.Labels).To(HaveKeyWithValue(naming.LabelManagedBy, naming.ManagedByValue))
		rg := getRegion(g, name)
		g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(condition(rg, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
}

// The platform's prune, reached while a township's namespace is being deleted by hand:
// the render cannot be applied in full, so the module the spec switched off in the same
// change stays; once the namespace is made again and everything is applied, it goes.
func TestPlatformPrunesNothingWhileATownshipIsMissing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("prunewait")
	createRegion(t, platformRegion(name))
	g.Eventually(func(g Gomega) {
		deployment(g, name, "emergency")
		deployment(g, name+"-hutou", "services")
	}, timeout, interval).Should(Succeed())
	rolledOutReady(t, name)

	g.Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou"}})).To(Succeed())
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Modules = []string{"portal", "services", "deliberation", "supervision"}
	})
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		g.Expect(row(rg, "hutou").Ready).To(BeFalse())
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		deployment(g, name, "emergency")
	}, 3*time.Second, 300*time.Millisecond).Should(Succeed(), "nothing is pruned while the render is not applied in full")

	finalizeNamespace(g, name+"-hutou")
	gone(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "emergency"}})
	deployment(g, name+"-hutou", "services")
}
