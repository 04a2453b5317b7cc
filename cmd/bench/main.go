// Command bench measures region-operator at province scale beside the floor the same
// machine allows: first a bare client at full parallelism creates exactly the objects
// and runs exactly the SQL a province's Regions need; then, on a fresh control plane and
// database, the operator (a separate process, as deployed) is given the same province as
// Regions; then it is left alone, with a forced resync, to count what it still writes.
// It prints one table and writes the same figures as JSON to bin/bench/.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

type options struct {
	counties, townships, branches  int
	workers, reconcilers, maxConns int
	steady, resync, timeout        time.Duration
	out                            string
	profile                        bool
	// floor and database: whether the floor is measured, and whether the Regions have
	// a database.
	floor, database bool
	// memoryLimit is given to the operator as its container's memory limit.
	memoryLimit string
	// dataDir holds etcd's and PostgreSQL's data ("" for the system's temporary
	// directory).
	dataDir string
}

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

	OperatorSeconds    float64            `json:"operatorSeconds"`
	OperatorCPU        map[string]float64 `json:"operatorCPUSeconds"`
	Ratio              float64            `json:"operatorToFloorRatio"`
	LatencyP50Seconds  float64            `json:"applyToReadyP50Seconds"`
	LatencyP99Seconds  float64            `json:"applyToReadyP99Seconds"`
	Reconciles         int64              `json:"regionReconciles"`
	APIRequests        map[string]int64   `json:"apiRequestsByVerb"`
	SQLStatements      map[string]int64   `json:"sqlStatements"`
	PeakHeapMiB        float64            `json:"operatorPeakHeapMiB"`
	PeakRSSMiB         float64            `json:"operatorPeakRSSMiB"`
	PeakConnections    int64              `json:"peakConnectionsToPostgres"`
	FloorSessions      int64              `json:"floorPostgresSessions"`
	Sessions           int64              `json:"operatorPostgresSessions"`
	MaxConnections     int                `json:"maxConnections"`
	SteadySeconds      float64            `json:"steadySeconds"`
	SteadyChangedRVs   int                `json:"steadyChangedResourceVersions"`
	SteadyDDL          int64              `json:"steadyDDLStatements"`
	SteadyResyncForced bool               `json:"steadyResyncForced"`
}

func main() {
	var o options
	flag.IntVar(&o.counties, "counties", 100, "counties (Regions) in the province, up to 1000")
	flag.IntVar(&o.townships, "townships", 15, "townships per county")
	flag.IntVar(&o.branches, "branches", 20, "branches per township")
	flag.IntVar(&o.workers, "workers", 32, "parallel requests of the floor's bare client and of the harness")
	flag.IntVar(&o.reconcilers, "max-concurrent-reconciles", 8, "the operator's --max-concurrent-reconciles")
	flag.IntVar(&o.maxConns, "max-connections", 8, "the DatabaseServer's maxConnections, also the floor's SQL pool")
	flag.DurationVar(&o.steady, "steady", 2*time.Minute, "how long the steady state is watched")
	flag.DurationVar(&o.resync, "resync", time.Minute, "the operator's --sync-period, shorter than -steady so a full resync happens in it")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long to wait for every Region to become Ready")
	flag.StringVar(&o.out, "out", "bin/bench", "directory for the JSON result")
	flag.BoolVar(&o.floor, "floor", true, "measure the floor; without it, only the operator is measured and no ratio is given")
	flag.BoolVar(&o.database, "database", true, "give the Regions a database; without it only the Kubernetes side is measured (the operator's memory at 1,000 counties, say, without PostgreSQL's hours of provisioning)")
	flag.StringVar(&o.memoryLimit, "memory-limit", "", "run the operator as in a container with this memory limit (256Mi, say): the Deployment passes it as MEMORY_LIMIT and the Go runtime keeps its heap under four fifths of it")
	flag.BoolVar(&o.profile, "profile", false, "also save the operator's and the API server's CPU (first 30 s) and the operator's heap (at all-Ready) profiles to -out, for go tool pprof")
	flag.StringVar(&o.dataDir, "data-dir", memoryDir(), "directory for etcd's and PostgreSQL's data; by default /dev/shm (memory) where there is one, as a province's databases are tens of thousands of files, and a disk's file system (ext4, say) is slow to create files for a while after many were deleted: the floor's, just before the operator's phase")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if o.memoryLimit != "" {
		if _, err := resource.ParseQuantity(o.memoryLimit); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -memory-limit:", err)
			os.Exit(2)
		}
	}
	if o.counties < 1 || o.counties > 1000 || o.townships < 1 || o.townships > 120 || o.branches < 0 || o.branches > 600 {
		fmt.Fprintln(os.Stderr, "bench: -counties 1..1000, -townships 1..120, -branches 0..600")
		os.Exit(2)
	}
	if o.dataDir != "" {
		// etcd's and PostgreSQL's directories are made in the temporary directory.
		if err := os.Setenv("TMPDIR", o.dataDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -data-dir:", err)
			os.Exit(2)
		}
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	report(os.Stdout, res)
	if err := save(o.out, res); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// memoryDir is /dev/shm when it is a directory the bench may write, else "".
func memoryDir() string {
	f, err := os.CreateTemp("/dev/shm", "region-operator-bench-")
	if err != nil {
		return ""
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return "/dev/shm"
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// province makes the Regions of a province: counties 35xx01.., each with its townships
// and branches, a database (unless -database=false) and the whole platform.
func province(o options, server string) []*platformv1.Region {
	var out []*platformv1.Region
	for c := range o.counties {
		code := fmt.Sprintf("%02d%04d", 11+c/9000, c%9000+1000)
		rg := &platformv1.Region{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("county-%04d", c)},
			Spec: platformv1.RegionSpec{
				DisplayName: fmt.Sprintf("第%d县", c+1), Code: code,
				Access: platformv1.Access{
					Admins: []string{fmt.Sprintf("county-%04d-admins", c)}, Supervisors: []string{fmt.Sprintf("county-%04d-discipline", c)},
					TownshipAdmins: "{region}-{township}-admins",
				},
				Network: platformv1.Network{IngressFrom: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress-nginx"}}},
				Platform: &platformv1.Platform{
					Modules: []string{"portal", "services", "deliberation", "emergency", "supervision"},
					Image:   platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"},
				},
				DeletionPolicy: platformv1.DeletionPolicyRetain,
			},
		}
		if o.database {
			rg.Spec.Database = &platformv1.Database{ServerRef: server}
		}
		for t := range o.townships {
			tw := platformv1.Township{Name: fmt.Sprintf("t%03d", t), DisplayName: fmt.Sprintf("第%d镇", t+1), Code: fmt.Sprintf("%s%03d", code, 100+t)}
			for b := range o.branches {
				tw.Branches = append(tw.Branches, platformv1.Branch{
					Name: fmt.Sprintf("b%03d", b), DisplayName: fmt.Sprintf("第%d村党支部", b+1), Kind: platformv1.BranchVillage,
					Code: fmt.Sprintf("%s%03d", tw.Code, 200+b), Members: int32(10 + b%40),
				})
			}
			rg.Spec.Townships = append(rg.Spec.Townships, tw)
		}
		out = append(out, rg)
	}
	return out
}

func run(o options) (*Result, error) {
	res := &Result{Machine: machine(), Counties: o.counties, Townships: o.counties * o.townships,
		Branches: o.counties * o.townships * o.branches, MaxConnections: o.maxConns, Database: o.database, MemoryLimit: o.memoryLimit,
		DataDir: os.TempDir()}
	if o.floor {
		if err := floor(o, res); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
	} else {
		objs, err := blueprints(province(o, "bench-pg"), pgsql.ServerConfig{})
		if err != nil {
			return nil, err
		}
		res.Objects = len(objs)
	}
	if err := operator(o, res); err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	return res, nil
}

// parallel runs fn for 0..n-1 on the given number of workers and returns the first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// The login the operator and the floor provision with: CREATEDB and CREATEROLE only.
const (
	benchAdmin    = "bench_admin"
	benchPassword = "bench-Pa55"
)

// startPlane starts a control plane and a PostgreSQL with the provisioning login.
func startPlane() (*localenv.Env, *localpg.Server, func(), error) {
	env, err := localenv.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	pg, err := localpg.Start()
	if err != nil {
		_ = env.Stop()
		return nil, nil, nil, err
	}
	stop := func() { pg.Remove(); _ = env.Stop() }
	if err := pg.CreateAdmin(context.Background(), benchAdmin, benchPassword); err != nil {
		stop()
		return nil, nil, nil, err
	}
	return env, pg, stop, nil
}

// fixedPassword gives every role the same password in the floor: the floor measures the
// statements, not password generation.
// blueprints are the Kubernetes objects of the Regions.
func blueprints(regions []*platformv1.Region, cfg pgsql.ServerConfig) ([]kruntime.ApplyConfiguration, error) {
	var out []kruntime.ApplyConfiguration
	for _, rg := range regions {
		objs, err := desired.Objects(rg, desired.Options{
			Server:   desired.Server{Host: cfg.Host, Port: cfg.Port, SSLMode: cfg.SSLMode},
			Password: fixedPassword,
		})
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out = append(out, o.Config)
		}
	}
	return out, nil
}

func fixedPassword(string) string { return "floor-password-0123456789abcdef" }

// floor creates the province's objects and runs its SQL with nothing but a client and a
// pool, both at full parallelism.
func floor(o options, res *Result) error {
	logf("floor: starting a control plane and PostgreSQL")
	env, pg, stop, err := startPlane()
	if err != nil {
		return err
	}
	defer stop()
	ctx := context.Background()
	cfg := pgsql.ServerConfig{Host: pg.Host, Port: pg.Port, User: benchAdmin, Password: benchPassword, SSLMode: "disable", MaxConns: o.maxConns}
	regions := province(o, "bench-pg")
	objs, err := blueprints(regions, cfg)
	if err != nil {
		return err
	}
	scheme := controllers.NewScheme()
	var namespaces, rest []target
	for _, obj := range objs {
		t, err := targetOf(scheme, obj)
		if err != nil {
			return err
		}
		if _, ok := t.obj.(*corev1.Namespace); ok {
			namespaces = append(namespaces, t)
		} else {
			rest = append(rest, t)
		}
	}
	res.Objects = len(objs)
	c, err := client.New(fast(env.Config, o.workers), client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	// The same requests the operator sends: an apply of each configuration, answered
	// in the client's encoding.
	apply := func(list []target) error {
		return parallel(len(list), o.workers, func(i int) error {
			data, err := json.Marshal(list[i].ac)
			if err != nil {
				return err
			}
			return controllers.ApplyObject(ctx, c, list[i].obj, data, list[i].manager)
		})
	}
	pool := pgsql.NewPool(cfg)
	defer pool.Close()
	logf("floor: %d objects and the SQL of %d Regions, at full parallelism", res.Objects, len(regions))
	if o.profile {
		go fetchAPIServer(env.Config, "/debug/pprof/profile?seconds=30", filepath.Join(o.out, "floor-apiserver-cpu.pprof"))
	}
	cpu := readCPU()
	start := time.Now()
	var k8sErr, sqlErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if k8sErr = apply(namespaces); k8sErr == nil {
			k8sErr = apply(rest)
		}
		res.FloorKubernetesSeconds = time.Since(start).Seconds()
	}()
	go func() {
		defer wg.Done()
		if !o.database {
			return
		}
		sqlErr = parallel(len(regions), o.maxConns, func(i int) error {
			db := desired.Database(regions[i], "bench-floor", func(string) bool { return true })
			passwords := map[string]string{}
			for _, c := range desired.Credentials(regions[i]) {
				passwords[c.Role] = fixedPassword(c.Role)
			}
			_, err := pgsql.EnsureRegion(ctx, pool, db, passwords)
			return err
		})
		res.FloorSQLSeconds = time.Since(start).Seconds()
	}()
	wg.Wait()
	res.FloorSeconds = time.Since(start).Seconds()
	res.FloorCPU = cpuSince(cpu)
	res.FloorSessions = sessions(ctx, pg)
	if k8sErr != nil {
		return k8sErr
	}
	if sqlErr != nil {
		return sqlErr
	}
	logf("floor: Kubernetes %.1fs, SQL %.1fs, together %.1fs; SQL ddl %d, dml %d, query %d", res.FloorKubernetesSeconds, res.FloorSQLSeconds, res.FloorSeconds, pgsql.Global.DDL.Load(), pgsql.Global.DML.Load(), pgsql.Global.Queries.Load())
	return nil
}

// target is an object of the floor: its apply configuration, and an object of its kind
// named as it is, for the answer.
type target struct {
	ac  kruntime.ApplyConfiguration
	obj client.Object
	// manager is the field manager the operator applies the object under.
	manager string
}

func targetOf(scheme *kruntime.Scheme, ac kruntime.ApplyConfiguration) (target, error) {
	data, err := json.Marshal(ac)
	if err != nil {
		return target{}, err
	}
	var head struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return target{}, err
	}
	gv, err := schema.ParseGroupVersion(head.APIVersion)
	if err != nil {
		return target{}, err
	}
	o, err := scheme.New(gv.WithKind(head.Kind))
	if err != nil {
		return target{}, err
	}
	obj := o.(client.Object)
	obj.SetNamespace(head.Metadata.Namespace)
	obj.SetName(head.Metadata.Name)
	return target{ac: ac, obj: obj, manager: naming.LayerManager(desired.LayerOf(head.Kind, head.Metadata.Name))}, nil
}

// fast lifts client-go's default rate limit, so the harness is not the bottleneck, and
// asks for answers uncompressed, as the operator does: the harness's watches of every
// Region and Deployment would otherwise cost the API server their gzip.
func fast(cfg *rest.Config, workers int) *rest.Config {
	c := controllers.RESTConfig(cfg)
	c.QPS, c.Burst = float32(100*workers), 100*workers
	return c
}

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
	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	probeAddr, err := freeAddr()
	if err != nil {
		return err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--kubeconfig="+kcPath, "--metrics-bind-address="+metricsAddr, "--health-probe-bind-address="+probeAddr,
		"--pprof-bind-address="+pprofAddr,
		"--max-concurrent-reconciles="+strconv.Itoa(o.reconcilers), "--sync-period="+o.resync.String(), "--zap-log-level=error")
	logFile, err := os.Create(filepath.Join(dir, "operator.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if o.memoryLimit != "" {
		cmd.Env = append(os.Environ(), "MEMORY_LIMIT="+o.memoryLimit)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// Stand in for kube-controller-manager's deployment controller, which a bare
	// control plane lacks: report every Deployment rolled out as soon as it is seen.
	go rollOut(ctx, c)

	var peakHeap atomic.Int64
	var peakConns atomic.Int64
	go sample(ctx, "http://"+metricsAddr+"/metrics", &peakHeap)
	go watchConnections(ctx, pg, &peakConns)

	// The operator's start-up is not part of what is measured.
	if err := waitReady(ctx, "http://"+probeAddr+"/readyz", time.Minute); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "operator.log"))
		return fmt.Errorf("%w; the operator's log ends:\n%s", err, tail(string(log), 20))
	}
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
	res.APIRequests = map[string]int64{}
	for k, v := range m0 {
		switch {
		case strings.HasPrefix(k, "rest_client_requests_total{"):
			res.APIRequests[labelValue(k, "method")] += int64(v)
		case strings.HasPrefix(k, "controller_runtime_reconcile_total{") && labelValue(k, "controller") == "region":
			res.Reconciles += int64(v) // whatever the result
		}
	}
	res.SQLStatements = map[string]int64{}
	for _, kind := range []string{"ddl", "dml", "query"} {
		res.SQLStatements[kind] = int64(m0[`region_operator_sql_statements_by_kind_total{kind="`+kind+`"}`])
	}
	res.PeakHeapMiB = float64(peakHeap.Load()) / (1 << 20)
	res.PeakRSSMiB = peakRSS(cmd.Process.Pid)
	res.PeakConnections = peakConns.Load()
	return nil
}

func rollOut(ctx context.Context, c client.WithWatch) {
	for ctx.Err() == nil {
		w, err := c.Watch(ctx, &appsv1.DeploymentList{}, client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok && !localenv.RolledOut(d) {
				_ = localenv.RollOut(ctx, c, d)
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

func sample(ctx context.Context, url string, peak *atomic.Int64) {
	for ctx.Err() == nil {
		if m, err := scrape(url); err == nil {
			if v := int64(m["go_memstats_heap_alloc_bytes"]); v > peak.Load() {
				peak.Store(v)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// sessions counts the sessions the provisioning login opened on the server so far
// (each one a new backend process and a SCRAM exchange).
func sessions(ctx context.Context, pg *localpg.Server) int64 {
	conn, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	if err != nil {
		return -1
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database`).Scan(&n); err != nil {
		return -1
	}
	return n
}

func watchConnections(ctx context.Context, pg *localpg.Server, peak *atomic.Int64) {
	conn, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	// The server's list of sessions, read by role OID: the pg_stat_activity view joins
	// every role and database, which with a province's thousands of roles costs
	// PostgreSQL several times more on each look (1.5 against 0.3 ms with 3,400 roles).
	var role uint32
	if err := conn.QueryRow(ctx, `SELECT $1::regrole::oid`, benchAdmin).Scan(&role); err != nil {
		return
	}
	for ctx.Err() == nil {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_get_activity(NULL) WHERE usesysid = $1`, role).Scan(&n); err == nil && n > peak.Load() {
			peak.Store(n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape reads a Prometheus text endpoint into name{labels} → value.
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] += v
		}
	}
	return out, sc.Err()
}

func labelValue(series, label string) string {
	i := strings.Index(series, label+`="`)
	if i < 0 {
		return ""
	}
	rest := series[i+len(label)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

func peakRSS(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func machine() map[string]string {
	m := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m["memory"] = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "MemTotal:"))
	}
	return m
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
	row("operator: peak connections to PostgreSQL", fmt.Sprintf("%d  (maxConnections %d)", r.PeakConnections, r.MaxConnections))
	row("PostgreSQL sessions opened: floor / operator", fmt.Sprintf("%d / %d", r.FloorSessions, r.Sessions))
	row(fmt.Sprintf("steady %.0f s (resync forced: %v): changed resourceVersions", r.SteadySeconds, r.SteadyResyncForced), strconv.Itoa(r.SteadyChangedRVs))
	row("steady: DDL statements", strconv.FormatInt(r.SteadyDDL, 10))
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// fetchAPIServer saves what the API server answers at path into file.
func fetchAPIServer(cfg *rest.Config, path, file string) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	fetchWith(hc, strings.TrimSuffix(cfg.Host, "/")+path, file)
}

// fetch saves what url answers into file.
func fetch(url, file string) { fetchWith(http.DefaultClient, url, file) }

func fetchWith(hc *http.Client, url, file string) {
	resp, err := hc.Get(url)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	save := func() error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, resp.Body)
		return err
	}
	if err := save(); err != nil {
		logf("profile: %v", err)
		return
	}
	logf("profile written to %s", file)
}

// waitReady waits until url answers 200.
func waitReady(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the operator was not ready at %s within %s", url, within)
}
