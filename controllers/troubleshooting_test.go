package controllers_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kevents "k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
)

// eventCounts counts the events of one kind and name by type and reason, a series
// counting as many events as it holds.
func eventCounts(g Gomega, kind, name string) map[string]int {
	var list eventsv1.EventList
	g.Expect(k8s.List(context.Background(), &list)).To(Succeed())
	out := map[string]int{}
	for _, e := range list.Items {
		if e.Regarding.Kind != kind || e.Regarding.Name != name {
			continue
		}
		n := 1
		if e.Series != nil {
			n = int(e.Series.Count)
		}
		out[e.Type+"/"+e.Reason] += n
	}
	return out
}

func serverCondition(g Gomega, server, t string) metav1.Condition {
	ds := &platformv1.DatabaseServer{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: server}, ds)).To(Succeed())
	return metaCondition(ds.Status.Conditions, t)
}

// Each cause of a DatabaseServer's failure has its own reason and a message naming the
// DatabaseServer and the field to fix.
func TestServerReasonsNameTheCause(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := controllers.DefaultSecretNamespace
	server := func(name string, port int, secret map[string]string) string {
		if secret != nil {
			g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: secret})).To(Succeed())
		}
		g.Expect(k8s.Create(ctx, &platformv1.DatabaseServer{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: platformv1.DatabaseServerSpec{Host: pg.Host, Port: int32(port), SSLMode: "disable",
				AdminSecretRef: platformv1.SecretKeyReference{Namespace: ns, Name: name}}})).To(Succeed())
		return name
	}
	noSecret := uniqueName("nosecret-pg")
	noKey := uniqueName("nokey-pg")
	cases := []struct{ server, reason, says string }{
		{server(noSecret, pg.Port, nil), controllers.ReasonSecretNotFound,
			"DatabaseServer " + noSecret + ": spec.adminSecretRef: reading the Secret " + ns + "/" + noSecret + ": it does not exist"},
		{server(noKey, pg.Port, map[string]string{"username": pgAdmin}), controllers.ReasonSecretInvalid,
			"DatabaseServer " + noKey + ": spec.adminSecretRef: the Secret " + ns + "/" + noKey + " has no key password"},
		{server(uniqueName("badpw-pg"), pg.Port, map[string]string{"username": pgAdmin, "password": "wrong"}), controllers.ReasonAuthenticationFailed,
			"password authentication failed"},
		{server(uniqueName("closed-pg"), closedPort(t), map[string]string{"username": pgAdmin, "password": pgAdminPassword}), controllers.ReasonUnreachable,
			"connection refused"},
	}
	for _, c := range cases {
		g.Eventually(func(g Gomega) {
			cond := serverCondition(g, c.server, controllers.ConditionReady)
			g.Expect(cond.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(cond.Reason).To(Equal(c.reason), cond.Message)
			g.Expect(cond.Message).To(ContainSubstring(c.says))
		}, timeout, interval).Should(Succeed(), c.server)
	}
}

// A Region on a DatabaseServer that does not exist: DatabaseReady says ServerNotFound,
// naming the server once; a Warning event says it once however often the operator
// retries; after the bound Stalled is True with that cause, and Reconciling False (so
// Argo CD shows Degraded); once the server exists, everything is back, with a Normal
// event for the recovery.
func TestMissingServerIsToldOnceStallsAndRecovers(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("noserver")
	server := uniqueName("later-pg")
	rg := dbRegion(name)
	rg.Spec.Database.ServerRef = server
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		c := condition(rg, controllers.ConditionDatabaseReady)
		g.Expect(c.Reason).To(Equal(controllers.ReasonServerNotFound), c.Message)
		g.Expect(c.Message).To(Equal("spec.database.serverRef: DatabaseServer " + server + " does not exist"))
		g.Expect(strings.Count(c.Message, server)).To(Equal(1))
		g.Expect(condition(rg, controllers.ConditionReady).Reason).To(Equal(controllers.ReasonServerNotFound))
		expectRetryingUntilTheBound(g, rg, c)
	}, timeout, interval).Should(Succeed())

	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		c := condition(rg, controllers.ConditionStalled)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(controllers.ReasonServerNotFound))
		g.Expect(c.Message).To(ContainSubstring("only a person can fix"))
		g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
	}, stallAfter+timeout, interval).Should(Succeed(), "Stalled after the bound")
	// The operator kept retrying all along (the bound is 8 s, its retries begin at
	// half a second): still one event for the cause.
	g.Expect(eventCounts(g, "Region", name)).To(HaveKeyWithValue("Warning/"+controllers.ReasonServerNotFound, 1))

	registerServerFor(t, server, 2)
	waitReady(t, name)
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		g.Expect(condition(rg, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
		counts := eventCounts(g, "Region", name)
		g.Expect(counts).To(HaveKeyWithValue("Normal/"+controllers.ReasonRecovered, 1))
		g.Expect(counts).To(HaveKeyWithValue("Warning/"+controllers.ReasonServerNotFound, 1))
	}, timeout, interval).Should(Succeed())
}

// staleReader answers a Region as it was once, as a watch cache a step behind would.
type staleReader struct {
	client.Reader
	stale *platformv1.Region
}

func (r staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if rg, ok := obj.(*platformv1.Region); ok && key.Name == r.stale.Name {
		r.stale.DeepCopyInto(rg)
		return nil
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

// A reconcile that reads a Region older than the operator's last status write (its
// server still missing, when the status already says it recovered) neither writes that
// status again nor tells the recovery a second time: its write finds the Region changed,
// and over the Region as it is there is nothing to write.
func TestStaleReadTellsNoTransitionTwice(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("stale")
	server := uniqueName("stale-pg")
	rg := dbRegion(name)
	rg.Spec.Database.ServerRef = server
	createRegion(t, rg)
	var before *platformv1.Region
	g.Eventually(func(g Gomega) {
		before = getRegion(g, name)
		g.Expect(condition(before, controllers.ConditionDatabaseReady).Reason).To(Equal(controllers.ReasonServerNotFound))
	}, timeout, interval).Should(Succeed())

	registerServerFor(t, server, 2)
	waitReady(t, name)
	g.Eventually(func(g Gomega) {
		g.Expect(eventCounts(g, "Region", name)).To(HaveKeyWithValue("Normal/"+controllers.ReasonRecovered, 1))
	}, timeout, interval).Should(Succeed())
	now := getRegion(g, name)

	told := kevents.NewFakeRecorder(16)
	r := aReconciler(staleReader{Reader: apiReader, stale: before})
	r.Recorder = told
	_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
	g.Expect(err).NotTo(HaveOccurred())
	close(told.Events)
	var said []string
	for e := range told.Events {
		said = append(said, e)
	}
	g.Expect(said).To(BeEmpty(), "a transition read from a stale Region was told")
	after := getRegion(g, name)
	g.Expect(after.ResourceVersion).To(Equal(now.ResourceVersion), "the status was written over from a stale read")
	g.Expect(condition(after, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
}

// A DatabaseServer whose Secret is missing: SecretNotFound, one Warning event, Stalled
// after the bound; the Secret created, it is Ready with a Normal event.
func TestMissingSecretStallsTheServerUntilItExists(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	server := uniqueName("stall-pg")
	g.Expect(k8s.Create(ctx, &platformv1.DatabaseServer{ObjectMeta: metav1.ObjectMeta{Name: server},
		Spec: platformv1.DatabaseServerSpec{Host: pg.Host, Port: int32(pg.Port), SSLMode: "disable",
			AdminSecretRef: platformv1.SecretKeyReference{Namespace: controllers.DefaultSecretNamespace, Name: server}}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		c := serverCondition(g, server, controllers.ConditionStalled)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(controllers.ReasonSecretNotFound))
		g.Expect(serverCondition(g, server, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
	}, stallAfter+timeout, interval).Should(Succeed())
	g.Expect(eventCounts(g, "DatabaseServer", server)).To(HaveKeyWithValue("Warning/"+controllers.ReasonSecretNotFound, 1))

	start := time.Now()
	g.Expect(k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: controllers.DefaultSecretNamespace, Name: server},
		StringData: map[string]string{"username": pgAdmin, "password": pgAdminPassword}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(serverCondition(g, server, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
		g.Expect(serverCondition(g, server, controllers.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(eventCounts(g, "DatabaseServer", server)).To(HaveKeyWithValue("Normal/"+controllers.ReasonRecovered, 1))
	}, timeout+30*time.Second, interval).Should(Succeed())
	t.Logf("back %s after the Secret was made", time.Since(start).Round(time.Second))
}

// closedPort is a port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
