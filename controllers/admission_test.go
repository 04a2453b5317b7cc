package controllers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// as is a client that acts as user in groups, through the API server's authentication
// and authorization like any other caller.
func as(g Gomega, user string, groups ...string) client.Client {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append(groups, "system:authenticated")}
	cl, err := client.New(c, client.Options{Scheme: controllers.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	return cl
}

// A township admin is admin in their namespace, but cannot rewrite or delete what the
// operator made there: the admission policy refuses, naming the Region. Their own
// objects are theirs to make.
func TestTownshipAdminCannotChangeTheOperatorsObjects(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("protect")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	ns := name + "-hutou"
	ta := as(g, "li.ming", name+"-hutou-admins")

	refused := func(err error) {
		g.ExpectWithOffset(1, err).To(HaveOccurred())
		g.ExpectWithOffset(1, apierrors.IsForbidden(err) || apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
		g.ExpectWithOffset(1, err.Error()).To(ContainSubstring("is made by region-operator for Region " + name))
	}
	mallory := []byte(`{"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"mallory"}]}`)
	refused(ta.Patch(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.RoleBindingSupervisors}}, client.RawPatch(types.MergePatchType, mallory)))
	refused(ta.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.RoleBindingAdmins}}))
	refused(ta.Delete(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.NetworkPolicyDefaultDeny}}))
	refused(ta.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.SecretDatabase}},
		client.RawPatch(types.MergePatchType, []byte(`{"stringData":{"password":"mine"}}`))))
	g.Expect(ta.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ledger"}})).To(Succeed(), "their own objects are theirs")

	rb := &rbacv1.RoleBinding{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.RoleBindingSupervisors}, rb)).To(Succeed())
	g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", name+"-discipline")))
}

// A binding of the operator's name replaced by someone allowed to (a cluster
// administrator here), with its labels gone and other subjects, is taken back.
func TestReplacedBindingIsTakenBack(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("takeback")
	createRegion(t, sampleRegion(name))
	waitReady(t, name)
	ns := name + "-hutou"
	// Deleted and made again at once; the operator, quick to put its own back, may come
	// in between, so the replacement is tried until it lands.
	g.Eventually(func() error {
		if err := k8s.Delete(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.RoleBindingAdmins}}); client.IgnoreNotFound(err) != nil {
			return err
		}
		return k8s.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.RoleBindingAdmins},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "mallory"}}})
	}, timeout, interval).Should(Succeed())
	g.Eventually(func(g Gomega) {
		rb := &rbacv1.RoleBinding{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.RoleBindingAdmins}, rb)).To(Succeed())
		g.Expect(rb.RoleRef.Name).To(Equal("admin"))
		g.Expect(rb.Subjects).To(ConsistOf(HaveField("Name", name+"-admins")))
		g.Expect(rb.Labels).To(HaveKeyWithValue(naming.LabelRegion, name))
	}, timeout, interval).Should(Succeed())
	rg := waitReady(t, name)
	g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
}

// installFile creates the objects of a YAML file of the repository, as cluster admin.
func installFile(g Gomega, path ...string) {
	data, err := os.ReadFile(filepath.Join(append([]string{env.Root}, path...)...))
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range localenv.Objects(data) {
		err := k8s.Create(context.Background(), o)
		if !apierrors.IsAlreadyExists(err) {
			g.Expect(err).NotTo(HaveOccurred())
		}
	}
}

// The shipped region-editor and region-viewer ClusterRoles, and the example that gives
// one county's team its own Region by resourceNames, grant what they say through the
// API server's authorizer; and only the operator takes a Region's finalizer off.
func TestRegionRolesAndTheFinalizerPolicy(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	installFile(g, "config", "rbac", "region_editor_role.yaml")
	installFile(g, "config", "rbac", "region_viewer_role.yaml")
	installFile(g, "config", "samples", "rbac_county_team.yaml")
	for _, b := range []struct{ role, group string }{{"region-editor", "provincial-it"}, {"region-viewer", "auditors"}} {
		err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test-" + b.role},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b.group}}})
		if !apierrors.IsAlreadyExists(err) {
			g.Expect(err).NotTo(HaveOccurred())
		}
	}
	other := uniqueName("dehua")
	for _, n := range []string{"anxi", other} {
		createRegion(t, sampleRegion(n))
	}
	touch := func(c client.Client, region string) error {
		return c.Patch(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: region}},
			client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"team":"was-here"}}}`)))
	}
	team := as(g, "wang.fang", "anxi-platform")
	g.Eventually(func() error { return touch(team, "anxi") }, timeout, interval).Should(Succeed(), "the county's team writes its own Region")
	g.Expect(apierrors.IsForbidden(touch(team, other))).To(BeTrue(), "and no other")
	g.Expect(apierrors.IsForbidden(team.Create(ctx, sampleRegion(uniqueName("new"))))).To(BeTrue(), "nor creates one")

	viewer := as(g, "zhao.lei", "auditors")
	var list platformv1.RegionList
	g.Expect(viewer.List(ctx, &list)).To(Succeed())
	g.Expect(apierrors.IsForbidden(touch(viewer, "anxi"))).To(BeTrue(), "a viewer changes nothing")

	editor := as(g, "chen.jie", "provincial-it")
	g.Expect(touch(editor, other)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(getRegion(g, other).Finalizers).To(ContainElement(naming.Finalizer))
	}, timeout, interval).Should(Succeed())
	err := editor.Patch(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: other}},
		client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)))
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("only region-operator removes a Region's finalizer"))
	g.Expect(editor.Delete(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: other}})).To(Succeed(), "deleting is the editor's; the operator lets it go")
}
