package chaos

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// counters sums the operator's metrics named name whose labels contain every one of
// the given label pairs, by the value of the label by.
func counters(g Gomega, addr, name, by string, labels ...string) map[string]float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		series, value, _ := strings.Cut(line, " ")
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if !match {
			continue
		}
		v, _ := strconv.ParseFloat(value, 64)
		key := ""
		if i := strings.Index(series, by+`="`); i >= 0 {
			rest := series[i+len(by)+2:]
			key = rest[:strings.IndexByte(rest, '"')]
		}
		out[key] += v
	}
	return out
}

// An operator started again over Regions that are as they should be writes nothing:
// every object says what was applied to it, so none is applied again; no status, no
// Secret, no DDL changes. Here after a clean stop and after SIGKILL alike.
func TestRestartWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	names := []string{"restart-a", "restart-b"}
	logPath := filepath.Join(workDir, "restart.log")
	p := start(t, "", logPath)
	for _, n := range names {
		g.Expect(k8s.Create(ctx, county(n, platformv1.DeletionPolicyRetain, 3))).To(Succeed())
	}
	for _, n := range names {
		converge(g, n, 2*time.Minute)
	}
	// A township removed under Retain: its namespace is kept, marked retained, and is
	// not written again either.
	update(g, names[0], func(rg *platformv1.Region) { rg.Spec.Townships = rg.Spec.Townships[:2] })
	converge(g, names[0], 2*time.Minute)
	offset := logSize(g)
	for round := range 2 {
		p.kill()
		addr := freeAddr(g)
		p = start(t, "", logPath, "--metrics-bind-address="+addr)
		// Every Region reconciled at least once by the new process.
		g.Eventually(func(g Gomega) {
			done := counters(g, addr, "controller_runtime_reconcile_total", "result", `controller="region"`)
			g.Expect(done["success"] + done["requeue_after"]).To(BeNumerically(">=", len(names)))
		}, time.Minute, 250*time.Millisecond).Should(Succeed())
		time.Sleep(2 * time.Second) // what the reconciles' last steps would send
		writes := counters(g, addr, "rest_client_requests_total", "method")
		for _, verb := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			g.Expect(writes[verb]).To(BeZero(), "round %d: %s requests after the restart (all: %v)", round, verb, writes)
		}
		t.Logf("round %d: requests after the restart: %v", round, writes)
	}
	p.kill()
	g.Expect(statements(g, offset)).To(BeEmpty(), "no DDL after the restarts")
	noPanic(g, logPath)
}

// Two replicas with leader election: the one standing by keeps its store synced while
// the leader applies a change, and on taking over after the leader is killed (SIGKILL)
// it writes nothing: the objects the leader wrote say what was applied to them.
func TestStandbyTakesOverWritingNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "standby-a"
	logPath := filepath.Join(workDir, "standby.log")
	election := []string{"--leader-elect", "--leader-election-namespace=" + controllers.DefaultSecretNamespace}
	leader := start(t, "", logPath, election...)
	defer leader.kill()
	g.Expect(k8s.Create(ctx, county(name, platformv1.DeletionPolicyRetain, 3))).To(Succeed())
	converge(g, name, 2*time.Minute)

	addr := freeAddr(g)
	standby := start(t, "", logPath, append(election, "--metrics-bind-address="+addr)...)
	defer standby.kill()
	g.Eventually(func() error {
		_, err := http.Get("http://" + addr + "/metrics")
		return err
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	time.Sleep(3 * time.Second) // the standby's store synced

	// The leader applies a change to every township's bindings while the other stands by.
	update(g, name, func(rg *platformv1.Region) { rg.Spec.Access.Admins = append(rg.Spec.Access.Admins, name+"-ops") })
	converge(g, name, 2*time.Minute)
	time.Sleep(2 * time.Second) // the standby's store saw the leader's writes
	offset := logSize(g)
	before := versions(g, name)
	g.Expect(counters(g, addr, "controller_runtime_reconcile_total", "result", `controller="region"`)).To(SatisfyAll(
		Not(HaveKeyWithValue("success", BeNumerically(">", 0))), Not(HaveKeyWithValue("requeue_after", BeNumerically(">", 0)))),
		"the standby reconciled before it led")

	leader.kill()
	g.Eventually(func(g Gomega) {
		done := counters(g, addr, "controller_runtime_reconcile_total", "result", `controller="region"`)
		g.Expect(done["success"] + done["requeue_after"]).To(BeNumerically(">=", 1))
	}, time.Minute, 250*time.Millisecond).Should(Succeed())
	time.Sleep(2 * time.Second) // what the reconcile's last steps would send
	// Its lease and its event of leading are written (PUT, POST); nothing of the
	// Region's is applied, patched or deleted, not even without a change.
	writes := counters(g, addr, "rest_client_requests_total", "method")
	g.Expect(writes["PATCH"]+writes["DELETE"]).To(BeZero(), "requests after taking over: %v", writes)
	g.Expect(versions(g, name)).To(Equal(before), "objects written after taking over")
	standby.kill()
	g.Expect(statements(g, offset)).To(BeEmpty(), "no DDL after taking over")
	noPanic(g, logPath)
}

// versions are the resourceVersions of the Region and of every object it has.
func versions(g Gomega, name string) map[string]string {
	ctx := context.Background()
	rg := &platformv1.Region{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, rg)).To(Succeed())
	out := map[string]string{"Region": rg.ResourceVersion}
	for _, list := range []client.ObjectList{
		&corev1.NamespaceList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}, &corev1.SecretList{},
		&rbacv1.RoleBindingList{}, &networkingv1.NetworkPolicyList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{},
	} {
		g.Expect(k8s.List(ctx, list, client.MatchingLabels{naming.LabelRegion: name})).To(Succeed())
		items, err := meta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, it := range items {
			o := it.(client.Object)
			out[fmt.Sprintf("%T %s/%s", it, o.GetNamespace(), o.GetName())] = o.GetResourceVersion()
		}
	}
	return out
}

// freeAddr is a free local address to listen on.
func freeAddr(g Gomega) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}
