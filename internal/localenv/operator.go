package localenv

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// Operator is region-operator running in this process against a control plane.
type Operator struct {
	Manager ctrl.Manager
	// Pools are the operator's connection pools, one per DatabaseServer.
	Pools  *pgsql.Pools
	cancel context.CancelFunc
	done   chan error
}

// StartOperator runs the operator's manager, as cmd/main.go sets it up, against the
// control plane until Stop is called.
func (e *Env) StartOperator(maxConcurrentReconciles int) (*Operator, error) {
	return StartOperator(e.Config, maxConcurrentReconciles)
}

// StartOperator runs the operator's manager with the given identity.
func StartOperator(cfg *rest.Config, maxConcurrentReconciles int) (*Operator, error) {
	mgr, err := ctrl.NewManager(controllers.RESTConfig(cfg), ctrl.Options{
		Scheme:                 controllers.NewScheme(),
		Cache:                  controllers.CacheOptions(),
		Client:                 controllers.ClientOptions(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	pools, err := controllers.Setup(mgr, controllers.Options{MaxConcurrentReconciles: maxConcurrentReconciles, SecretNamespace: controllers.DefaultSecretNamespace})
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
