package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// floor creates the province's objects and runs its SQL with nothing but a client and a
// pool, both at full parallelism, in a cluster like the operator's: the same stand-in
// for kube-controller-manager rolls out the Deployments as they come, as it does in the
// operator's phase.
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
	namespaces, rest, err := targets(scheme, objs)
	if err != nil {
		return err
	}
	res.Objects = len(objs)
	c, err := client.NewWithWatch(fast(env.Config, o.workers), client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	standIn, stopStandIn := context.WithCancel(ctx)
	defer stopStandIn()
	rollOut(standIn, c)
	pool := pgsql.NewPool(cfg)
	defer pool.Close()
	logf("floor: %d objects and the SQL of %d Regions, at full parallelism", res.Objects, len(regions))
	if o.profile {
		go fetchAPIServer(env.Config, "/debug/pprof/profile?seconds=30", filepath.Join(o.out, "floor-apiserver-cpu.pprof"))
	}
	// The operator's phase watches the server's sessions all along; so does the floor,
	// so that the probe's own cost (PostgreSQL's and the harness's) is in both.
	var peakConns atomic.Int64
	probe, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	go watchConnections(probe, pg, &peakConns)
	cpu := readCPU()
	ddl0, dml0, query0 := pgsql.Global.DDL.Load(), pgsql.Global.DML.Load(), pgsql.Global.Queries.Load()
	start := time.Now()
	var applyErr error
	res.FloorKubernetesSeconds, res.FloorSQLSeconds, applyErr = bareApply(ctx, c, pool, o, regions, namespaces, rest)
	res.FloorSeconds = time.Since(start).Seconds()
	res.FloorCPU = cpuSince(cpu)
	stopProbe()
	res.FloorPeakConnections = peakConns.Load()
	res.FloorSessions = sessions(ctx, pg)
	if applyErr != nil {
		return applyErr
	}
	logf("floor: Kubernetes %.1fs, SQL %.1fs, together %.1fs; SQL ddl %d, dml %d, query %d", res.FloorKubernetesSeconds, res.FloorSQLSeconds, res.FloorSeconds, pgsql.Global.DDL.Load()-ddl0, pgsql.Global.DML.Load()-dml0, pgsql.Global.Queries.Load()-query0)
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

// targets are the province's objects as the floor creates them: the namespaces, and
// then the rest.
func targets(scheme *kruntime.Scheme, objs []kruntime.ApplyConfiguration) (namespaces, rest []target, err error) {
	for _, obj := range objs {
		t, err := targetOf(scheme, obj)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := t.obj.(*corev1.Namespace); ok {
			namespaces = append(namespaces, t)
		} else {
			rest = append(rest, t)
		}
	}
	return namespaces, rest, nil
}

// applyTargets sends the requests the operator sends, on workers: an apply of each
// configuration, answered in the client's encoding.
func applyTargets(ctx context.Context, c client.Client, workers int, list []target) error {
	return parallel(len(list), workers, func(i int) error {
		data, err := json.Marshal(list[i].ac)
		if err != nil {
			return err
		}
		return controllers.ApplyObject(ctx, c, list[i].obj, data, list[i].manager)
	})
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

// bareApply is the floor's work: a bare client applies the objects (namespaces first)
// with the harness's parallelism while a bare pool runs the Regions' SQL beside it. It
// returns how long each side took.
func bareApply(ctx context.Context, c client.Client, pool *pgsql.Pool, o options, regions []*platformv1.Region, namespaces, rest []target) (k8sSeconds, sqlSeconds float64, err error) {
	start := time.Now()
	var k8sErr, sqlErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if k8sErr = applyTargets(ctx, c, o.workers, namespaces); k8sErr == nil {
			k8sErr = applyTargets(ctx, c, o.workers, rest)
		}
		k8sSeconds = time.Since(start).Seconds()
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
		sqlSeconds = time.Since(start).Seconds()
	}()
	wg.Wait()
	return k8sSeconds, sqlSeconds, errors.Join(k8sErr, sqlErr)
}
