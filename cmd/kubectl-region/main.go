// Command kubectl-region is the kubectl plugin of region-operator: on the PATH, it runs
// as `kubectl region`.
package main

import (
	"os"

	"github.com/jiceng-io/region-operator/internal/plugin"
)

func main() { os.Exit(plugin.Main(os.Args[1:])) }
