package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// Nobody gets more than their own: a township's login, a Region's author, a platform
// patch and a DatabaseServer's author each stay inside their bounds.

// A township named like the provisioning login would own that login's "$user" schema:
// it is refused at reconcile, and no such schema is made.
func TestTownshipNamedLikeTheProvisioningLoginIsRefused(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("adminname")
	rg := dbRegion(name)
	rg.Spec.Townships[1].Name = "region-admin" // the provisioning login is region_admin
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		g.Expect(row(got, "region-admin").Message).To(ContainSubstring("named like the DatabaseServer " + testServer + "'s provisioning login, which is reserved"))
		g.Expect(row(got, "fengcheng").Schema).To(Equal("fengcheng"), "the other townships go ahead")
	}, timeout, interval).Should(Succeed())
	su := superuser(g, naming.Database(name))
	defer su.Close(ctx)
	var n int
	g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, pgAdmin).Scan(&n)).To(Succeed())
	g.Expect(n).To(BeZero())
}

// A platform patch that turns an object into a Namespace, with a privileged Pod
// Security label, fails the render naming the object; the township's namespace stays
// restricted.
func TestPatchCannotTurnAnObjectIntoANamespace(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("kindpatch")
	rg := platformRegion(name)
	rg.Spec.Platform.Patches = []platformv1.PlatformPatch{{
		Target: &platformv1.PatchTarget{Kind: "ConfigMap", Name: "services-config"},
		Patch: `[{"op": "replace", "path": "/kind", "value": "Namespace"},
			{"op": "replace", "path": "/apiVersion", "value": "v1"},
			{"op": "add", "path": "/metadata/labels", "value": {"pod-security.kubernetes.io/enforce": "privileged"}}]`,
	}}
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		c := condition(got, controllers.ConditionPlatformReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("holds Namespace"))
		g.Expect(c.Message).To(ContainSubstring("which the platform's base does not declare"))
	}, timeout, interval).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(getNamespace(g, name+"-hutou").Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
}

// A Region re-created under the name of a deleted county (Retain) does not take over
// that county's retained namespaces: it reports the conflict, binds nobody there, and
// deleting it under Delete leaves them alone.
func TestRecreatedRegionDoesNotTakeOverRetainedNamespaces(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("oldc")
	old := sampleRegion(name)
	createRegion(t, old)
	waitReady(t, name)
	deleteRegion(name)
	g.Expect(getNamespace(g, name+"-hutou").Labels).To(HaveKeyWithValue(naming.LabelRetained, "true"))

	// Even with the very same codes, the namespaces are the first Region's.
	again := sampleRegion(name)
	again.Spec.Access.Admins = []string{"mallory"}
	again.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	createRegion(t, again)
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		c := condition(got, controllers.ConditionNamespacesReady)
		g.Expect(c.Reason).To(Equal(controllers.ReasonConflict))
		g.Expect(c.Message).To(ContainSubstring("was made by an earlier Region " + name))
	}, timeout, interval).Should(Succeed())
	for _, ns := range []string{name, name + "-hutou", name + "-fengcheng"} {
		rb := &rbacv1.RoleBinding{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.RoleBindingAdmins}, rb)
		if err == nil {
			for _, s := range rb.Subjects {
				g.Expect(s.Name).NotTo(Equal("mallory"), ns)
			}
		}
	}
	deleteRegion(name) // confirmed, under Delete
	for _, ns := range []string{name, name + "-hutou", name + "-fengcheng"} {
		g.Expect(getNamespace(g, ns).DeletionTimestamp).To(BeNil(), ns)
	}
}

// A township admin who edits the password in the database Secret gets a role that
// takes the Secret's password: the two never drift apart while the Region says Ready.
func TestEditedSecretPasswordIsSetOnTheRole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("drift")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	key := client.ObjectKey{Namespace: name + "-hutou", Name: naming.SecretDatabase}
	patch := []byte(`{"stringData":{"password":"edited-by-hand-0123456789"}}`)
	g.Expect(k8s.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	g.Eventually(func(g Gomega) {
		l := credential(g, key.Namespace, key.Name)
		g.Expect(l.password).To(Equal("edited-by-hand-0123456789"))
		conn := connectAs(g, l)
		conn.Close(ctx)
		g.Expect(events(g, name, "CredentialDrift")).NotTo(BeEmpty())
	}, timeout, interval).Should(Succeed())
	waitReady(t, name)
}

// One township admin who puts a Secret of their own (immutable, unlabelled) where the
// operator's database Secret was stalls only their township: the others keep working,
// and a rotation reaches them, once.
func TestForeignSecretInOneTownshipStallsOnlyThatTownship(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("foreign")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	key := client.ObjectKey{Namespace: name + "-hutou", Name: naming.SecretDatabase}
	g.Expect(k8s.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Immutable: ptr.To(true), StringData: map[string]string{"password": "mine"}})).To(Succeed())
	before := credential(g, name+"-fengcheng", naming.SecretDatabase)

	g.Expect(annotate(name, naming.AnnotationRotateCredentials, "r1")).To(Succeed())
	var rotated login
	g.Eventually(func(g Gomega) {
		got := getRegion(g, name)
		// Within moments of making the namespace the operator tries to write (the
		// immutable Secret refuses); later it sees someone else's Secret: either way,
		// that township's failure alone.
		g.Expect(row(got, "hutou").Message).To(ContainSubstring("Secret " + key.Namespace + "/" + key.Name))
		g.Expect(row(got, "fengcheng").Ready).To(BeTrue())
		rotated = credential(g, name+"-fengcheng", naming.SecretDatabase)
		g.Expect(rotated.password).NotTo(Equal(before.password), "the other township is rotated")
		conn, err := pg.Connect(ctx, rotated.user, rotated.password, rotated.db)
		g.Expect(err).NotTo(HaveOccurred())
		conn.Close(ctx)
	}, timeout, interval).Should(Succeed())
	_, err := pg.Connect(ctx, before.user, before.password, before.db)
	g.Expect(err).To(HaveOccurred(), "the old password no longer works")
	// Retries of the stalled Region do not rotate the others again.
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships[0].DisplayName = "凤城镇（改）" })
	g.Consistently(func(g Gomega) {
		g.Expect(credential(g, name+"-fengcheng", naming.SecretDatabase).password).To(Equal(rotated.password))
	}, 3*time.Second, 300*time.Millisecond).Should(Succeed())
}

// A finalizer removed by hand is put back, so a later deletion still carries out the
// deletion policy.
func TestFinalizerRemovedByHandIsPutBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("finalizer")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	g.Expect(k8s.Patch(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}},
		client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(getRegion(g, name).Finalizers).To(ContainElement(naming.Finalizer))
	}, timeout, interval).Should(Succeed())
}

// Region c's township d and Region c-d's hub derive the same namespace name. Applied
// together, exactly one of them has it; the other reports the conflict, and nothing of
// it is put into the namespace.
func TestRegionsWhoseNamesMeetDoNotShareANamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	c := uniqueName("c")
	cd := c + "-d"
	first := sampleRegion(c)
	first.Spec.Townships = append(first.Spec.Townships, platformv1.Township{Name: "d", DisplayName: "第四镇", Code: "350524104"})
	second := sampleRegion(cd)
	go func() { _ = k8s.Create(ctx, second) }()
	createRegion(t, first)
	t.Cleanup(func() { deleteRegion(cd) })
	var owner, other string
	g.Eventually(func(g Gomega) {
		ns := getNamespace(g, cd)
		owner = ns.Labels[naming.LabelRegion]
		g.Expect(owner).To(BeElementOf(c, cd))
		other = c
		if owner == c {
			other = cd
		}
		rg := getRegion(g, other)
		g.Expect(condition(rg, controllers.ConditionNamespacesReady).Reason).To(Equal(controllers.ReasonConflict))
		g.Expect(condition(rg, controllers.ConditionNamespacesReady).Message).To(ContainSubstring("Namespace " + cd + " already exists and belongs to Region \"" + owner + "\""))
	}, timeout, interval).Should(Succeed())
	owned := getRegion(g, owner)
	g.Expect(getNamespace(g, cd).Annotations).To(HaveKeyWithValue(naming.AnnotationRegionUID, string(owned.UID)))
	g.Consistently(func(g Gomega) {
		var rbs rbacv1.RoleBindingList
		g.Expect(k8s.List(ctx, &rbs, client.InNamespace(cd))).To(Succeed())
		for _, rb := range rbs.Items {
			g.Expect(rb.Labels).To(HaveKeyWithValue(naming.LabelRegion, owner), rb.Name)
		}
	}, 2*time.Second, 200*time.Millisecond).Should(Succeed())
}

// Another county's township that grants something to a Region's role cannot keep that
// Region from being deleted: the grant is let go in the other county's database before
// the role is dropped.
func TestGrantFromAnotherCountyDoesNotBlockDeletion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	a, b := uniqueName("granted"), uniqueName("granter")
	readyToDelete(t, a, nil)
	createRegion(t, dbRegion(b))
	waitReady(t, b)
	bt := connectAs(g, credential(g, b+"-hutou", naming.SecretDatabase))
	defer bt.Close(ctx)
	g.Expect(exec(bt, `CREATE TABLE hutou.shared (id int); GRANT SELECT ON hutou.shared TO `+naming.CountyRole(a))).To(Succeed())

	deleteRegion(a)
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: a}, &platformv1.Region{})).NotTo(Succeed(), "the deletion finished")
	g.Expect(roleExists(g, naming.CountyRole(a))).To(BeFalse())
	var n int
	g.Expect(bt.QueryRow(ctx, `SELECT count(*) FROM hutou.shared`).Scan(&n)).To(Succeed(), "the other county's table is untouched")
}

// Each layer writes under a field manager of its own: the platform's objects, its
// ConfigMaps included, cannot own a field of a namespace, a binding or a credential.
// An object applied under the single manager of old is handed over to its layer's.
func TestEachLayerWritesUnderItsOwnFieldManager(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("managers")
	// As an earlier operator made it: the hub namespace under the single manager.
	legacy := []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + name + `","labels":{"` +
		naming.LabelManagedBy + `":"` + naming.ManagedByValue + `","` + naming.LabelRegion + `":"` + name + `","` + naming.LabelCode + `":"350524"}}}`)
	g.Expect(k8s.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, client.RawPatch(types.ApplyPatchType, legacy),
		client.FieldOwner(naming.FieldManager))).To(Succeed())
	createRegion(t, platformRegion(name))
	managers := func(g Gomega, obj client.Object) []string {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		var out []string
		for _, f := range obj.GetManagedFields() {
			if f.Operation == metav1.ManagedFieldsOperationApply {
				out = append(out, f.Manager)
			}
		}
		return out
	}
	g.Eventually(func(g Gomega) {
		g.Expect(managers(g, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(ConsistOf("region-operator-namespaces"), "handed over")
		g.Expect(managers(g, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou"}})).To(ConsistOf("region-operator-namespaces"))
		g.Expect(managers(g, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: naming.RoleBindingAdmins}})).To(ConsistOf("region-operator-access"))
		g.Expect(managers(g, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: naming.SecretDatabase}})).To(ConsistOf("region-operator-database"))
		g.Expect(managers(g, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: naming.DirectoryConfigMap}})).To(ConsistOf("region-operator-directory"))
		g.Expect(managers(g, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "portal-config"}})).To(ConsistOf("region-operator-platform"))
	}, timeout, interval).Should(Succeed())
}

// A rotation asked for while the database server is down writes new passwords into
// the Secrets first; the roles take them once the server is back, and every Secret
// logs in: no role is left with a password no Secret holds.
func TestRotationDuringAnOutageEndsWithWorkingLogins(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("rotdown")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	before := credential(g, name+"-hutou", naming.SecretDatabase)
	g.Expect(pg.Stop()).To(Succeed())
	restarted := false
	defer func() {
		if !restarted {
			_ = pg.StartAgain()
		}
	}()
	g.Expect(annotate(name, naming.AnnotationRotateCredentials, "during-outage")).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(credential(g, name+"-hutou", naming.SecretDatabase).password).NotTo(Equal(before.password))
		g.Expect(condition(getRegion(g, name), controllers.ConditionDatabaseReady).Status).To(Equal(metav1.ConditionFalse))
	}, timeout, interval).Should(Succeed())
	g.Expect(pg.StartAgain()).To(Succeed())
	restarted = true
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		g.Expect(rg.Status.Database).NotTo(BeNil())
		g.Expect(rg.Status.Database.RotationToken).To(Equal("during-outage"))
	}, 3*time.Minute, interval).Should(Succeed())
	for _, ns := range []string{name, name + "-fengcheng", name + "-hutou"} {
		connectAs(g, credential(g, ns, naming.SecretDatabase)).Close(ctx)
	}
	connectAs(g, credential(g, name, naming.SecretSupervisor)).Close(ctx)
	_, err := pg.Connect(ctx, before.user, before.password, before.db)
	g.Expect(err).To(HaveOccurred(), "the old password is gone")
}
