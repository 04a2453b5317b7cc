package controllers_test

import (
	"io"
	"os"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// testLogger logs nothing, unless REGION_OPERATOR_TEST_LOG is set.
func testLogger() logr.Logger {
	if os.Getenv("REGION_OPERATOR_TEST_LOG") != "" {
		return zap.New(zap.UseDevMode(true))
	}
	// Reconcile errors are expected here: the tests cause them on purpose.
	return zap.New(zap.WriteTo(io.Discard))
}
