package controllers_test

import (
	"os"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// testLogger logs the operator's errors only, unless REGION_OPERATOR_TEST_LOG is set.
func testLogger() logr.Logger {
	if os.Getenv("REGION_OPERATOR_TEST_LOG") != "" {
		return zap.New(zap.UseDevMode(true))
	}
	return zap.New(zap.Level(zapcore.ErrorLevel))
}
