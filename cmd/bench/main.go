// Command bench measures region-operator at province scale beside the floor the same
// machine allows: first a bare client at full parallelism creates exactly the objects
// and runs exactly the SQL a province's Regions need; then, on a fresh control plane and
// database, the operator (a separate process, as deployed) is given the same province as
// Regions; then it is left alone, with a forced resync, to count what it still writes.
// It prints one table and writes the same figures as JSON to bin/bench/.
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/jiceng-io/region-operator/internal/pgsql"
)

func main() {
	o := parseFlags()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if o.storeProbe != "" {
		if err := storeProbe(o.storeProbe, o.kubeconfig, o.memoryLimit); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -store-probe:", err)
			os.Exit(1)
		}
		return
	}
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
	if o.addOnes < 1 || o.addOnes > 100 {
		fmt.Fprintln(os.Stderr, "bench: -add-one-counties 1..100")
		os.Exit(2)
	}
	if o.dataDir != "" {
		// etcd's and PostgreSQL's directories are made in the temporary directory.
		if err := os.Setenv("TMPDIR", o.dataDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -data-dir:", err)
			os.Exit(2)
		}
	}
	if o.storeMemory {
		res := &Result{Machine: machine(), Counties: o.counties, Townships: o.counties * o.townships, Branches: o.counties * o.townships * o.branches}
		var err error
		res.Stores, res.Objects, err = storeMemory(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -store-memory:", err)
			os.Exit(1)
		}
		reportStores(os.Stdout, res)
		if err := save(o.out, res); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	var runs []*Result
	for i := range max(1, o.repeat) {
		if o.repeat > 1 {
			logf("run %d of %d", i+1, o.repeat)
		}
		res, err := run(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		report(os.Stdout, res)
		runs = append(runs, res)
	}
	res := runs[0]
	if len(runs) > 1 {
		res = median(runs)
		fmt.Printf("\n%d runs: operator / floor ratios", len(runs))
		for _, r := range runs {
			fmt.Printf(" %.2f", r.Ratio)
		}
		fmt.Printf("; median %.2f (target ≤ 1.25 at 100 counties)\n", res.MedianRatio)
	}
	if err := save(o.out, res); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
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
