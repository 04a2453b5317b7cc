package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/manager"
)

// make runs a Makefile target against the test cluster, with the kubectl built into
// bin/k8s; it returns the output and whether the target succeeded.
func makeTarget(t *testing.T, kubeconfig string, args ...string) (string, bool) {
	t.Helper()
	kubectl := repo("bin", "k8s", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("bin/k8s/kubectl is missing: `make envtest` builds it (make test does)")
	}
	cmd := exec.Command("make", append([]string{"-C", repo(), "--no-print-directory", "KUBECTL=" + kubectl}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "FORCE=")
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.Command(repo("bin", "k8s", "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The README's removal sequence, with the Makefile's own targets: make uninstall
// refuses while a Region exists; the Region is deleted while the operator runs (under
// Retain its database stays); make undeploy removes the operator and its admission
// policies and leaves the CRDs; make uninstall then removes the CRDs, and nothing is
// left Terminating.
func TestREADMERemovalSequence(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	data, err := env.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	g.Expect(os.WriteFile(kubeconfig, data, 0o600)).To(Succeed())

	// Installed as make deploy does (no kubelet runs its Deployment here: the operator
	// runs in this process instead).
	resmap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), repo("config", "default"))
	g.Expect(err).NotTo(HaveOccurred())
	yml, err := resmap.AsYaml()
	g.Expect(err).NotTo(HaveOccurred())
	installed := decode(t, string(yml))
	applyAll(t, installed)
	op, err := manager.Start(env.Config, manager.Local(2))
	g.Expect(err).NotTo(HaveOccurred())
	stopped := false
	defer func() {
		if !stopped {
			_ = op.Stop()
		}
	}()

	g.Expect(pg.CreateAdmin(ctx, "removal_admin", "removal-Pa55")).To(Succeed())
	g.Expect(localenv.RegisterServer(ctx, k8s, pg, "removal-pg", "region-operator-system", "removal_admin", "removal-Pa55", 2)).To(Succeed())
	rg := &platformv1.Region{
		ObjectMeta: metav1.ObjectMeta{Name: "yongchun"},
		Spec: platformv1.RegionSpec{
			DisplayName: "永春县", Code: "350525",
			Townships: []platformv1.Township{{Name: "taocheng", DisplayName: "桃城镇", Code: "350525100"}},
			Access:    platformv1.Access{Admins: []string{"yongchun-admins"}},
			Database:  &platformv1.Database{ServerRef: "removal-pg"},
		},
	}
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rg), rg)).To(Succeed())
		g.Expect(rg.Status.Townships).To(HaveLen(1))
		g.Expect(rg.Status.Townships[0].Ready).To(BeTrue())
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())

	// make uninstall refuses while the Region exists, and deletes nothing.
	out, ok := makeTarget(t, kubeconfig, "uninstall")
	g.Expect(ok).To(BeFalse(), "make uninstall went ahead with a Region left:\n%s", out)
	g.Expect(out).To(And(ContainSubstring("1 Region(s) still exist"), ContainSubstring("region.platform.jiceng.io/yongchun")))
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rg), rg)).To(Succeed())
	g.Expect(rg.DeletionTimestamp).To(BeNil())

	// 1. The Regions, while the operator runs.
	kubectl(t, kubeconfig, "delete", "regions", "--all", "--timeout=60s")
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(rg), rg))).To(BeTrue())
	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	g.Expect(err).NotTo(HaveOccurred())
	defer su.Close(ctx)
	var n int
	g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = 'region_yongchun'`).Scan(&n)).To(Succeed())
	g.Expect(n).To(Equal(1), "Retain keeps the database")

	// 2. The operator.
	g.Expect(op.Stop()).To(Succeed())
	stopped = true
	out, ok = makeTarget(t, kubeconfig, "undeploy")
	g.Expect(ok).To(BeTrue(), out)
	for _, o := range installed {
		if o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace" {
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		err := k8s.Get(ctx, client.ObjectKeyFromObject(o), got)
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "make undeploy left %s %s", o.GetKind(), o.GetName())
	}
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "region-operator-system", Name: "region-operator-controller-manager"}, &appsv1.Deployment{}))).To(BeTrue())
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: "region-operator-protect"}, &admissionregistrationv1.ValidatingAdmissionPolicy{}))).To(BeTrue())
	crd := crdObject()
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "regions.platform.jiceng.io"}, crd)).To(Succeed(), "make undeploy keeps the CRDs")
	g.Expect(crd.GetDeletionTimestamp()).To(BeNil())

	// 3. The CRDs: nothing is left, nothing Terminating.
	out, ok = makeTarget(t, kubeconfig, "uninstall")
	g.Expect(ok).To(BeTrue(), out)
	for _, name := range []string{"regions.platform.jiceng.io", "databaseservers.platform.jiceng.io"} {
		g.Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: name}, crdObject()))
		}, 60*time.Second, 200*time.Millisecond).Should(BeTrue(), "%s is gone, not Terminating", name)
	}

	// The cluster as the other tests found it.
	kubectl(t, kubeconfig, "apply", "--server-side", "-f", repo("config", "crd", "bases"))
	kubectl(t, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd/regions.platform.jiceng.io", "crd/databaseservers.platform.jiceng.io")
}

func crdObject() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	return u
}
