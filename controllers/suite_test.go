package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/manager"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// The suite runs one real kube-apiserver and etcd and one operator for all tests; each
// test works on Regions of its own names.
var (
	env       *localenv.Env
	k8s       client.Client // a cluster administrator, reading straight from the API server
	cfg       *rest.Config
	mgrClient client.Client
	apiReader client.Reader
	pg        *localpg.Server
	operator  *manager.Operator
)

// The operator provisions as a role with CREATEDB and CREATEROLE and no more.
const (
	pgAdmin         = "region_admin"
	pgAdminPassword = "admin-Pa55word"
	testServer      = "test-pg"
	testMaxConns    = 3
)

const (
	stallAfter = 8 * time.Second
	timeout    = 30 * time.Second
	interval   = 100 * time.Millisecond
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = localenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	cfg = env.Config
	k8s, err = client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pg, err = localpg.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pg.Remove()
	if err := pg.CreateAdmin(context.Background(), pgAdmin, pgAdminPassword); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := registerServer(testServer, pgAdminPassword, testMaxConns); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctrl.SetLogger(testLogger())
	opts := manager.Local(4)
	// Causes only a person can fix turn into Stalled after this, here as in production
	// (DefaultStallAfter), only sooner.
	opts.StallAfter = stallAfter
	op, err := manager.Start(cfg, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	operator = op
	mgrClient, apiReader = op.Manager.GetClient(), op.Manager.GetAPIReader()
	code := m.Run()
	if err := op.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

// uniqueName gives each test Regions that no other test touches.
func uniqueName(prefix string) string { return prefix + "-" + rand.String(5) }

func quantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// sampleRegion is a small county with two townships and a few branches.
func sampleRegion(name string) *platformv1.Region {
	return &platformv1.Region{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: platformv1.RegionSpec{
			DisplayName: "安溪县",
			Code:        "350524",
			Townships: []platformv1.Township{
				{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100", Branches: []platformv1.Branch{
					{Name: "jiguan", DisplayName: "凤城镇机关党支部", Kind: platformv1.BranchOrgan, Members: 42},
					{Name: "xinan", DisplayName: "西安村党支部", Kind: platformv1.BranchVillage, Code: "350524100201", Members: 2},
				}},
				{Name: "hutou", DisplayName: "湖头镇", Code: "350524102", Quota: &platformv1.Quota{CPU: quantity("8")}, Branches: []platformv1.Branch{
					{Name: "zhongxue", DisplayName: "湖头中学党支部", Kind: platformv1.BranchSchool, Members: 60},
				}},
			},
			Access: platformv1.Access{
				Admins:         []string{name + "-admins"},
				Supervisors:    []string{name + "-discipline"},
				TownshipAdmins: "{region}-{township}-admins",
			},
			Network: platformv1.Network{IngressFrom: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}},
			Defaults: platformv1.Defaults{Quota: platformv1.Quota{CPU: quantity("4"), Memory: quantity("8Gi"), Pods: quantity("40")}},
		},
	}
}

func getRegion(g Gomega, name string) *platformv1.Region {
	rg := &platformv1.Region{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, rg)).To(Succeed())
	return rg
}

// waitReady waits until the Region's Ready condition is True for its current generation.
func waitReady(t *testing.T, name string) *platformv1.Region {
	t.Helper()
	return waitReadyWithin(t, name, timeout)
}

func condition(rg *platformv1.Region, t string) metav1.Condition {
	if c := meta.FindStatusCondition(rg.Status.Conditions, t); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func createRegion(t *testing.T, rg *platformv1.Region) {
	t.Helper()
	NewWithT(t).Expect(k8s.Create(context.Background(), rg)).To(Succeed())
	t.Cleanup(func() { deleteRegion(rg.Name) })
}

// annotate sets one annotation of a Region, as a person would with kubectl annotate.
func annotate(region, key, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
	if err != nil {
		return err
	}
	return k8s.Patch(context.Background(), &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: region}}, client.RawPatch(types.MergePatchType, patch))
}

// deleteRegion deletes a Region and waits for the operator to let it go.
func deleteRegion(name string) {
	ctx := context.Background()
	rg := &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}}
	// A test's Region under Delete goes without waiting for a person.
	_ = annotate(name, naming.AnnotationConfirmDestruction, name)
	_ = k8s.Delete(ctx, rg)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := k8s.Get(ctx, client.ObjectKey{Name: name}, rg); err != nil {
			return
		}
		time.Sleep(interval)
	}
}

// deleteRegionConfirmed deletes a Region whose policy is Delete: its deletion waits,
// destroying nothing, until the confirmation annotation names the Region.
func deleteRegionConfirmed(t *testing.T, name string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	g.Expect(k8s.Delete(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		c := condition(rg, controllers.ConditionConfirmationRequired)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring(naming.AnnotationConfirmDestruction + "=" + name))
		g.Expect(rg.Status.PendingDestruction).To(Equal([]string{name}))
	}, timeout, interval).Should(Succeed())
	g.Expect(getNamespace(g, name).DeletionTimestamp).To(BeNil(), "nothing is deleted before the confirmation")
	g.Expect(annotate(name, naming.AnnotationConfirmDestruction, name)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: name}, &platformv1.Region{}))
	}, timeout, interval).Should(BeTrue(), "the confirmed deletion releases the Region")
}

func getNamespace(g Gomega, name string) *corev1.Namespace {
	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, ns)).To(Succeed())
	return ns
}

// updateRegion changes a Region's spec, retrying on write conflicts.
func updateRegion(t *testing.T, name string, change func(*platformv1.Region)) {
	t.Helper()
	NewWithT(t).Eventually(func() error {
		rg := &platformv1.Region{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, rg); err != nil {
			return err
		}
		change(rg)
		return k8s.Update(context.Background(), rg)
	}, timeout, interval).Should(Succeed())
}

func reconcileRequest(name string) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKey{Name: name}}
}

// registerServer makes a DatabaseServer for the test PostgreSQL, with the administrator's
// login in a Secret.
func registerServer(name, password string, maxConns int32) error {
	return localenv.RegisterServer(context.Background(), k8s, pg, name, controllers.DefaultSecretNamespace, pgAdmin, password, maxConns)
}

// registerServerFor registers a DatabaseServer for one test and, when the test ends,
// deletes it and the Regions using it, so its pool's connections do not count as the
// next tests' connections.
func registerServerFor(t *testing.T, name string, maxConns int32) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(registerServer(name, pgAdminPassword, maxConns)).To(Succeed())
	t.Cleanup(func() {
		var regions platformv1.RegionList
		g.Expect(k8s.List(context.Background(), &regions)).To(Succeed())
		for _, rg := range regions.Items {
			if rg.Spec.Database != nil && rg.Spec.Database.ServerRef == name {
				deleteRegion(rg.Name)
			}
		}
		g.Expect(k8s.Delete(context.Background(), &platformv1.DatabaseServer{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
		g.Eventually(func() bool { return operator.Pools.Lookup(name) == nil }, timeout, interval).Should(BeTrue())
	})
}

func metaCondition(conds []metav1.Condition, t string) metav1.Condition {
	if c := meta.FindStatusCondition(conds, t); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func pgsqlGlobalDDL() int64 { return pgsql.Global.DDL.Load() }

// sqlCount counts every statement the operator ran in this process.
func sqlCount() int64 {
	return pgsql.Global.DDL.Load() + pgsql.Global.DML.Load() + pgsql.Global.Queries.Load()
}

// waitReadyWithin is waitReady with a longer wait, for recoveries that go through the
// controller's error backoff.
func waitReadyWithin(t *testing.T, name string, d time.Duration) *platformv1.Region {
	t.Helper()
	var rg *platformv1.Region
	NewWithT(t).Eventually(func(g Gomega) { rg = readyNow(g, name) }, d, interval).Should(Succeed())
	return rg
}

// readyNow expects the Region's Ready condition True for its current generation, and
// returns the Region.
func readyNow(g Gomega, name string) *platformv1.Region {
	rg := getRegion(g, name)
	g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
	c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionReady)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	return rg
}

// waitStalled waits until the Region says it is stalled (a conflict a person must solve).
func waitStalled(t *testing.T, name string) *platformv1.Region {
	t.Helper()
	var rg *platformv1.Region
	NewWithT(t).Eventually(func(g Gomega) {
		rg = getRegion(g, name)
		g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())
	return rg
}

// aReconciler is a Region reconciler of the suite's cluster beside the operator's own,
// reading Regions through reader, for a test to call directly.
func aReconciler(reader client.Reader) *controllers.RegionReconciler {
	return &controllers.RegionReconciler{Client: mgrClient, APIReader: reader, Scheme: mgrClient.Scheme(),
		Pools: operator.Pools, MaxConcurrentReconciles: 1, SecretNamespace: controllers.DefaultSecretNamespace}
}
