package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

func operator(o options, res *Result) error {
	logf("operator: starting a fresh control plane and PostgreSQL")
	env, pg, stop, err := startPlane()
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.NewWithWatch(fast(env.Config, o.workers), client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	if err := localenv.RegisterServer(ctx, c, pg, "bench-pg", controllers.DefaultSecretNamespace, benchAdmin, benchPassword, int32(o.maxConns)); err != nil {
		return err
	}

	// The operator, as a process of its own.
	bin := filepath.Join(env.Root, "bin", "manager")
	// Built as the image builds it (Dockerfile, make build).
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd")
	build.Dir = env.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the operator: %v\n%s", err, out)
	}
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "region-operator-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		return err
	}
	args := []string{"--kubeconfig=" + kcPath, "--max-concurrent-reconciles=" + strconv.Itoa(o.reconcilers), "--sync-period=" + o.resync.String(), "--zap-log-level=error"}
	if o.trace {
		args[len(args)-1] = "--zap-log-level=debug"
		defer func() {
			b, err := os.ReadFile(filepath.Join(dir, "operator.log"))
			if err == nil {
				err = os.MkdirAll(o.out, 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(o.out, "operator.log"), b, 0o644)
			}
			if err != nil {
				logf("the operator's log was not kept: %v", err)
			}
		}()
	}
	if o.failover {
		args = append(args, "--leader-elect", "--leader-election-namespace="+controllers.DefaultSecretNamespace)
	}
	op, err := startOperator(bin, args, o.memoryLimit, filepath.Join(dir, "operator.log"))
	if err != nil {
		return err
	}
	defer func() { op.stop() }()
	metricsAddr, pprofAddr := op.metrics, op.pprof
	cmd := op.cmd

	// Stand in for kube-controller-manager's deployment controller, which a bare
	// control plane lacks: report every Deployment rolled out as soon as it is seen.
	rollOut(ctx, c)

	var peakHeap atomic.Int64
	var peakConns atomic.Int64
	go sample(ctx, "http://"+metricsAddr+"/metrics", &peakHeap)
	go watchConnections(ctx, pg, &peakConns)

	stopProfiling := func() {}
	if o.profile {
		// CPU profiles of the operator and the API server, 30 s at a time, until every
		// Region is Ready.
		var profiling context.Context
		profiling, stopProfiling = context.WithCancel(ctx)
		defer stopProfiling()
		go func() {
			for i := 0; profiling.Err() == nil; i++ {
				var wg sync.WaitGroup
				wg.Add(2)
				go func() {
					defer wg.Done()
					fetch("http://"+pprofAddr+"/debug/pprof/profile?seconds=30", filepath.Join(o.out, fmt.Sprintf("operator-cpu-%d.pprof", i)))
				}()
				go func() {
					defer wg.Done()
					fetchAPIServer(env.Config, "/debug/pprof/profile?seconds=30", filepath.Join(o.out, fmt.Sprintf("apiserver-cpu-%d.pprof", i)))
				}()
				wg.Wait()
			}
		}()
	}
	regions := province(o, "bench-pg")
	created := make([]time.Time, len(regions))
	logf("operator: applying %d Regions", len(regions))
	cpu := readCPU()
	start := time.Now()
	if err := parallel(len(regions), o.workers, func(i int) error {
		created[i] = time.Now()
		return c.Create(ctx, regions[i])
	}); err != nil {
		return err
	}
	// A watch, not repeated lists: listing a province's Regions every moment would load
	// the API server more than the operator does.
	readyAt := map[string]time.Time{}
	wctx, wcancel := context.WithTimeout(ctx, o.timeout)
	defer wcancel()
	for len(readyAt) < len(regions) {
		w, err := c.Watch(wctx, &platformv1.RegionList{})
		if err != nil {
			return err
		}
		for ev := range w.ResultChan() {
			rg, ok := ev.Object.(*platformv1.Region)
			if !ok {
				continue
			}
			if _, seen := readyAt[rg.Name]; !seen && rg.Status.ObservedGeneration == rg.Generation &&
				meta.IsStatusConditionTrue(rg.Status.Conditions, controllers.ConditionReady) {
				readyAt[rg.Name] = time.Now()
				if len(readyAt) == len(regions) {
					break
				}
			}
		}
		w.Stop()
		if wctx.Err() != nil {
			return fmt.Errorf("%d of %d Regions Ready after %s", len(readyAt), len(regions), o.timeout)
		}
	}
	res.OperatorSeconds = time.Since(start).Seconds()
	res.OperatorCPU = cpuSince(cpu)
	res.Sessions = sessions(ctx, pg)
	if o.profile {
		stopProfiling()
		fetchAPIServer(env.Config, "/metrics", filepath.Join(o.out, "apiserver-metrics.txt"))
		fetch("http://"+metricsAddr+"/metrics", filepath.Join(o.out, "operator-metrics.txt"))
	}
	if o.profile {
		fetch("http://"+pprofAddr+"/debug/pprof/heap", filepath.Join(o.out, "operator-heap.pprof"))
	}
	if res.FloorSeconds > 0 {
		res.Ratio = res.OperatorSeconds / res.FloorSeconds
	}
	var lat []float64
	for i, rg := range regions {
		lat = append(lat, readyAt[rg.Name].Sub(created[i]).Seconds())
	}
	sort.Float64s(lat)
	res.LatencyP50Seconds = percentile(lat, 0.50)
	res.LatencyP99Seconds = percentile(lat, 0.99)
	logf("operator: every Region Ready after %.1fs (floor %.1fs)", res.OperatorSeconds, res.FloorSeconds)

	// Steady state: nothing changes; a full resync happens within the window.
	before, err := versions(ctx, c)
	if err != nil {
		return err
	}
	m0, err := scrape("http://" + metricsAddr + "/metrics")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "operator.log"))
		return fmt.Errorf("%w; the operator's log ends:\n%s", err, tail(string(log), 20))
	}
	logf("operator: watching the steady state for %s (resync every %s)", o.steady, o.resync)
	time.Sleep(o.steady)
	after, err := versions(ctx, c)
	if err != nil {
		return err
	}
	m1, err := scrape("http://" + metricsAddr + "/metrics")
	if err != nil {
		return err
	}
	res.SteadySeconds = o.steady.Seconds()
	res.SteadyResyncForced = o.resync < o.steady
	for k, v := range after {
		if before[k] != v {
			res.SteadyChangedRVs++
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			res.SteadyChangedRVs++
		}
	}
	res.SteadyDDL = int64(m1[`region_operator_sql_statements_by_kind_total{kind="ddl"}`] - m0[`region_operator_sql_statements_by_kind_total{kind="ddl"}`])
	res.APIRequests = requestsByVerb(m0, nil)
	res.Reconciles = int64(reconciled(m0))
	res.SQLStatements = map[string]int64{}
	for _, kind := range []string{"ddl", "dml", "query"} {
		res.SQLStatements[kind] = int64(m0[`region_operator_sql_statements_by_kind_total{kind="`+kind+`"}`])
	}
	res.PeakHeapMiB = float64(peakHeap.Load()) / (1 << 20)
	res.PeakRSSMiB = peakRSS(cmd.Process.Pid)
	res.PeakConnections = peakConns.Load()
	if o.addOne {
		if res.AddOne, err = addOne(ctx, o, c, pg, after); err != nil {
			return fmt.Errorf("-add-one: %w", err)
		}
	}
	if o.failover {
		standby, err := startOperator(bin, args, o.memoryLimit, filepath.Join(dir, "operator-standby.log"))
		if err != nil {
			return err
		}
		defer standby.stop()
		if res.Failover, err = failover(ctx, o, env.Config, c, op, standby, len(regions)+addedCounties(o)); err != nil {
			return fmt.Errorf("-failover: %w", err)
		}
		op = standby
	}
	if o.restart {
		again, err := restart(ctx, o, env, c, op, bin, args, filepath.Join(dir, "operator-again.log"), len(regions)+addedCounties(o))
		if again != nil {
			op = again
		}
		if err != nil {
			return fmt.Errorf("-restart: %w", err)
		}
		res.Restart = again.result
	}
	return nil
}

// restart kills the operator (SIGKILL) over a Ready province and starts it again with
// the same flags: what it writes, how soon it has looked at every Region, and its memory
// meanwhile. With leader election, the clock starts when the killed one's lease expires,
// as the new process cannot lead before.
func restart(ctx context.Context, o options, env *localenv.Env, c client.Client, op *operatorProcess, bin string, args []string, logPath string, regions int) (*operatorProcess, error) {
	writes0, err := objectWrites(env.Config)
	if err != nil {
		return nil, err
	}
	op.kill()
	var expiry time.Time
	if lease, err := deadLease(ctx, c); err == nil {
		expiry = lease.expiry
	}
	logf("operator: killed; starting it again")
	// From the start of the process: it is ready once its store has listed everything.
	started, cpu := time.Now(), readCPU()
	again, err := startOperator(bin, args, o.memoryLimit, logPath)
	if err != nil {
		return nil, err
	}
	out := &RestartResult{}
	if expiry.After(started) {
		out.LeaseWaitSeconds = expiry.Sub(started).Seconds()
		started = expiry
	}
	var profiles sync.WaitGroup
	defer profiles.Wait()
	if o.profile {
		// The first 30 s of the resync, the operator's CPU and the API server's.
		profiles.Go(func() {
			fetch("http://"+again.pprof+"/debug/pprof/profile?seconds=30", filepath.Join(o.out, "restart-operator-cpu.pprof"))
		})
		profiles.Go(func() {
			fetchAPIServer(env.Config, "/debug/pprof/profile?seconds=30", filepath.Join(o.out, "restart-apiserver-cpu.pprof"))
		})
	}
	url := "http://" + again.metrics + "/metrics"
	var m map[string]float64
	for {
		if m, err = scrape(url); err == nil && reconciled(m) >= regions {
			break
		}
		if time.Since(started) > o.timeout {
			return again, fmt.Errorf("%d of %d Regions reconciled in %s", reconciled(m), regions, o.timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out.ResyncSeconds = max(0, time.Since(started).Seconds())
	out.CPU = cpuSince(cpu)
	time.Sleep(5 * time.Second) // the last reconciles' writes, if any
	if m, err = scrape(url); err != nil {
		return again, err
	}
	out.Requests = requestsByVerb(m, nil)
	if out.WritesByResource, out.Writes, err = writesSince(env.Config, writes0); err != nil {
		return again, err
	}
	out.DDL = int64(m[`region_operator_sql_statements_by_kind_total{kind="ddl"}`])
	out.PeakRSSBytes = int64(peakRSS(again.cmd.Process.Pid) * (1 << 20))
	logf("operator: after the restart every Region reconciled in %.1fs (CPU: operator %.1fs, API server %.1fs); %d writes, %d DDL, peak RSS %.0f MiB",
		out.ResyncSeconds, out.CPU["operator"], out.CPU["kube-apiserver"], out.Writes, out.DDL, float64(out.PeakRSSBytes)/(1<<20))
	again.result = out
	return again, nil
}

// reconciled is how many Region reconciles a process's metrics count, whatever their
// result: one per Region at least once every Region was looked at.
func reconciled(m map[string]float64) int {
	n := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, "controller_runtime_reconcile_total{") && labelValue(k, "controller") == "region" {
			n += v
		}
	}
	return int(n)
}

// operatorProcess is the operator running as a process of its own.
type operatorProcess struct {
	cmd                   *exec.Cmd
	metrics, probe, pprof string
	log                   *os.File
	// result is what -restart measured of it.
	result *RestartResult
}

// leaseName is the operator's leader election lease, in its namespace.
const leaseName = "region-operator.platform.jiceng.io"

// killedLease is the leader election lease of a leader just killed.
type killedLease struct {
	holder   string
	duration time.Duration
	// expiry is a lease's duration after its last renewal.
	expiry time.Time
}

// deadLease reads the lease once its holder is dead: it then holds the last renewal.
func deadLease(ctx context.Context, c client.Client) (killedLease, error) {
	lease := &coordinationv1.Lease{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: controllers.DefaultSecretNamespace, Name: leaseName}, lease); err != nil {
		return killedLease{}, fmt.Errorf("reading the leader's lease: %w", err)
	}
	if lease.Spec.RenewTime == nil || lease.Spec.LeaseDurationSeconds == nil || lease.Spec.HolderIdentity == nil {
		return killedLease{}, fmt.Errorf("the leader's lease %s holds no renewal", leaseName)
	}
	d := time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
	return killedLease{holder: *lease.Spec.HolderIdentity, duration: d, expiry: lease.Spec.RenewTime.Add(d)}, nil
}

// startOperator starts the operator's binary with args, its endpoints on free ports,
// and waits until it is ready.
func startOperator(bin string, args []string, memoryLimit, logPath string) (*operatorProcess, error) {
	p := &operatorProcess{}
	for _, addr := range []*string{&p.metrics, &p.probe, &p.pprof} {
		a, err := freeAddr()
		if err != nil {
			return nil, err
		}
		*addr = a
	}
	p.cmd = exec.Command(bin, append([]string{"--metrics-bind-address=" + p.metrics, "--health-probe-bind-address=" + p.probe,
		"--pprof-bind-address=" + p.pprof}, args...)...)
	var err error
	if p.log, err = os.Create(logPath); err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if memoryLimit != "" {
		p.cmd.Env = append(os.Environ(), "MEMORY_LIMIT="+memoryLimit)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	// The operator's start-up is not part of what is measured.
	if err := waitReady(context.Background(), "http://"+p.probe+"/readyz", 5*time.Minute); err != nil {
		p.stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w; the operator's log ends:\n%s", err, tail(string(log), 20))
	}
	return p, nil
}

// kill ends the operator with SIGKILL, as a node's loss or an OOM kill would.
func (p *operatorProcess) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	_ = p.log.Close()
}

// stop ends the operator if it still runs.
func (p *operatorProcess) stop() {
	if p.cmd.ProcessState == nil {
		p.kill()
	}
}

// deploymentWorkers is kube-controller-manager's default --concurrent-deployment-syncs.
const deploymentWorkers = 5

// rollOut reports each Deployment rolled out as soon as it is seen, as many at once as
// kube-controller-manager's deployment controller syncs: one key at a time each, from
// the latest copy the watch brought. It returns once its watch is open.
func rollOut(ctx context.Context, c client.WithWatch) {
	opened := make(chan struct{})
	go rollingOut(ctx, c, opened)
	select {
	case <-opened:
	case <-ctx.Done():
	}
}

func rollingOut(ctx context.Context, c client.WithWatch, opened chan struct{}) {
	queue := workqueue.NewTyped[client.ObjectKey]()
	defer queue.ShutDown()
	var mu sync.Mutex
	latest := map[client.ObjectKey]*appsv1.Deployment{}
	for range deploymentWorkers {
		go func() {
			for {
				key, quit := queue.Get()
				if quit {
					return
				}
				mu.Lock()
				d := latest[key]
				delete(latest, key)
				mu.Unlock()
				if d != nil && !localenv.RolledOut(d) {
					_ = localenv.RollOut(ctx, c, d)
				}
				queue.Done(key)
			}
		}()
	}
	for ctx.Err() == nil {
		w, err := c.Watch(ctx, &appsv1.DeploymentList{}, client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		if opened != nil {
			close(opened)
			opened = nil
		}
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && ev.Type != watch.Deleted {
				key := client.ObjectKeyFromObject(d)
				mu.Lock()
				latest[key] = d
				mu.Unlock()
				queue.Add(key)
			}
		}
	}
}

// versions records the resourceVersion of every Region and everything the operator made.
func versions(ctx context.Context, c client.Client) (map[string]string, error) {
	out := map[string]string{}
	lists := map[string]client.ObjectList{
		"Region": &platformv1.RegionList{}, "Namespace": &corev1.NamespaceList{}, "ConfigMap": &corev1.ConfigMapList{},
		"Secret": &corev1.SecretList{}, "ResourceQuota": &corev1.ResourceQuotaList{}, "LimitRange": &corev1.LimitRangeList{},
		"Service": &corev1.ServiceList{}, "RoleBinding": &rbacv1.RoleBindingList{}, "NetworkPolicy": &networkingv1.NetworkPolicyList{},
		"Deployment": &appsv1.DeploymentList{},
	}
	for kind, list := range lists {
		var opts []client.ListOption
		if kind != "Region" {
			opts = append(opts, client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue})
		}
		if err := c.List(ctx, list, opts...); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o := it.(client.Object)
			out[kind+" "+o.GetNamespace()+"/"+o.GetName()] = o.GetResourceVersion()
		}
	}
	return out, nil
}

// addOne applies o.addOnes more counties into the Ready province, one after another,
// each beside its own floor (see addCounty). seen is what the province's objects' versions
// were as it begins; each county's own listing after it is the next one's before, so
// that no change between two counties goes uncounted.
func addOne(ctx context.Context, o options, c client.WithWatch, pg *localpg.Server, seen map[string]string) (*AddOneResult, error) {
	more := o
	more.counties = o.counties + 2*o.addOnes
	extra := province(more, "bench-pg")[o.counties:]
	out := &AddOneResult{}
	for i := range o.addOnes {
		one, after, err := addCounty(ctx, o, c, pg, extra[2*i], extra[2*i+1], seen)
		if err != nil {
			return nil, err
		}
		out.Counties = append(out.Counties, *one)
		out.OthersTouched += one.OthersTouched
		seen = after
	}
	out.AddOneCounty = medianCounty(out.Counties)
	return out, nil
}

// addCounty applies one more county into the Ready province. First its floor, in the
// same cluster and on the same server: a bare client makes the objects and runs the
// SQL of floorOne, another county of the same size whose Region is never made; then
// newOne's Region is created and watched until Ready. Meanwhile no object of the other
// counties may change: of before, the objects' versions as the county begins, none. It
// returns the versions listed after the county, its own objects and its floor's among
// them.
func addCounty(ctx context.Context, o options, c client.WithWatch, pg *localpg.Server, floorOne, newOne *platformv1.Region, before map[string]string) (*AddOneCounty, map[string]string, error) {
	cfg := pgsql.ServerConfig{Host: pg.Host, Port: pg.Port, User: benchAdmin, Password: benchPassword, SSLMode: "disable", MaxConns: o.maxConns}
	objs, err := blueprints([]*platformv1.Region{floorOne}, cfg)
	if err != nil {
		return nil, nil, err
	}
	namespaces, rest, err := targets(controllers.NewScheme(), objs)
	if err != nil {
		return nil, nil, err
	}
	logf("add-one: the floor for one county: %d objects and its SQL", len(objs))
	pool := pgsql.NewPool(cfg)
	defer pool.Close()
	start := time.Now()
	if _, _, err := bareApply(ctx, c, pool, o, []*platformv1.Region{floorOne}, namespaces, rest); err != nil {
		return nil, nil, err
	}
	out := &AddOneCounty{Region: newOne.Name, FloorSeconds: time.Since(start).Seconds()}
	// The floor's objects are no other county's: they are left out of what may not
	// change. Its Deployments roll out (the stand-in) and the operator sees its objects
	// go by; both finish before the county is applied, so that neither measure carries
	// the other's tail.
	if err := rolledOut(ctx, c, floorOne.Name, o.timeout); err != nil {
		return nil, nil, err
	}
	time.Sleep(time.Second)

	logf("add-one: applying Region %s into the province", newOne.Name)
	wctx, wcancel := context.WithTimeout(ctx, o.timeout)
	defer wcancel()
	// Only this Region: a watch of them all would begin with every Region of the
	// province (a thousand objects of 50 KB), decoded meanwhile on the same two cores.
	w, err := c.Watch(wctx, &platformv1.RegionList{}, client.MatchingFields{"metadata.name": newOne.Name})
	if err != nil {
		return nil, nil, err
	}
	defer w.Stop()
	follow, err := followCounty(wctx, c, newOne.Name)
	if err != nil {
		return nil, nil, err
	}
	start = time.Now()
	logf("add-one: creating Region %s at %s", newOne.Name, start.UTC().Format("15:04:05.000"))
	if err := c.Create(ctx, newOne); err != nil {
		return nil, nil, err
	}
	var statuses []float64
	var lastStatus string
	for ready := false; !ready; {
		ev, ok := <-w.ResultChan()
		if !ok {
			return nil, nil, fmt.Errorf("the Region %s was not Ready after %s", newOne.Name, o.timeout)
		}
		rg, isRegion := ev.Object.(*platformv1.Region)
		if !isRegion || rg.Name != newOne.Name {
			continue
		}
		if st, _ := json.Marshal(rg.Status); len(rg.Status.Conditions) > 0 && string(st) != lastStatus {
			statuses, lastStatus = append(statuses, time.Since(start).Seconds()), string(st)
		}
		ready = rg.Status.ObservedGeneration == rg.Generation && meta.IsStatusConditionTrue(rg.Status.Conditions, controllers.ConditionReady)
	}
	out.OperatorSeconds = time.Since(start).Seconds()
	out.Ratio = out.OperatorSeconds / out.FloorSeconds
	out.Timeline = follow(start)
	out.Timeline.StatusSeconds = statuses
	logf("add-one: timeline from the create: first namespace %.2fs, last Service %.2fs, last Deployment %.2fs, its roll-out %.2fs, status written %s",
		out.Timeline.FirstNamespaceSeconds, out.Timeline.LastServiceSeconds, out.Timeline.LastDeploymentSeconds, out.Timeline.RolledOutSeconds, seconds(statuses))
	time.Sleep(2 * time.Second) // the last writes of the reconciles it caused, if any
	after, err := versions(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range before {
		if after[k] != v {
			out.OthersTouched++
		}
	}
	logf("add-one: floor %.2fs, operator %.2fs (%.2f ×); other counties' objects changed: %d", out.FloorSeconds, out.OperatorSeconds, out.Ratio, out.OthersTouched)
	return out, after, nil
}

// rolledOut waits until every Deployment of the county named is rolled out.
func rolledOut(ctx context.Context, c client.Client, county string, within time.Duration) error {
	for deadline := time.Now().Add(within); ; time.Sleep(100 * time.Millisecond) {
		list := &appsv1.DeploymentList{}
		if err := c.List(ctx, list, client.MatchingLabels{naming.LabelRegion: county}); err != nil {
			return err
		}
		done := true
		for i := range list.Items {
			done = done && localenv.RolledOut(&list.Items[i])
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Deployments of %s were not rolled out after %s", county, within)
		}
	}
}

// followCounty watches a county's Namespaces, Services and Deployments from now on;
// the function it returns stops the watches and tells, counted from start, when the
// API server first showed a Namespace, the last Service and the last Deployment
// created, and the last Deployment rolled out.
func followCounty(ctx context.Context, c client.WithWatch, county string) (func(start time.Time) AddOneTimeline, error) {
	var mu sync.Mutex
	var firstNS, lastService, lastDeployment, lastRolledOut time.Time
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	stop := func() {
		cancel()
		wg.Wait()
	}
	for _, list := range []client.ObjectList{&corev1.NamespaceList{}, &corev1.ServiceList{}, &appsv1.DeploymentList{}} {
		w, err := c.Watch(ctx, list, client.MatchingLabels{naming.LabelRegion: county})
		if err != nil {
			stop()
			return nil, err
		}
		wg.Go(func() {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					now := time.Now()
					mu.Lock()
					switch obj := ev.Object.(type) {
					case *corev1.Namespace:
						if firstNS.IsZero() {
							firstNS = now
						}
					case *corev1.Service:
						if ev.Type == watch.Added {
							lastService = now
						}
					case *appsv1.Deployment:
						if ev.Type == watch.Added {
							lastDeployment = now
						}
						if localenv.RolledOut(obj) {
							lastRolledOut = now
						}
					}
					mu.Unlock()
				}
			}
		})
	}
	return func(start time.Time) AddOneTimeline {
		stop()
		mu.Lock()
		defer mu.Unlock()
		since := func(t time.Time) float64 {
			if t.IsZero() {
				return 0
			}
			return t.Sub(start).Seconds()
		}
		return AddOneTimeline{FirstNamespaceSeconds: since(firstNS), LastServiceSeconds: since(lastService),
			LastDeploymentSeconds: since(lastDeployment), RolledOutSeconds: since(lastRolledOut)}
	}, nil
}

// seconds prints a list of times.
func seconds(ts []float64) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%.2fs", t)
	}
	return strings.Join(parts, ", ")
}

// addedCounties is how many counties -add-one adds.
func addedCounties(o options) int {
	if o.addOne {
		return o.addOnes
	}
	return 0
}

// failover kills the leader with a replica standing by, and measures the standby's
// take-over: from the moment the leader's lease expires until it has reconciled every
// Region once, what changed meanwhile, and its memory while it stood by.
func failover(ctx context.Context, o options, cfg *rest.Config, c client.Client, leader, standby *operatorProcess, regions int) (*FailoverResult, error) {
	time.Sleep(10 * time.Second) // ready (its store synced) and settled, as a replica would be
	out := &FailoverResult{StandbyRSSBytes: int64(currentRSS(standby.cmd.Process.Pid))}
	before, err := versions(ctx, c)
	if err != nil {
		return nil, err
	}
	m0, err := scrape("http://" + standby.metrics + "/metrics")
	if err != nil {
		return nil, err
	}
	if reconciled(m0) > 0 {
		return nil, fmt.Errorf("the standby reconciled %d Regions before the leader was killed", reconciled(m0))
	}
	writes0, err := objectWrites(cfg)
	if err != nil {
		return nil, err
	}
	leader.kill()
	lease, err := deadLease(ctx, c)
	if err != nil {
		return nil, err
	}
	logf("fail-over: leader %s killed; the standby waits for its lease", lease.holder)
	out.LeaseSeconds = lease.duration.Seconds()
	expiry := lease.expiry
	var m map[string]float64
	for {
		if m, err = scrape("http://" + standby.metrics + "/metrics"); err == nil && reconciled(m) >= regions {
			break
		}
		if time.Since(expiry) > o.timeout {
			return nil, fmt.Errorf("%d of %d Regions reconciled %s after the lease expired", reconciled(m), regions, o.timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out.Seconds = max(0, time.Since(expiry).Seconds())
	time.Sleep(5 * time.Second) // the last reconciles' writes, if any
	after, err := versions(ctx, c)
	if err != nil {
		return nil, err
	}
	for k, v := range after {
		if before[k] != v {
			out.ObjectsChanged++
		}
	}
	if out.WritesByResource, out.Writes, err = writesSince(cfg, writes0); err != nil {
		return nil, err
	}
	if m, err = scrape("http://" + standby.metrics + "/metrics"); err != nil {
		return nil, err
	}
	out.DDL = int64(m[`region_operator_sql_statements_by_kind_total{kind="ddl"}`] - m0[`region_operator_sql_statements_by_kind_total{kind="ddl"}`])
	out.Requests = requestsByVerb(m, m0)
	logf("fail-over: every Region reconciled %.1fs after the lease expired; %d writes, %d objects changed, %d DDL; standby RSS %.0f MiB",
		out.Seconds, out.Writes, out.ObjectsChanged, out.DDL, float64(out.StandbyRSSBytes)/(1<<20))
	return out, nil
}
