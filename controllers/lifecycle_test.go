package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/naming"
)

func TestDriftIsPutBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("drift")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	ns := name + "-fengcheng"

	// A deleted RoleBinding comes back.
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "township-admins"}}
	g.Expect(k8s.Delete(ctx, rb)).To(Succeed())
	g.Eventually(func(g Gomega) {
		got := &rbacv1.RoleBinding{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rb), got)).To(Succeed())
		g.Expect(got.Subjects).To(ConsistOf(HaveField("Name", name+"-fengcheng-admins")))
	}, timeout, interval).Should(Succeed())

	// A subject added by hand is taken away again.
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rb), rb)).To(Succeed())
	rb.Subjects = append(rb.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "intruders"})
	g.Expect(k8s.Update(ctx, rb)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rb), rb)).To(Succeed())
		g.Expect(rb.Subjects).To(HaveLen(1))
	}, timeout, interval).Should(Succeed())

	// A NetworkPolicy opened up by hand is closed again.
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default-deny-ingress"}, np)).To(Succeed())
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}} // allow all
	g.Expect(k8s.Update(ctx, np)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(np), np)).To(Succeed())
		g.Expect(np.Spec.Ingress).To(BeEmpty())
	}, timeout, interval).Should(Succeed())

	// A quota raised by hand is lowered again.
	q := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "township-quota"}, q)).To(Succeed())
	q.Spec.Hard[corev1.ResourceRequestsCPU] = resource.MustParse("64")
	g.Expect(k8s.Update(ctx, q)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(q), q)).To(Succeed())
		g.Expect(q.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsCPU, resource.MustParse("4")))
	}, timeout, interval).Should(Succeed())

	// The directory edited by hand is written back.
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "region-directory"}, cm)).To(Succeed())
	cm.Data["directory.json"] = "{}"
	g.Expect(k8s.Update(ctx, cm)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), cm)).To(Succeed())
		g.Expect(cm.Data["directory.json"]).To(ContainSubstring("350524100"))
	}, timeout, interval).Should(Succeed())

	// A namespace label taken off by hand is put back.
	nsObj := getNamespace(g, ns)
	delete(nsObj.Labels, "pod-security.kubernetes.io/enforce")
	g.Expect(k8s.Update(ctx, nsObj)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(getNamespace(g, ns).Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	}, timeout, interval).Should(Succeed())
}

func TestExistingObjectsOfOthersAreConflictsLeftAlone(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("conflict")
	// Someone already has a namespace where the Region wants its hutou township,
	// and a ConfigMap named like the directory in a namespace the Region will own.
	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou", Labels: map[string]string{"team": "someone-else"}}}
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	createRegion(t, sampleRegion(name))

	rg := waitStalled(t, name)
	g.Expect(condition(rg, controllers.ConditionStalled).Message).To(ContainSubstring("Namespace " + name + "-hutou already exists and is not managed by this Region"))
	g.Expect(condition(rg, controllers.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(condition(rg, controllers.ConditionReady).Reason).To(Equal(controllers.ReasonConflict))
	g.Expect(condition(rg, controllers.ConditionNamespacesReady).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(rg.Status.Townships[1]).To(And(HaveField("Name", "hutou"), HaveField("Ready", false),
		HaveField("Message", ContainSubstring("already exists"))))
	g.Expect(rg.Status.Townships[0].Ready).To(BeTrue(), "the other township is made as usual")

	// Their namespace is untouched: no labels of ours, nothing of ours inside.
	got := getNamespace(g, name+"-hutou")
	g.Expect(got.Labels).NotTo(HaveKey(naming.LabelRegion))
	g.Expect(got.Labels).To(HaveKeyWithValue("team", "someone-else"))
	var rbs rbacv1.RoleBindingList
	g.Expect(k8s.List(ctx, &rbs, client.InNamespace(name+"-hutou"))).To(Succeed())
	g.Expect(rbs.Items).To(BeEmpty())

	// Deleting the stalled Region finishes all the same, and their namespace stays.
	deleteRegion(name)
	err := k8s.Get(ctx, client.ObjectKey{Name: name}, &platformv1.Region{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a Region stalled on a conflict can still be deleted")
	g.Expect(getNamespace(g, name+"-hutou").DeletionTimestamp).To(BeNil())
}

// A namespace the operator does not have is made, and only made: one that someone made
// after the operator last looked (here: made before the apply, with nothing looked up)
// is refused by the API server, not taken over; an absent one is made.
func TestNamespaceMadeMeanwhileIsNotTakenOver(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("meanwhile")
	side := aReconciler(apiReader)
	ours := func(ns string) *corev1ac.NamespaceApplyConfiguration {
		return corev1ac.Namespace(ns).WithLabels(map[string]string{naming.LabelRegion: name, naming.LabelManagedBy: naming.ManagedByValue})
	}

	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou", Labels: map[string]string{"team": "someone-else"}}}
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	created, err := side.Create(ctx, "Namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: theirs.Name}}, ours(theirs.Name))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(created).To(BeFalse(), "an existing namespace is not made again")
	got := getNamespace(g, theirs.Name)
	g.Expect(got.Labels).To(HaveKeyWithValue("team", "someone-else"))
	g.Expect(got.Labels).NotTo(HaveKey(naming.LabelRegion), "their namespace is not taken over")
	g.Expect(got.ResourceVersion).To(Equal(theirs.ResourceVersion), "nothing was written to it")

	created, err = side.Create(ctx, "Namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-fengcheng"}}, ours(name+"-fengcheng"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(created).To(BeTrue())
	g.Expect(getNamespace(g, name+"-fengcheng").Labels).To(HaveKeyWithValue(naming.LabelRegion, name))
	for _, ns := range []string{theirs.Name, name + "-fengcheng"} {
		g.Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
}

func TestNamespaceOfAnotherRegionIsNotTakenOver(t *testing.T) {
	g := NewWithT(t)
	base := uniqueName("taken")
	// Region "<base>-fengcheng" owns the hub namespace "<base>-fengcheng" ...
	first := sampleRegion(base + "-fengcheng")
	first.Spec.Townships = nil
	createRegion(t, first)
	waitReady(t, first.Name)
	// ... which Region "<base>" would want for its township fengcheng.
	createRegion(t, sampleRegion(base))
	rg := waitStalled(t, base)
	g.Expect(condition(rg, controllers.ConditionStalled).Message).To(ContainSubstring(
		"Namespace " + base + "-fengcheng already exists and belongs to Region \"" + base + "-fengcheng\""))
	ns := getNamespace(g, base+"-fengcheng")
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelRegion, first.Name))
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelLevel, "county"))
	g.Expect(waitReady(t, first.Name).Status.Conditions).NotTo(BeEmpty(), "the first Region is unaffected")
}

// A new Region carries the operator's finalizer from the moment it is created: the
// admission policy of config/admission adds it, so the operator need not write the
// Region once more before it starts.
func TestNewRegionHasTheFinalizerFromItsCreation(t *testing.T) {
	g := NewWithT(t)
	rg := sampleRegion(uniqueName("finalized"))
	createRegion(t, rg)
	g.Expect(rg.Finalizers).To(Equal([]string{naming.Finalizer}), "the API server's answer to the create")

	// A finalizer of someone else's is kept beside it.
	other := sampleRegion(uniqueName("finalized"))
	other.Finalizers = []string{"example.org/audit"}
	g.Expect(k8s.Create(context.Background(), other, client.DryRunAll)).To(Succeed())
	g.Expect(other.Finalizers).To(Equal([]string{"example.org/audit", naming.Finalizer}))
}

// Without the admission policy (a cluster before Kubernetes 1.36, or an install without
// config/admission) the operator adds its finalizer itself before it makes anything.
func TestOperatorAddsTheFinalizerWithoutTheAdmissionPolicy(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	objs, err := env.AdmissionObjects()
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		g.Expect(k8s.Delete(ctx, o.DeepCopy())).To(Succeed())
	}
	t.Cleanup(func() {
		for _, o := range objs {
			g.Expect(k8s.Create(ctx, o.DeepCopy())).To(Succeed())
		}
		g.Expect(localenv.WaitFinalizerPolicy(ctx, k8s, true)).To(Succeed())
	})
	g.Expect(localenv.WaitFinalizerPolicy(ctx, k8s, false)).To(Succeed())

	name := uniqueName("unfinalized")
	rg := sampleRegion(name)
	createRegion(t, rg)
	g.Expect(rg.Finalizers).To(BeEmpty(), "created without the policy")
	rg = waitReady(t, name)
	g.Expect(rg.Finalizers).To(Equal([]string{naming.Finalizer}))
}
