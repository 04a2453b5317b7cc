// Package localenv starts a local control plane, the real kube-apiserver and etcd that
// hack/envtest-bins.sh builds, with region-operator's CRDs and admission policy
// installed. The tests, the demo and `make dev-up` all run on it.
package localenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Env is a running local control plane.
type Env struct {
	env *envtest.Environment
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	// Root is the repository's top directory.
	Root string
}

// RepoRoot finds the repository's top directory from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "PROJECT")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no PROJECT file above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// AssetsDir is where kube-apiserver and etcd are: KUBEBUILDER_ASSETS when set, else
// bin/k8s, where hack/envtest-bins.sh builds them.
func AssetsDir(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(root, "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("%s not found in %s: run `make envtest` (hack/envtest-bins.sh) to build it", bin, dir)
		}
	}
	return dir, nil
}

// Start starts a control plane and installs the CRDs from config/crd/bases and the
// admission policy from config/admission.
func Start() (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := AssetsDir(root)
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// Room for a province's Services: envtest's default range holds 254.
	e.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/12")
	cfg, err := e.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	env := &Env{env: e, Config: cfg, Root: root}
	c, err := client.New(cfg, client.Options{})
	if err == nil {
		err = aggregateClusterRoles(context.Background(), c)
	}
	if err == nil {
		err = env.installAdmission(context.Background(), c)
	}
	if err != nil {
		_ = e.Stop()
		return nil, err
	}
	return env, nil
}

// Stop stops the control plane and removes its data.
func (e *Env) Stop() error { return e.env.Stop() }

// KubeConfig returns a kubeconfig for a cluster administrator of this control plane.
func (e *Env) KubeConfig() ([]byte, error) {
	user, err := e.env.AddUser(envtest.User{Name: "dev-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	return user.KubeConfig()
}

// aggregateClusterRoles does once what kube-controller-manager's clusterrole-aggregation
// controller does continuously, which a bare API server lacks: it fills the built-in
// aggregated ClusterRoles (admin, edit, view) with the rules of the roles they select.
// Without it the built-in admin and view roles that Regions bind would grant nothing.
func aggregateClusterRoles(ctx context.Context, c client.Client) error {
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for _, name := range []string{"view", "edit", "admin"} { // in dependency order
		var role rbacv1.ClusterRole
		for {
			err = c.Get(ctx, client.ObjectKey{Name: name}, &role)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond) // the bootstrap roles appear shortly after start
		}
		if err != nil {
			return fmt.Errorf("reading ClusterRole %s: %w", name, err)
		}
		if role.AggregationRule == nil {
			continue
		}
		var rules []rbacv1.PolicyRule
		for _, sel := range role.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&sel)
			if err != nil {
				return err
			}
			var parts rbacv1.ClusterRoleList
			if err := c.List(ctx, &parts, client.MatchingLabelsSelector{Selector: s}); err != nil {
				return err
			}
			for _, p := range parts.Items {
				if p.Name != name {
					rules = append(rules, p.Rules...)
				}
			}
		}
		role.Rules = rules
		if err := c.Update(ctx, &role); err != nil {
			return fmt.Errorf("aggregating ClusterRole %s: %w", name, err)
		}
	}
	return nil
}
