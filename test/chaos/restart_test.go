package chaos

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
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
		l, err := net.Listen("tcp", "127.0.0.1:0")
		g.Expect(err).NotTo(HaveOccurred())
		addr := l.Addr().String()
		l.Close()
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
