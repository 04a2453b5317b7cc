// Command devenv runs the local control plane that `make dev-up` starts: the real
// kube-apiserver and etcd with region-operator's CRDs installed. It writes an
// administrator's kubeconfig into the given directory and runs until it is signalled.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/jiceng-io/region-operator/internal/localenv"
)

func main() {
	dir := flag.String("dir", "bin/dev", "directory for the kubeconfig")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	env, err := localenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path+".tmp", kubeconfig, 0o600); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return err
	}
	fmt.Printf("control plane up at %s; kubeconfig %s\n", env.Config.Host, path)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = os.Remove(path)
	return nil
}
