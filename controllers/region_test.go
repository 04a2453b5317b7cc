package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

func TestRegionBecomesNamespacesPoliciesAndDirectory(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("blueprint")
	createRegion(t, sampleRegion(name))
	rg := waitReady(t, name)

	// Status: counts for the printer columns, one row per township, every layer ready.
	g.Expect(rg.Status.TownshipCount).To(BeEquivalentTo(2))
	g.Expect(rg.Status.BranchCount).To(BeEquivalentTo(3))
	g.Expect(rg.Finalizers).To(ContainElement(naming.Finalizer))
	for _, l := range []string{controllers.ConditionNamespacesReady, controllers.ConditionAccessReady, controllers.ConditionDirectoryReady} {
		g.Expect(condition(rg, l).Status).To(Equal(metav1.ConditionTrue), l)
	}
	g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
	g.Expect(rg.Status.Townships).To(HaveLen(2))
	g.Expect(rg.Status.Townships[0]).To(And(
		HaveField("Name", "fengcheng"), HaveField("Namespace", name+"-fengcheng"),
		HaveField("Branches", BeEquivalentTo(2)), HaveField("Ready", true),
		// A branch of two members is below the standard; the row says so, and stays ready.
		HaveField("Message", ContainSubstring("branch xinan has 2 members; a branch needs at least 3"))))
	g.Expect(rg.Status.Townships[1].Message).To(ContainSubstring("general branch"))

	// Namespaces and their labels.
	hub := getNamespace(g, name)
	g.Expect(hub.Labels).To(And(
		HaveKeyWithValue(naming.LabelManagedBy, "region-operator"),
		HaveKeyWithValue(naming.LabelRegion, name),
		HaveKeyWithValue(naming.LabelLevel, "county"),
		HaveKeyWithValue(naming.LabelCode, "350524"),
		HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted")))
	g.Expect(hub.OwnerReferences).To(BeEmpty(), "garbage collection must never cascade into a namespace")
	fc := getNamespace(g, name+"-fengcheng")
	g.Expect(fc.Labels).To(And(
		HaveKeyWithValue(naming.LabelTownship, "fengcheng"),
		HaveKeyWithValue(naming.LabelLevel, "township"),
		HaveKeyWithValue(naming.LabelCode, "350524100")))

	// RoleBindings.
	rb := &rbacv1.RoleBinding{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "township-admins"}, rb)).To(Succeed())
	g.Expect(rb.RoleRef.Name).To(Equal("admin"))
	g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", name+"-hutou-admins")))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "region-supervisors"}, rb)).To(Succeed())
	g.Expect(rb.RoleRef.Name).To(Equal("view"))
	g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", name+"-discipline")))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "region-admins"}, rb)).To(Succeed())
	g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", name+"-admins")))
	err := k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "township-admins"}, rb)
	g.Expect(err).To(HaveOccurred(), "the hub has no township admins")

	// NetworkPolicies: default deny, and the allowed peers.
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "default-deny-ingress"}, np)).To(Succeed())
	g.Expect(np.Spec.Ingress).To(BeEmpty())
	g.Expect(np.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "allow-region"}, np)).To(Succeed())
	from := np.Spec.Ingress[0].From
	g.Expect(from).To(HaveLen(3))
	g.Expect(from[1].NamespaceSelector.MatchExpressions[0].Values).To(ConsistOf(name), "a township admits only its hub")
	g.Expect(from[2].NamespaceSelector.MatchLabels).To(HaveKeyWithValue("kubernetes.io/metadata.name", "ingress-nginx"))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "allow-region"}, np)).To(Succeed())
	g.Expect(np.Spec.Ingress[0].From[1].NamespaceSelector.MatchExpressions[0].Values).To(
		ConsistOf(name+"-fengcheng", name+"-hutou"), "the hub admits its townships")

	// Quotas: defaults, and the township's override on top.
	q := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-fengcheng", Name: "township-quota"}, q)).To(Succeed())
	g.Expect(q.Spec.Hard).To(And(
		HaveKeyWithValue(corev1.ResourceRequestsCPU, resource.MustParse("4")),
		HaveKeyWithValue(corev1.ResourceRequestsMemory, resource.MustParse("8Gi")),
		HaveKeyWithValue(corev1.ResourcePods, resource.MustParse("40"))))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "township-quota"}, q)).To(Succeed())
	g.Expect(q.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsCPU, resource.MustParse("8")))
	g.Expect(q.Spec.Hard).To(HaveKeyWithValue(corev1.ResourceRequestsMemory, resource.MustParse("8Gi")))
	lr := &corev1.LimitRange{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "township-limits"}, lr)).To(Succeed())
	g.Expect(lr.Spec.Limits[0].Default).To(HaveKey(corev1.ResourceMemory))

	// The directory holds the hierarchy.
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "region-directory"}, cm)).To(Succeed())
	var dir desired.Directory
	g.Expect(json.Unmarshal([]byte(cm.Data["directory.json"]), &dir)).To(Succeed())
	g.Expect(dir.Code).To(Equal("350524"))
	g.Expect(dir.DisplayName).To(Equal("安溪县"))
	g.Expect(dir.Townships).To(HaveLen(2))
	g.Expect(dir.Townships[0].Branches).To(ContainElement(And(
		HaveField("Name", "xinan"), HaveField("DisplayName", "西安村党支部"),
		HaveField("Code", "350524100201"), HaveField("Form", desired.FormBelowMinimum))))
	g.Expect(dir.Townships[1].Branches[0].Form).To(Equal(desired.FormGeneralBranch))
}

// childKeys lists every object the sample Region makes, for resourceVersion checks.
func childObjects(name string) []client.Object {
	objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}}
	objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "region-directory"}})
	for _, ns := range []string{name, name + "-fengcheng", name + "-hutou"} {
		if ns != name {
			objs = append(objs,
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
				&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "township-quota"}},
				&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "township-limits"}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "region-directory"}},
				&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "township-admins"}})
		}
		objs = append(objs,
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "region-admins"}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "region-supervisors"}},
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny-ingress"}},
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-region"}})
	}
	return objs
}

func resourceVersions(g Gomega, name string) map[string]string {
	out := map[string]string{}
	for _, obj := range append(childObjects(name), &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}}) {
		key := fmt.Sprintf("%T %s", obj, client.ObjectKeyFromObject(obj))
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			out[key] = "absent"
			continue
		}
		g.Expect(err).NotTo(HaveOccurred())
		out[key] = obj.GetResourceVersion()
	}
	return out
}

func TestReconcileWithNothingChangedWritesNothing(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("idle")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	// Let the reconciles that creation set off settle.
	var before map[string]string
	g.Eventually(func(g Gomega) {
		before = resourceVersions(g, name)
		g.Consistently(func(g Gomega) {
			g.Expect(resourceVersions(g, name)).To(Equal(before))
		}, "1s", "200ms").Should(Succeed())
	}, timeout, interval).Should(Succeed())

	// Run the reconciler by hand, twice, on the live objects.
	r := &controllers.RegionReconciler{Client: mgrClient, APIReader: apiReader, Scheme: controllers.NewScheme(), SecretNamespace: controllers.DefaultSecretNamespace}
	for range 2 {
		_, err := r.Reconcile(context.Background(), reconcileRequest(name))
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(resourceVersions(g, name)).To(Equal(before), "a reconcile with nothing to do must change no object")
}
