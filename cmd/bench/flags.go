package main

import (
	"flag"
	"os"
	"time"
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
	// storeMemory compares the memory of ways of keeping the operator's objects;
	// storeProbe and kubeconfig run one of them (the bench starts itself so).
	storeMemory            bool
	storeProbe, kubeconfig string
	// restart kills the operator once the province is Ready and starts it again.
	restart bool
	// repeat runs the floor and the operator this many times, each on fresh planes.
	repeat int
	// trace runs the operator at debug level and keeps its log.
	trace bool
	// addOne applies one more county into the Ready province, beside its floor.
	addOne bool
	// addOnes is how many counties -add-one applies, one after another.
	addOnes int
	// failover runs two replicas with leader election and kills the leader.
	failover bool
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

// parseFlags reads the command line into options.
func parseFlags() options {
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
	flag.StringVar(&o.memoryLimit, "memory-limit", "", "run the operator as in a container with this memory limit (256Mi, say): the Deployment passes it as MEMORY_LIMIT and the Go runtime keeps its heap under four fifths of it; with -store-memory, each probe's runtime too")
	flag.BoolVar(&o.trace, "trace", false, "run the operator at debug level, where each reconcile logs its steps (read, namespaces, access, directory, platform, database, deployments, status: start and duration in ms), and save its log to -out as operator.log")
	flag.BoolVar(&o.profile, "profile", false, "also save the operator's and the API server's CPU (first 30 s) and the operator's heap (at all-Ready) profiles to -out, for go tool pprof")
	flag.StringVar(&o.dataDir, "data-dir", memoryDir(), "directory for etcd's and PostgreSQL's data; by default /dev/shm (memory) where there is one, as a province's databases are tens of thousands of files, and a disk's file system (ext4, say) is slow to create files for a while after many were deleted: the floor's, just before the operator's phase")
	flag.BoolVar(&o.restart, "restart", false, "after the steady state, kill the operator (SIGKILL) and start it again with the same flags and memory limit: its writes, DDL, peak RSS and the time until every Region was reconciled once")
	flag.BoolVar(&o.failover, "failover", false, "run the operator with leader election and, once the province is Ready, a second replica standing by; kill the leader (SIGKILL): how soon after the lease expires the other has reconciled every Region, what it changed, and its memory while standing by (JSON: failover.seconds, failover.writes)")
	flag.BoolVar(&o.addOne, "add-one", false, "after the steady state, apply one more county into the Ready province: its apply → Ready against the floor for that one county in the same cluster (a bare client making just its objects and SQL), and how many objects of the other counties changed (JSON: addOne.ratio, addOne.othersTouched)")
	flag.IntVar(&o.addOnes, "add-one-counties", 3, "with -add-one, how many counties are applied one after another, each beside its own floor; addOne.ratio is the median of their ratios (one county's apply to Ready takes a few seconds, and one measure carries whatever else the machine did in them), addOne.othersTouched the sum, addOne.counties each")
	flag.IntVar(&o.repeat, "repeat", 1, "run the floor and the operator this many times in one invocation, each on a fresh control plane and database, and report every run and the median ratio (JSON: runs, medianRatio)")
	flag.BoolVar(&o.storeMemory, "store-memory", false, "instead of the floor and the operator: create the province's Kubernetes objects, then sync, each in a process of its own, the operator's store, controller-runtime's cache with ByObject{Label, Transform} and its metadata-only watches, and report the memory of each")
	flag.StringVar(&o.storeProbe, "store-probe", "", "(internal) sync one way of keeping the objects and print its memory")
	flag.StringVar(&o.kubeconfig, "probe-kubeconfig", "", "(internal) the cluster of -store-probe")
	flag.Parse()
	return o
}
