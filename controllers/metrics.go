package controllers

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// The operator's own metrics, beside controller-runtime's, on the manager's /metrics.
var (
	regionsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "region_operator_regions", Help: "Regions by readiness.",
	}, []string{"ready"})
	townshipsGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "region_operator_townships", Help: "Townships managed, all Regions together.",
	})
	branchesGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "region_operator_branches", Help: "Party branches managed, all Regions together.",
	})
	retainedGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "region_operator_retained_objects", Help: "Namespaces, schemas and roles kept after leaving a spec.",
	})
	phaseSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "region_operator_phase_duration_seconds", Help: "Time one reconcile spent in each phase.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
	}, []string{"phase"})
	sqlStatements = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "region_operator_sql_statements_total", Help: "SQL statements run, all kinds.",
	}, func() float64 {
		return float64(pgsql.Global.DDL.Load() + pgsql.Global.DML.Load() + pgsql.Global.Queries.Load())
	})
	sqlByKind = []prometheus.Collector{
		sqlCounter("ddl", &pgsql.Global.DDL),
		sqlCounter("dml", &pgsql.Global.DML),
		sqlCounter("query", &pgsql.Global.Queries),
	}
	destroyedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "region_operator_destroyed_total",
		Help: "Objects the operator deleted, dropped or pruned because the spec stopped naming them, by kind.",
	}, []string{"kind"})
	serverReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "region_operator_database_server_ready", Help: "1 when the operator reaches a DatabaseServer and logs in, else 0.",
	}, []string{"server"})
	pendingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "region_operator_pending_destruction", Help: "Townships (or the Region itself) whose destruction waits for the confirm-destruction annotation, by Region.",
	}, []string{"region"})
	sqlFailures = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "region_operator_sql_failures_total", Help: "SQL statements and connections that failed.",
	}, func() float64 { return float64(pgsql.Global.Failures.Load()) })
)

type loader interface{ Load() int64 }

func sqlCounter(kind string, c loader) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "region_operator_sql_statements_by_kind_total",
		Help:        "SQL statements run, by kind: ddl changes the catalog, dml rows, query reads.",
		ConstLabels: prometheus.Labels{"kind": kind},
	}, func() float64 { return float64(c.Load()) })
}

func init() {
	metrics.Registry.MustRegister(regionsGauge, townshipsGauge, branchesGauge, retainedGauge, phaseSeconds, sqlStatements, sqlFailures, destroyedTotal,
		serverReady, pendingGauge)
	metrics.Registry.MustRegister(sqlByKind...)
	// Every kind a Region can destroy is there from the start, at 0, so that rates and
	// alerts over it have a series before the first destruction.
	for _, kind := range []string{"Namespace", "Schema", "Role", "Database", "RoleBinding", "ResourceQuota", "Deployment", "Service", "ConfigMap"} {
		destroyedTotal.WithLabelValues(kind)
	}
}

// regionFigures are one Region's contribution to the gauges.
type regionFigures struct {
	ready                         bool
	townships, branches, retained int
	pending                       int
}

// fleet keeps every Region's figures, so the gauges are sums over live Regions.
var fleet = struct {
	sync.Mutex
	regions map[string]regionFigures
}{regions: map[string]regionFigures{}}

func recordRegion(name string, f *regionFigures) {
	fleet.Lock()
	defer fleet.Unlock()
	if f == nil {
		delete(fleet.regions, name)
		pendingGauge.DeleteLabelValues(name)
	} else {
		fleet.regions[name] = *f
		pendingGauge.WithLabelValues(name).Set(float64(f.pending))
	}
	var ready, notReady, townships, branches, retained int
	for _, r := range fleet.regions {
		if r.ready {
			ready++
		} else {
			notReady++
		}
		townships += r.townships
		branches += r.branches
		retained += r.retained
	}
	regionsGauge.WithLabelValues("true").Set(float64(ready))
	regionsGauge.WithLabelValues("false").Set(float64(notReady))
	townshipsGauge.Set(float64(townships))
	branchesGauge.Set(float64(branches))
	retainedGauge.Set(float64(retained))
}

// timed runs a phase as a step of the reconcile's timeline and records how long it took.
func (s *scope) timed(phase string, fn func()) {
	phaseSeconds.WithLabelValues(phase).Observe(s.step(phase, fn).Seconds())
}

// step runs fn as a step of the reconcile's timeline and returns how long it took.
func (s *scope) step(name string, fn func()) time.Duration {
	start := time.Now()
	fn()
	took := time.Since(start)
	s.mark(name, start, took)
	return took
}

// mark notes in the reconcile's timeline a step that began at start and took took.
func (s *scope) mark(name string, start time.Time, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeline = append(s.timeline, span{name: name, start: start, took: took})
}

// span is one step of a reconcile's timeline.
type span struct {
	name  string
	start time.Time
	took  time.Duration
}

// steps tells the reconcile's timeline, each step as "name +start took" in
// milliseconds from the reconcile's start.
func (s *scope) steps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.timeline))
	for i, sp := range s.timeline {
		out[i] = fmt.Sprintf("%s +%dms %dms", sp.name, sp.start.Sub(s.started).Milliseconds(), sp.took.Milliseconds())
	}
	return out
}

// destroyed counts one object of a kind deleted, dropped or pruned.
func destroyed(kind string) { destroyedTotal.WithLabelValues(kind).Inc() }

// recordServer says whether a DatabaseServer answers; nil forgets it.
func recordServer(name string, ready *bool) {
	switch {
	case ready == nil:
		serverReady.DeleteLabelValues(name)
	case *ready:
		serverReady.WithLabelValues(name).Set(1)
	default:
		serverReady.WithLabelValues(name).Set(0)
	}
}
