//go:build tools

// Package tools pins the kube-apiserver that the tests and the demo run.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
