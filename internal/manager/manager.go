// Package manager wires region-operator together: the REST configuration, scheme,
// cache and client options, the reconcilers with their shared connection pools and
// child store, and the manager's metrics, probes and leader election. The operator's
// binary, the demo, the local environment's tests and the install tests all start the
// operator through it, so there is one way it is put together.
package manager

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// Options are the operator's settings: the reconcilers' and the manager's.
type Options struct {
	controllers.Options
	// MetricsAddress, ProbeAddress and PprofAddress are where the endpoints listen;
	// "0" (or "" for pprof) turns one off.
	MetricsAddress, ProbeAddress, PprofAddress string
	LeaderElection                             bool
	LeaderElectionNamespace                    string
	// SyncPeriod is how often every Region is looked at with nothing changed; zero
	// keeps controller-runtime's default.
	SyncPeriod time.Duration
	// Restartable lets one process start the operator more than once (tests that stop
	// and start it): controller-runtime otherwise refuses a controller name it has seen.
	Restartable bool
}

// Local are the options of an operator run in-process beside a local control plane:
// no endpoints, no leader election, Secrets in the usual namespace.
func Local(maxConcurrentReconciles int) Options {
	return Options{
		Options:        controllers.Options{MaxConcurrentReconciles: maxConcurrentReconciles, SecretNamespace: controllers.DefaultSecretNamespace},
		MetricsAddress: "0", ProbeAddress: "0", Restartable: true,
	}
}

// New builds the operator's manager with its reconcilers, and the connection pools
// they share.
func New(cfg *rest.Config, o Options) (ctrl.Manager, *pgsql.Pools, error) {
	cacheOpts := controllers.CacheOptions()
	if o.SyncPeriod > 0 {
		cacheOpts.SyncPeriod = &o.SyncPeriod
	}
	mgr, err := ctrl.NewManager(controllers.RESTConfig(cfg), ctrl.Options{
		Scheme:                  controllers.NewScheme(),
		Cache:                   cacheOpts,
		Client:                  controllers.ClientOptions(),
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddress},
		HealthProbeBindAddress:  o.ProbeAddress,
		PprofBindAddress:        o.PprofAddress,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "region-operator.platform.jiceng.io",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		Controller:              config.Controller{SkipNameValidation: &o.Restartable},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating the manager: %w", err)
	}
	pools, err := controllers.Setup(mgr, o.Options)
	if err != nil {
		return nil, nil, fmt.Errorf("setting up the reconcilers: %w", err)
	}
	if o.ProbeAddress != "0" && o.ProbeAddress != "" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			return nil, nil, err
		}
		if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
			return nil, nil, err
		}
	}
	return mgr, pools, nil
}

// Operator is region-operator running in this process.
type Operator struct {
	Manager ctrl.Manager
	// Pools are the operator's connection pools, one per DatabaseServer.
	Pools  *pgsql.Pools
	cancel context.CancelFunc
	done   chan error
}

// Start runs the operator against the cluster cfg reaches until Stop is called.
func Start(cfg *rest.Config, o Options) (*Operator, error) {
	mgr, pools, err := New(cfg, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	op := &Operator{Manager: mgr, Pools: pools, cancel: cancel, done: make(chan error, 1)}
	go func() { op.done <- mgr.Start(ctx) }()
	return op, nil
}

// Stop stops the operator and waits for it to finish.
func (o *Operator) Stop() error {
	o.cancel()
	return <-o.done
}
