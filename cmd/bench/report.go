package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is what one run measured.
type Result struct {
	Machine   map[string]string `json:"machine"`
	Counties  int               `json:"counties"`
	Townships int               `json:"townships"`
	Branches  int               `json:"branches"`
	Objects   int               `json:"objects"`
	Database  bool              `json:"database"`
	// MemoryLimit is the operator's container memory limit, if it had one.
	MemoryLimit string `json:"memoryLimit,omitempty"`
	// DataDir is where etcd and PostgreSQL kept their data.
	DataDir string `json:"dataDir"`

	FloorKubernetesSeconds float64 `json:"floorKubernetesSeconds"`
	FloorSQLSeconds        float64 `json:"floorSQLSeconds"`
	FloorSeconds           float64 `json:"floorSeconds"`
	// FloorCPU and OperatorCPU are the CPU seconds each process used in the phase:
	// kube-apiserver, etcd, postgres, operator and bench (the floor's client, the
	// operator run's harness).
	FloorCPU map[string]float64 `json:"floorCPUSeconds"`

	OperatorSeconds   float64            `json:"operatorSeconds"`
	OperatorCPU       map[string]float64 `json:"operatorCPUSeconds"`
	Ratio             float64            `json:"operatorToFloorRatio"`
	LatencyP50Seconds float64            `json:"applyToReadyP50Seconds"`
	LatencyP99Seconds float64            `json:"applyToReadyP99Seconds"`
	Reconciles        int64              `json:"regionReconciles"`
	APIRequests       map[string]int64   `json:"apiRequestsByVerb"`
	SQLStatements     map[string]int64   `json:"sqlStatements"`
	PeakHeapMiB       float64            `json:"operatorPeakHeapMiB"`
	PeakRSSMiB        float64            `json:"operatorPeakRSSMiB"`
	PeakConnections   int64              `json:"peakConnectionsToPostgres"`
	// FloorPeakConnections is the same of the floor's bare pool.
	FloorPeakConnections int64   `json:"floorPeakConnectionsToPostgres"`
	FloorSessions        int64   `json:"floorPostgresSessions"`
	Sessions             int64   `json:"operatorPostgresSessions"`
	MaxConnections       int     `json:"maxConnections"`
	SteadySeconds        float64 `json:"steadySeconds"`
	SteadyChangedRVs     int     `json:"steadyChangedResourceVersions"`
	SteadyDDL            int64   `json:"steadyDDLStatements"`
	SteadyResyncForced   bool    `json:"steadyResyncForced"`
	// Restart is what -restart measured.
	Restart *RestartResult `json:"restart,omitempty"`
	// AddOne is what -add-one measured.
	AddOne *AddOneResult `json:"addOne,omitempty"`
	// Failover is what -failover measured.
	Failover *FailoverResult `json:"failover,omitempty"`
	// Stores is what -store-memory measured.
	Stores []StoreMemory `json:"stores,omitempty"`
	// Runs are the runs of -repeat, this one (the median's) among them; MedianRatio
	// the median of their ratios.
	Runs        []*Result `json:"runs,omitempty"`
	MedianRatio float64   `json:"medianRatio,omitempty"`
}

// median is the run whose ratio is the median of the runs' (the lower of the two
// middle ones for an even count), with every run and the median recorded on it.
func median(runs []*Result) *Result {
	m := *middle(runs, func(r *Result) float64 { return r.Ratio })
	m.Runs, m.MedianRatio = runs, m.Ratio
	return &m
}

// FailoverResult is the standby replica taking over from a killed leader.
type FailoverResult struct {
	// Seconds is from the killed leader's lease expiring until the new leader has
	// reconciled every Region once.
	Seconds float64 `json:"seconds"`
	// LeaseSeconds is the lease's duration, from the kill to its expiry at most.
	LeaseSeconds float64 `json:"leaseSeconds"`
	// Writes counts the write requests the API server served for Regions and the
	// operator's kinds from the kill until then (as restart's), ObjectsChanged the
	// objects (and Regions) whose resourceVersion changed, and DDL the statements;
	// Requests the new leader's requests by verb, its lease's included.
	Writes           int64            `json:"writes"`
	WritesByResource map[string]int64 `json:"writesByResource,omitempty"`
	ObjectsChanged   int              `json:"objectsChanged"`
	DDL              int64            `json:"ddl"`
	Requests         map[string]int64 `json:"requests"`
	// StandbyRSSBytes is the standby's resident memory just before the kill.
	StandbyRSSBytes int64 `json:"standbyRSSBytes"`
}

// AddOneResult is what -add-one measured: counties applied one after another into a
// Ready province, each beside its own floor. A county's apply to Ready is a few
// seconds, so one measure carries whatever the machine did in those seconds; the
// median of several does not.
type AddOneResult struct {
	// AddOneCounty is the county whose ratio is the median of theirs (the lower of the
	// two middle ones for an even count): its floor, its apply to Ready, the ratio
	// (addOne.ratio) and its timeline.
	AddOneCounty
	// OthersTouched counts, over every county added, the objects of the other counties
	// (and the Regions) whose resourceVersion changed while it was applied: the
	// counties added before it are among the others.
	OthersTouched int `json:"othersTouched"`
	// Counties is every county added, in order.
	Counties []AddOneCounty `json:"counties"`
}

// AddOneCounty is one more county applied into a Ready province.
type AddOneCounty struct {
	Region string `json:"region"`
	// FloorSeconds is the bare client making just that county's objects and SQL (another
	// county of the same size, in the same cluster); OperatorSeconds its Region's apply
	// to Ready.
	FloorSeconds    float64 `json:"floorSeconds"`
	OperatorSeconds float64 `json:"operatorSeconds"`
	Ratio           float64 `json:"ratio"`
	// OthersTouched counts the objects of the other counties (and the Regions) whose
	// resourceVersion changed meanwhile.
	OthersTouched int `json:"othersTouched"`
	// Timeline is when, after the create, the API server showed the county's objects
	// and the Region's statuses.
	Timeline AddOneTimeline `json:"timeline"`
}

// medianCounty is the county whose ratio is the median of theirs.
func medianCounty(counties []AddOneCounty) AddOneCounty {
	return middle(counties, func(c AddOneCounty) float64 { return c.Ratio })
}

// middle is the one of xs whose ratio is the median of theirs (the lower of the two
// middle ones for an even count; of equal ones, the earlier); xs keeps its order.
func middle[T any](xs []T, ratio func(T) float64) T {
	sorted := slices.Clone(xs)
	slices.SortStableFunc(sorted, func(a, b T) int { return cmp.Compare(ratio(a), ratio(b)) })
	return sorted[(len(sorted)-1)/2]
}

// AddOneTimeline is the county's way to Ready, in seconds from its Region's create, as
// the harness's watches saw it.
type AddOneTimeline struct {
	FirstNamespaceSeconds float64 `json:"firstNamespaceSeconds"`
	LastServiceSeconds    float64 `json:"lastServiceSeconds"`
	LastDeploymentSeconds float64 `json:"lastDeploymentSeconds"`
	// RolledOutSeconds is when the last of its Deployments was reported rolled out.
	RolledOutSeconds float64 `json:"rolledOutSeconds"`
	// StatusSeconds are the times the Region's status changed, the last one Ready.
	StatusSeconds []float64 `json:"statusSeconds"`
}

// RestartResult is what the operator did after it was killed and started again over a
// Ready province.
type RestartResult struct {
	// Writes counts the write requests (create, update, patch, apply, delete) the API
	// server served for Regions and the operator's kinds, by verb and resource in
	// WritesByResource; its lease and events are not among them. Requests are all the
	// operator's requests, by verb, those included.
	Writes           int64            `json:"writes"`
	WritesByResource map[string]int64 `json:"writesByResource,omitempty"`
	Requests         map[string]int64 `json:"requests"`
	DDL              int64            `json:"ddl"`
	// PeakRSSBytes is its peak resident memory, initial lists included.
	PeakRSSBytes int64 `json:"peakRSSBytes"`
	// ResyncSeconds is the time from its start (with leader election, from the killed
	// one's lease expiring, LeaseWaitSeconds later) until every Region was reconciled
	// once; CPU the seconds each part used meanwhile.
	ResyncSeconds    float64            `json:"resyncSeconds"`
	LeaseWaitSeconds float64            `json:"leaseWaitSeconds,omitempty"`
	CPU              map[string]float64 `json:"cpuSeconds"`
}

// reportStores prints what -store-memory measured.
func reportStores(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%d counties, %d Kubernetes objects made by the operator, kept three ways (each synced in a process of its own, then GC):\n", r.Counties, r.Objects)
	fmt.Fprintf(w, "%-16s %9s %10s %9s %10s  %s\n", "", "sync s", "heap MiB", "RSS MiB", "peak RSS", "")
	for _, m := range r.Stores {
		fmt.Fprintf(w, "%-16s %9.1f %10.1f %9.1f %10.1f  %s\n", m.Name, m.SyncSeconds, m.HeapMiB, m.RSSMiB, m.PeakRSSMiB, m.What)
	}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func report(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\nregion-operator benchmark: %d counties, %d townships, %d branches, %d Kubernetes objects (%s, %s CPUs)\n\n",
		r.Counties, r.Townships, r.Branches, r.Objects, r.Machine["cpu"], r.Machine["cpus"])
	row := func(k, v string) { fmt.Fprintf(w, "  %-52s %s\n", k, v) }
	if !r.Database {
		row("database", "none (-database=false): the Kubernetes side alone")
	}
	row("etcd's and PostgreSQL's data in", r.DataDir)
	if r.FloorSeconds > 0 {
		row("floor: Kubernetes objects, bare client", fmt.Sprintf("%.1f s", r.FloorKubernetesSeconds))
		row("floor: SQL, bare pool", fmt.Sprintf("%.1f s", r.FloorSQLSeconds))
		row("floor: both together", fmt.Sprintf("%.1f s", r.FloorSeconds))
		row("floor: CPU seconds", cpuRow(r.FloorCPU))
		row("operator: apply to every Region Ready", fmt.Sprintf("%.1f s  (%.2f × floor; target ≤ 1.5)", r.OperatorSeconds, r.Ratio))
	} else {
		row("floor", "not measured (-floor=false)")
		row("operator: apply to every Region Ready", fmt.Sprintf("%.1f s", r.OperatorSeconds))
	}
	row("operator: apply→Ready per Region p50 / p99", fmt.Sprintf("%.1f s / %.1f s", r.LatencyP50Seconds, r.LatencyP99Seconds))
	row("operator: CPU seconds until all Ready", cpuRow(r.OperatorCPU))
	var verbs []string
	for v, n := range r.APIRequests {
		verbs = append(verbs, fmt.Sprintf("%s %d", v, n))
	}
	sort.Strings(verbs)
	row("operator: Region reconciles until all Ready", strconv.FormatInt(r.Reconciles, 10))
	row("operator: API requests by verb until all Ready", strings.Join(verbs, ", "))
	row("operator: SQL statements until all Ready", fmt.Sprintf("ddl %d, dml %d, query %d", r.SQLStatements["ddl"], r.SQLStatements["dml"], r.SQLStatements["query"]))
	limit := "no memory limit"
	if r.MemoryLimit != "" {
		limit = "memory limit " + r.MemoryLimit
	}
	row("operator: peak heap / peak RSS", fmt.Sprintf("%.0f MiB / %.0f MiB  (%s)", r.PeakHeapMiB, r.PeakRSSMiB, limit))
	if r.FloorSeconds > 0 && r.Database {
		row("peak connections to PostgreSQL: floor / operator", fmt.Sprintf("%d / %d  (maxConnections %d)", r.FloorPeakConnections, r.PeakConnections, r.MaxConnections))
	} else {
		row("operator: peak connections to PostgreSQL", fmt.Sprintf("%d  (maxConnections %d)", r.PeakConnections, r.MaxConnections))
	}
	row("PostgreSQL sessions opened: floor / operator", fmt.Sprintf("%d / %d", r.FloorSessions, r.Sessions))
	row(fmt.Sprintf("steady %.0f s (resync forced: %v): changed resourceVersions", r.SteadySeconds, r.SteadyResyncForced), strconv.Itoa(r.SteadyChangedRVs))
	row("steady: DDL statements", strconv.FormatInt(r.SteadyDDL, 10))
	if f := r.Failover; f != nil {
		row("fail-over: every Region reconciled after the lease expired", fmt.Sprintf("%.1f s  (lease %.0f s; target ≤ 30)", f.Seconds, f.LeaseSeconds))
		row("fail-over: writes / objects changed / DDL", fmt.Sprintf("%d / %d / %d  (operator's requests %v)", f.Writes, f.ObjectsChanged, f.DDL, f.Requests))
		row("fail-over: standby's RSS", fmt.Sprintf("%.0f MiB", float64(f.StandbyRSSBytes)/(1<<20)))
	}
	if a := r.AddOne; a != nil {
		var each []string
		for _, c := range a.Counties {
			each = append(each, fmt.Sprintf("%.2f/%.2f s %.2f ×", c.OperatorSeconds, c.FloorSeconds, c.Ratio))
		}
		row(fmt.Sprintf("add one county (%d, one after another): median", len(a.Counties)),
			fmt.Sprintf("%.2f s / %.2f s  (%.2f ×; target ≤ 1.5)", a.OperatorSeconds, a.FloorSeconds, a.Ratio))
		row("add one county: each, apply to Ready / its floor", strings.Join(each, ", "))
		row("add one county: other counties' objects changed", strconv.Itoa(a.OthersTouched))
	}
	if rs := r.Restart; rs != nil {
		after := fmt.Sprintf("%.1f s  (target ≤ 120 s)", rs.ResyncSeconds)
		if rs.LeaseWaitSeconds > 0 {
			after += fmt.Sprintf(", from the killed one's lease expiring %.1f s after the start", rs.LeaseWaitSeconds)
		}
		row("restart: every Region reconciled after", after)
		row("restart: CPU meanwhile", cpuRow(rs.CPU))
		row("restart: writes (create, update, patch, delete) / DDL", fmt.Sprintf("%d / %d  (operator's requests %v)", rs.Writes, rs.DDL, rs.Requests))
		row("restart: peak RSS, initial lists included", fmt.Sprintf("%.0f MiB  (%s)", float64(rs.PeakRSSBytes)/(1<<20), limit))
	}
	fmt.Fprintln(w)
}

// cpuRow tells CPU seconds by process, the busiest first, and their total.
func cpuRow(cpu map[string]float64) string {
	names := slices.Collect(maps.Keys(cpu))
	sort.Slice(names, func(i, j int) bool { return cpu[names[i]] > cpu[names[j]] })
	var parts []string
	total := 0.0
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f", n, cpu[n]))
		total += cpu[n]
	}
	return fmt.Sprintf("%.1f  (%s)", total, strings.Join(parts, ", "))
}

func save(dir string, r *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	file := filepath.Join(dir, fmt.Sprintf("bench-%dx%dx%d-%s.json", r.Counties, r.Townships/r.Counties, r.Branches/max(1, r.Townships), time.Now().Format("20060102-150405")))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("written to %s\n", file)
	return nil
}
