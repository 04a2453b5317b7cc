package chaos

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// families are the metric families an operator's /metrics serves.
func families(g Gomega, addr string) map[string]bool {
	resp, err := http.Get("http://" + addr + "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "# TYPE "); ok {
			out[strings.Fields(name)[0]] = true
		}
	}
	return out
}

// metricNames are the operator's metrics an expression uses, by family (a histogram's
// _bucket, _sum and _count are its family's).
func metricNames(expr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\b(region_operator_[a-z_]+|controller_runtime_[a-z_]+|workqueue_[a-z_]+)\b`).FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if trimmed, ok := strings.CutSuffix(m, suffix); ok && strings.HasSuffix(trimmed, "_seconds") {
				m = trimmed
			}
		}
		out = append(out, m)
	}
	return out
}

// Every metric the chart's Grafana dashboard and alerting rules use is one the
// operator serves, scraped while it reconciles a county and again once it is Ready.
func TestDashboardAndAlertsUseMetricsThatExist(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	var used []string
	for _, f := range []string{"dashboards/region-operator.json", "templates/prometheusrule.yaml"} {
		data, err := os.ReadFile(filepath.Join(env.Root, "charts", "region-operator", f))
		g.Expect(err).NotTo(HaveOccurred())
		names := metricNames(string(data))
		g.Expect(names).NotTo(BeEmpty(), f)
		used = append(used, names...)
	}
	g.Expect(used).To(ContainElements("region_operator_regions", "region_operator_database_server_ready",
		"region_operator_sql_failures_total", "region_operator_pending_destruction"))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	addr := l.Addr().String()
	l.Close()
	p := start(t, "", filepath.Join(workDir, "metrics.log"), "--metrics-bind-address="+addr)
	defer p.kill()
	rg := county("metered", platformv1.DeletionPolicyRetain, 2)
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	check := func(g Gomega) {
		served := families(g, addr)
		for _, m := range used {
			g.Expect(served).To(HaveKey(m), "the dashboard or an alert uses %s", m)
		}
	}
	// While the county rolls out.
	g.Eventually(check, time.Minute, 200*time.Millisecond).Should(Succeed())
	converge(g, rg.Name, 2*time.Minute)
	check(g)
}
