//go:build tools

// Package tools pins the helm that the tests lint and template the chart with.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
