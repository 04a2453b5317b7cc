package controllers_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/naming"
)

func TestAccessAndQuotaChangesAreApplied(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("access")
	rg := sampleRegion(name)
	rg.Spec.Access.Admins = []string{"old-admins", "kept-admins"}
	createRegion(t, rg)
	waitReady(t, name)

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Access.Admins = []string{"kept-admins"}
		rg.Spec.Access.Supervisors = nil
		rg.Spec.Access.TownshipAdmins = "jiceng-{township}"
		rg.Spec.Townships[0].Quota = &platformv1.Quota{Memory: quantity("32Gi")}
	})
	waitReady(t, name)

	rb := &rbacv1.RoleBinding{}
	for _, ns := range []string{name, name + "-fengcheng", name + "-hutou"} {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "region-admins"}, rb)).To(Succeed())
		g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", "kept-admins")), "old-admins lost admin in %s", ns)
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "region-supervisors"}, rb)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no supervisors left: the binding goes in %s", ns)
	}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "township-admins"}, rb)).To(Succeed())
	g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", "jiceng-hutou")))

	q := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "township-quota"}, q)).To(Succeed())
	g.Expect(q.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsMemory, resource.MustParse("32Gi")))
	g.Expect(q.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsCPU, resource.MustParse("4")), "unset fields keep the defaults")
}

func TestAddingATownshipMakesItsNamespaceAndPolicies(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("add")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "guanqiao", DisplayName: "官桥镇", Code: "350524103"})
	})
	rg := waitReady(t, name)
	g.Expect(rg.Status.TownshipCount).To(BeEquivalentTo(3))
	ns := getNamespace(g, name+"-guanqiao")
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelCode, "350524103"))
	for _, obj := range []client.Object{
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "default-deny-ingress"}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "allow-region"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "township-admins"}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "township-quota"}},
	} {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	}
	// The hub now admits the new township too.
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "allow-region"}, np)).To(Succeed())
	g.Expect(np.Spec.Ingress[0].From[1].NamespaceSelector.MatchExpressions[0].Values).To(ContainElement(name + "-guanqiao"))
}

func TestRemovedTownshipIsRetained(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("retain")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	// The township has data: a ConfigMap of its own that the operator did not make.
	data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "ledger"}, Data: map[string]string{"k": "v"}}
	g.Expect(k8s.Create(ctx, data)).To(Succeed())

	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
	rg := waitReady(t, name)
	g.Expect(rg.Status.Retained).To(ConsistOf(platformv1.RetainedObject{Kind: "Namespace", Name: name + "-hutou", Township: "hutou"}))
	g.Expect(rg.Status.Townships).To(HaveLen(1))

	ns := getNamespace(g, name+"-hutou")
	g.Expect(ns.DeletionTimestamp).To(BeNil())
	g.Expect(ns.Labels).To(HaveKeyWithValue(naming.LabelRetained, "true"))
	g.Expect(ns.Annotations).To(HaveKey(naming.AnnotationSince))
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(data), data)).To(Succeed(), "the township's data stays")
	err := k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "township-admins"}, &rbacv1.RoleBinding{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the township's admins lose access")
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "region-admins"}, &rbacv1.RoleBinding{})).To(Succeed(),
		"region admins keep access to the retained data")
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "allow-region"}, np)).To(Succeed())
	g.Expect(np.Spec.Ingress[0].From[1].NamespaceSelector.MatchExpressions[0].Values).NotTo(ContainElement(name+"-hutou"),
		"the hub no longer admits a retained township")

	// Putting the township back takes its namespace back into service.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships, sampleRegion(name).Spec.Townships[1])
	})
	rg = waitReady(t, name)
	g.Expect(rg.Status.Retained).To(BeEmpty())
	g.Expect(getNamespace(g, name+"-hutou").Labels).NotTo(HaveKey(naming.LabelRetained))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "township-admins"}, &rbacv1.RoleBinding{})).To(Succeed())
}

func TestRemovedTownshipIsDeletedUnderDeletePolicy(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("shrink")
	rg := sampleRegion(name)
	rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	createRegion(t, rg)
	waitReady(t, name)
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:1] })
	rg = waitReady(t, name)
	g.Expect(rg.Status.Retained).To(BeEmpty())
	// envtest runs no namespace controller: the namespace stays Terminating, which is
	// all the operator itself does (the cluster then removes what is inside).
	g.Eventually(func(g Gomega) {
		g.Expect(getNamespace(g, name+"-hutou").DeletionTimestamp).NotTo(BeNil())
	}, timeout, interval).Should(Succeed())
	g.Expect(getNamespace(g, name+"-fengcheng").DeletionTimestamp).To(BeNil())
}

func TestDeletingARegionRetainsOrDeletesByPolicy(t *testing.T) {
	ctx := context.Background()
	for _, policy := range []platformv1.DeletionPolicy{platformv1.DeletionPolicyRetain, platformv1.DeletionPolicyDelete} {
		t.Run(string(policy), func(t *testing.T) {
			g := NewWithT(t)
			name := uniqueName("delete-" + strings.ToLower(string(policy)))
			rg := sampleRegion(name)
			rg.Spec.DeletionPolicy = policy
			createRegion(t, rg)
			waitReady(t, name)
			data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-fengcheng", Name: "ledger"}}
			g.Expect(k8s.Create(ctx, data)).To(Succeed())

			if policy == platformv1.DeletionPolicyDelete {
				deleteRegionConfirmed(t, name)
			} else {
				deleteRegion(name)
			}
			err := k8s.Get(ctx, client.ObjectKey{Name: name}, &platformv1.Region{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the finalizer is released")
			for _, ns := range []string{name, name + "-fengcheng", name + "-hutou"} {
				got := getNamespace(g, ns)
				if policy == platformv1.DeletionPolicyRetain {
					g.Expect(got.DeletionTimestamp).To(BeNil(), ns)
					g.Expect(got.Labels).To(HaveKeyWithValue(naming.LabelRetained, "true"), ns)
				} else {
					// Without a namespace controller in envtest the namespaces stay
					// Terminating; the operator's part is the delete call.
					g.Expect(got.DeletionTimestamp).NotTo(BeNil(), ns)
				}
			}
			if policy == platformv1.DeletionPolicyRetain {
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(data), data)).To(Succeed())
				err := k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "township-admins"}, &rbacv1.RoleBinding{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
			}
		})
	}
}

func TestSuspendStopsAllWrites(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("suspend")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Suspend = true })
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		g.Expect(condition(rg, controllers.ConditionSuspended).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())

	before := resourceVersions(g, name)
	// While suspended: a new township is not made, a deleted binding is not put back.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: "guanqiao", DisplayName: "官桥镇", Code: "350524103"})
	})
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-fengcheng", Name: "region-admins"}}
	g.Expect(k8s.Delete(ctx, rb)).To(Succeed())
	g.Consistently(func(g Gomega) {
		err := k8s.Get(ctx, client.ObjectKey{Name: name + "-guanqiao"}, &corev1.Namespace{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		err = k8s.Get(ctx, client.ObjectKeyFromObject(rb), &rbacv1.RoleBinding{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
	}, "2s", "200ms").Should(Succeed())
	after := resourceVersions(g, name)
	delete(before, "*v1.RoleBinding "+name+"-fengcheng/region-admins")
	delete(after, "*v1.RoleBinding "+name+"-fengcheng/region-admins")
	for k, v := range before {
		if k != "*v1alpha1.Region /"+name {
			g.Expect(after).To(HaveKeyWithValue(k, v))
		}
	}

	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Suspend = false })
	rg := waitReady(t, name)
	g.Expect(condition(rg, controllers.ConditionSuspended).Status).To(Equal(metav1.ConditionFalse))
	getNamespace(g, name+"-guanqiao")
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rb), &rbacv1.RoleBinding{})).To(Succeed())
}
