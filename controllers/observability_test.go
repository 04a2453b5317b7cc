package controllers_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/jiceng-io/region-operator/controllers"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// metric returns the samples of one metric family from the operator's registry.
func metric(g Gomega, name string) []*dto.Metric {
	families, err := metrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func labelled(ms []*dto.Metric, key, value string) *dto.Metric {
	for _, m := range ms {
		for _, l := range m.GetLabel() {
			if l.GetName() == key && l.GetValue() == value {
				return m
			}
		}
	}
	return nil
}

func TestMetricsDescribeTheFleet(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("metrics")
	createRegion(t, dbRegion(name))
	waitReady(t, name)
	g.Eventually(func(g Gomega) {
		ready := labelled(metric(g, "region_operator_regions"), "ready", "true")
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.GetGauge().GetValue()).To(BeNumerically(">=", 1))
		g.Expect(metric(g, "region_operator_townships")[0].GetGauge().GetValue()).To(BeNumerically(">=", 2))
		g.Expect(metric(g, "region_operator_branches")[0].GetGauge().GetValue()).To(BeNumerically(">=", 3))
	}, timeout, interval).Should(Succeed())
	for _, phase := range []string{"namespaces", "access", "database", "directory", "platform"} {
		m := labelled(metric(g, "region_operator_phase_duration_seconds"), "phase", phase)
		g.Expect(m).NotTo(BeNil(), phase)
		g.Expect(m.GetHistogram().GetSampleCount()).To(BeNumerically(">", 0), phase)
	}
	g.Expect(labelled(metric(g, "region_operator_sql_statements_by_kind_total"), "kind", "ddl").GetCounter().GetValue()).To(BeNumerically(">", 0))
	g.Expect(metric(g, "region_operator_sql_statements_total")[0].GetCounter().GetValue()).To(BeNumerically(">", 0))
	g.Expect(metric(g, "region_operator_sql_failures_total")).NotTo(BeEmpty())
	g.Expect(metric(g, "region_operator_retained_objects")).NotTo(BeEmpty())
}

func TestEventsTellWhatHappened(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("events")
	theirs := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-hutou"}}
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	createRegion(t, sampleRegion(name))
	reasons := func(g Gomega) map[string]string {
		var list eventsv1.EventList
		g.Expect(k8s.List(ctx, &list)).To(Succeed())
		out := map[string]string{}
		for _, e := range list.Items {
			if e.Regarding.Kind == "Region" && e.Regarding.Name == name {
				out[e.Reason] = e.Note
			}
		}
		return out
	}
	g.Eventually(func(g Gomega) {
		r := reasons(g)
		g.Expect(r).To(HaveKeyWithValue("Created", ContainSubstring("created namespace")))
		g.Expect(r).To(HaveKeyWithValue("Conflict", ContainSubstring(name+"-hutou already exists")))
	}, timeout, interval).Should(Succeed())
	deleteRegion(name)
	g.Eventually(func(g Gomega) {
		g.Expect(reasons(g)).To(HaveKeyWithValue("Retained", ContainSubstring("kept")))
	}, timeout, interval).Should(Succeed())
}

// At debug level each reconcile ends with one line of its steps, each with its start and
// duration, so that a slow Region shows where its time went; at the default level there
// is no such line.
func TestDebugLogListsAReconcilesSteps(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("steps")
	createRegion(t, platformRegion(name))
	rolledOutReady(t, name)

	reconcileLogging := func(verbosity int) []string {
		var mu sync.Mutex
		var lines []string
		logger := funcr.New(func(_, args string) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, args)
		}, funcr.Options{Verbosity: verbosity})
		r := &controllers.RegionReconciler{Client: mgrClient, APIReader: apiReader, Scheme: controllers.NewScheme(), Pools: operator.Pools, SecretNamespace: controllers.DefaultSecretNamespace}
		_, err := r.Reconcile(logr.NewContext(context.Background(), logger), reconcileRequest(name))
		g.Expect(err).NotTo(HaveOccurred())
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
	step := regexp.MustCompile(`^[a-z' 0-9A-Z]+ \+\d+ms \d+ms$`)
	var steps []string
	for _, line := range reconcileLogging(1) {
		if !strings.Contains(line, `"msg"="reconciled"`) {
			continue
		}
		all := regexp.MustCompile(`"steps"=\[([^\]]*)\]`).FindStringSubmatch(line)
		g.Expect(all).To(HaveLen(2), line)
		for _, quoted := range regexp.MustCompile(`"[^"]*"`).FindAllString(all[1], -1) {
			s := strings.Trim(quoted, `"`)
			g.Expect(s).To(MatchRegexp(step.String()), line)
			steps = append(steps, strings.Fields(s)[0])
		}
	}
	g.Expect(steps).To(ContainElements("read", "namespaces", "access", "directory", "platform", "database", "deployments", "status"))
	for _, line := range reconcileLogging(0) {
		g.Expect(line).NotTo(ContainSubstring(`"msg"="reconciled"`))
	}
}
