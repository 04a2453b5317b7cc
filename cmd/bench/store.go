package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// storeKinds are the ways of keeping the operator's objects that -store-memory
// compares, each synced in a process of its own.
var storeKinds = []struct{ name, what string }{
	{"childstore", "the operator's store (internal/childstore): what the reconciles read"},
	{"cache-transform", "controller-runtime's cache, ByObject{Label, Transform} with the store's transform"},
	{"cache-metadata", "controller-runtime's cache, metadata-only watches with the same label selector"},
}

// StoreMemory is what one way of keeping the objects cost once synced.
type StoreMemory struct {
	Name        string  `json:"name"`
	What        string  `json:"what"`
	SyncSeconds float64 `json:"syncSeconds"`
	HeapMiB     float64 `json:"heapInUseMiB"`
	RSSMiB      float64 `json:"rssMiB"`
	PeakRSSMiB  float64 `json:"peakRSSMiB"`
}

// storeMemory creates the province's Kubernetes objects with a bare client, then syncs
// each way of keeping them in a fresh process and reports its memory.
func storeMemory(o options) ([]StoreMemory, int, error) {
	logf("store-memory: starting a control plane")
	env, err := localenv.Start()
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = env.Stop() }()
	objs, err := blueprints(province(o, "bench-pg"), pgsql.ServerConfig{})
	if err != nil {
		return nil, 0, err
	}
	scheme := controllers.NewScheme()
	namespaces, rest, err := targets(scheme, objs)
	if err != nil {
		return nil, 0, err
	}
	c, err := client.New(fast(env.Config, o.workers), client.Options{Scheme: scheme})
	if err != nil {
		return nil, 0, err
	}
	ctx := context.Background()
	apply := func(list []target) error { return applyTargets(ctx, c, o.workers, list) }
	logf("store-memory: creating %d objects", len(objs))
	start := time.Now()
	if err := apply(namespaces); err != nil {
		return nil, 0, err
	}
	if err := apply(rest); err != nil {
		return nil, 0, err
	}
	logf("store-memory: created in %.0fs", time.Since(start).Seconds())
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		return nil, 0, err
	}
	path := filepath.Join(o.out, "store-memory.kubeconfig")
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return nil, 0, err
	}
	defer os.Remove(path)
	self, err := os.Executable()
	if err != nil {
		return nil, 0, err
	}
	var out []StoreMemory
	for _, k := range storeKinds {
		cmd := exec.Command(self, "-store-probe", k.name, "-probe-kubeconfig", path, "-memory-limit", o.memoryLimit)
		cmd.Stderr = os.Stderr
		data, err := cmd.Output()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", k.name, err)
		}
		var m StoreMemory
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, 0, fmt.Errorf("%s: %w: %s", k.name, err, data)
		}
		m.Name, m.What = k.name, k.what
		logf("store-memory: %s synced in %.1fs: heap %.1f MiB, RSS %.1f MiB, peak RSS %.1f MiB", k.name, m.SyncSeconds, m.HeapMiB, m.RSSMiB, m.PeakRSSMiB)
		out = append(out, m)
	}
	return out, len(objs), nil
}

// storeProbe syncs one way of keeping the operator's objects, in this process alone,
// and prints what it costs as JSON. With a memory limit, the runtime's soft limit is
// the operator's: four fifths of it.
func storeProbe(kind, kubeconfig, memoryLimit string) error {
	if memoryLimit != "" {
		q, err := resource.ParseQuantity(memoryLimit)
		if err != nil {
			return fmt.Errorf("-memory-limit: %w", err)
		}
		debug.SetMemoryLimit(q.Value() / 5 * 4)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg = fast(cfg, 32)
	scheme := controllers.NewScheme()
	ctx := context.Background()
	start := time.Now()
	var keep any
	switch kind {
	case "childstore":
		c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return err
		}
		s, err := controllers.NewChildStore(c, scheme)
		if err != nil {
			return err
		}
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
		if err := s.Start(ctx, q); err != nil {
			return err
		}
		if err := s.WaitForSync(ctx); err != nil {
			return err
		}
		keep = s
	case "cache-transform", "cache-metadata":
		shape, err := controllers.NewChildStore(nil, scheme)
		if err != nil {
			return err
		}
		opts := cache.Options{Scheme: scheme, DefaultTransform: cache.TransformStripManagedFields(), ByObject: map[client.Object]cache.ByObject{}}
		var watched []client.Object
		for _, obj := range controllers.ChildTypes() {
			if kind == "cache-metadata" {
				gvk, err := apiutil.GVKForObject(obj, scheme)
				if err != nil {
					return err
				}
				pom := &metav1.PartialObjectMetadata{}
				pom.SetGroupVersionKind(gvk)
				opts.ByObject[pom] = cache.ByObject{Label: controllers.ChildSelector()}
				watched = append(watched, pom)
				continue
			}
			ks, err := shape.For(obj)
			if err != nil {
				return err
			}
			opts.ByObject[obj] = cache.ByObject{Label: controllers.ChildSelector(), Transform: ks.Shrink()}
			watched = append(watched, obj)
		}
		ca, err := cache.New(cfg, opts)
		if err != nil {
			return err
		}
		for _, obj := range watched {
			if _, err := ca.GetInformer(ctx, obj); err != nil {
				return err
			}
		}
		go func() { _ = ca.Start(ctx) }()
		if !ca.WaitForCacheSync(ctx) {
			return fmt.Errorf("the cache did not sync")
		}
		keep = ca
	default:
		return fmt.Errorf("-store-probe %q: one of childstore, cache-transform, cache-metadata", kind)
	}
	m := StoreMemory{SyncSeconds: time.Since(start).Seconds()}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
	m.RSSMiB, m.PeakRSSMiB = procStatus("VmRSS:"), procStatus("VmHWM:")
	runtime.KeepAlive(keep)
	return json.NewEncoder(os.Stdout).Encode(m)
}

// procStatus is a size in MiB from /proc/self/status.
func procStatus(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}
