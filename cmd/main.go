// Command manager runs region-operator.
package main

import (
	"flag"
	"os"
	"runtime/debug"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/api/resource"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/manager"
)

func main() {
	var (
		metricsAddr, probeAddr string
		pprofAddr              string
		leaderElect            bool
		leaderNamespace        string
		maxConcurrent          int
		syncPeriod             time.Duration
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address the health and readiness probes bind to")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "", "address Go's pprof endpoints bind to; empty disables them")
	flag.BoolVar(&leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles at a time")
	flag.StringVar(&leaderNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's own)")
	flag.IntVar(&maxConcurrent, "max-concurrent-reconciles", 4, "how many Regions are reconciled at once")
	secretNamespace := os.Getenv("POD_NAMESPACE")
	if secretNamespace == "" {
		secretNamespace = controllers.DefaultSecretNamespace
	}
	flag.StringVar(&secretNamespace, "secret-namespace", secretNamespace, "the one namespace whose Secrets a DatabaseServer's adminSecretRef may name (default: the pod's own)")
	var clusterName string
	flag.StringVar(&clusterName, "cluster-name", "", "the cluster's name in the markers of what the operator makes on database servers (default: the kube-system namespace's UID); clusters that share a server need distinct names")
	flag.DurationVar(&syncPeriod, "sync-period", 10*time.Hour, "how often every Region is reconciled again even when nothing changed")
	stallAfter := controllers.DefaultStallAfter
	flag.DurationVar(&stallAfter, "stall-after", stallAfter, "how long a cause only a person can fix (a missing DatabaseServer or Secret, a refused login, a certificate that does not verify) lasts before a Region or DatabaseServer says Stalled")
	// Failures the status reports (a server down, a missing Secret) are logged as
	// errors without a stack trace; --zap-stacktrace-level brings traces back.
	opts := zap.Options{StacktraceLevel: zapcore.PanicLevel}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	if limit, err := memoryLimit(); err != nil {
		log.Error(err, "reading MEMORY_LIMIT")
		os.Exit(1)
	} else if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Info("Go runtime memory limit set", "bytes", limit)
	}

	mgr, _, err := manager.New(ctrl.GetConfigOrDie(), manager.Options{
		Options:                 controllers.Options{MaxConcurrentReconciles: maxConcurrent, SecretNamespace: secretNamespace, ClusterName: clusterName, StallAfter: stallAfter},
		MetricsAddress:          metricsAddr,
		ProbeAddress:            probeAddr,
		PprofAddress:            pprofAddr,
		LeaderElection:          leaderElect,
		LeaderElectionNamespace: leaderNamespace,
		SyncPeriod:              syncPeriod,
	})
	if err != nil {
		log.Error(err, "setting up the operator")
		os.Exit(1)
	}

	log.Info("starting region-operator")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "running the manager")
		os.Exit(1)
	}
}

// memoryLimit is the soft memory limit for the Go runtime: four fifths of MEMORY_LIMIT,
// the container's memory limit that the Deployment passes from the downward API. The
// rest is for what the runtime does not count: the executable's pages in memory (some
// 33 MiB) first. GOMEMLIMIT, when set, wins; 0 means no limit.
func memoryLimit() (int64, error) {
	v := os.Getenv("MEMORY_LIMIT")
	if v == "" || os.Getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return 0, err
	}
	return q.Value() / 5 * 4, nil
}
