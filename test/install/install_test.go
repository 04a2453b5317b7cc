// Package install tests what a platform team installs: config/default, the Helm chart,
// the operator's least-privilege RBAC, the Argo CD health check and the image's binary.
package install

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/manager"
	"github.com/jiceng-io/region-operator/internal/naming"
)

var (
	env *localenv.Env
	k8s client.Client
	pg  *localpg.Server
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if env, err = localenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if pg, err = localpg.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pg.Remove()
	if k8s, err = client.New(env.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func repo(parts ...string) string { return filepath.Join(append([]string{env.Root}, parts...)...) }

func helm(t *testing.T, args ...string) string {
	t.Helper()
	bin := repo("bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/helm is missing: `make helm` builds it from its Go module (make test does)")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// decode splits a multi-document YAML stream into objects.
func decode(t *testing.T, stream string) []*unstructured.Unstructured {
	t.Helper()
	return localenv.Objects([]byte(stream))
}

// applyAll applies objects to the test cluster, namespaces first.
func applyAll(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			g.Expect(client.IgnoreAlreadyExists(err)).To(Succeed())
		}
	}
	for _, o := range objs {
		g.Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner("install-test"), client.ForceOwnership)).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
	}
}

func TestConfigDefaultIsACompleteInstall(t *testing.T) {
	g := NewWithT(t)
	resmap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), repo("config", "default"))
	g.Expect(err).NotTo(HaveOccurred())
	data, err := resmap.AsYaml()
	g.Expect(err).NotTo(HaveOccurred())
	objs := decode(t, string(data))
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	g.Expect(kinds).To(Equal(map[string]int{
		"Namespace": 1, "CustomResourceDefinition": 2, "ServiceAccount": 1, "ClusterRole": 3, "ClusterRoleBinding": 1,
		"Role": 1, "RoleBinding": 1, "Deployment": 1, "Service": 1,
		"MutatingAdmissionPolicy": 1, "MutatingAdmissionPolicyBinding": 1,
		"ValidatingAdmissionPolicy": 2, "ValidatingAdmissionPolicyBinding": 2,
	}))
	expectProtectPolicies(t, objs, "region-operator-")
	expectBoundFinalizerPolicy(t, objs, "region-operator-finalizer")
	clusterScoped := map[string]bool{"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
		"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true, "ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true}
	for _, o := range objs {
		// Tools that take a manifest literally (diff, GitOps) must not see a namespace
		// on what has none.
		if clusterScoped[o.GetKind()] {
			g.Expect(o.GetNamespace()).To(BeEmpty(), "%s %s is cluster-scoped", o.GetKind(), o.GetName())
		} else {
			g.Expect(o.GetNamespace()).To(Equal("region-operator-system"), "%s %s", o.GetKind(), o.GetName())
		}
	}
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			args, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			g.Expect(fmt.Sprint(args)).To(And(ContainSubstring("--leader-elect"), ContainSubstring("healthz"), ContainSubstring("readyz")))
		}
	}
	applyAll(t, objs)
}

func TestChartIsGeneratedFromConfig(t *testing.T) {
	g := NewWithT(t)
	bases, err := filepath.Glob(repo("config", "crd", "bases", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bases).To(HaveLen(2))
	for _, b := range bases {
		want, _ := os.ReadFile(b)
		got, err := os.ReadFile(repo("charts", "region-operator", "crds", filepath.Base(b)))
		g.Expect(err).NotTo(HaveOccurred(), "the chart lacks %s: run make manifests", filepath.Base(b))
		g.Expect(string(got)).To(Equal(string(want)), "the chart's %s drifted from config/: run make manifests", filepath.Base(b))
	}
	rules := func(file string) string {
		data, err := os.ReadFile(file)
		g.Expect(err).NotTo(HaveOccurred())
		return string(data[bytes.Index(data, []byte("\nrules:")):])
	}
	g.Expect(rules(repo("charts", "region-operator", "templates", "clusterrole.yaml"))).To(
		Equal(rules(repo("config", "rbac", "role.yaml"))), "the chart's ClusterRole drifted from config/rbac: run make manifests")
	lua, _ := os.ReadFile(repo("charts", "region-operator", "argocd", "health.lua"))
	patch, _ := os.ReadFile(repo("charts", "region-operator", "argocd", "argocd-cm-patch.yaml"))
	indented := regexp.MustCompile(`(?m)^(.)`).ReplaceAllString(string(lua), "    $1")
	g.Expect(strings.Count(string(patch), indented)).To(Equal(2), "the Argo CD snippet drifted from health.lua: run make manifests")
}

func TestHelmChartLintsAndTemplates(t *testing.T) {
	g := NewWithT(t)
	chart := repo("charts", "region-operator")
	g.Expect(helm(t, "lint", "--strict", chart)).To(ContainSubstring("0 chart(s) failed"))
	out := helm(t, "template", "ro", chart, "--namespace", "jiceng-system",
		"--set", "replicaCount=2", "--set", "maxConcurrentReconciles=8", "--set", "logLevel=debug",
		"--set", "image.repository=registry.example.gov.cn/jiceng/region-operator", "--set", "image.tag=0.1.0",
		"--set", "nodeSelector.role=infra", "--set", "tolerations[0].key=dedicated", "--set", "tolerations[0].operator=Exists",
		"--set", "resources.limits.memory=1Gi", "--api-versions", "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy",
		"--api-versions", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy")
	objs := decode(t, out)
	expectBoundFinalizerPolicy(t, objs, "ro-region-operator-finalizer")
	expectProtectPolicies(t, objs, "ro-region-operator-")
	var dep *appsv1.Deployment
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			dep = &appsv1.Deployment{}
			data, _ := yaml.Marshal(o.Object)
			g.Expect(yaml.Unmarshal(data, dep)).To(Succeed())
		}
	}
	g.Expect(dep).NotTo(BeNil())
	g.Expect(*dep.Spec.Replicas).To(BeEquivalentTo(2))
	c := dep.Spec.Template.Spec.Containers[0]
	g.Expect(c.Image).To(Equal("registry.example.gov.cn/jiceng/region-operator:0.1.0"))
	g.Expect(c.Args).To(ContainElements("--max-concurrent-reconciles=8", "--zap-log-level=debug", "--leader-elect=true"))
	g.Expect(c.Resources.Limits.Memory().String()).To(Equal("1Gi"))
	g.Expect(dep.Spec.Template.Spec.NodeSelector).To(HaveKeyWithValue("role", "infra"))
	g.Expect(dep.Spec.Template.Spec.Tolerations).To(HaveLen(1))
	applyAll(t, objs)
}

// expectBoundFinalizerPolicy checks that an install holds config/admission's finalizer
// policy, named name, and a binding of it.
func expectBoundFinalizerPolicy(t *testing.T, objs []*unstructured.Unstructured, name string) {
	t.Helper()
	g := NewWithT(t)
	want, err := env.AdmissionObjects()
	g.Expect(err).NotTo(HaveOccurred())
	var policy, binding *unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "MutatingAdmissionPolicy":
			policy = o
		case "MutatingAdmissionPolicyBinding":
			binding = o
		}
	}
	g.Expect(policy).NotTo(BeNil(), "the install has no MutatingAdmissionPolicy")
	g.Expect(binding).NotTo(BeNil(), "the install has no MutatingAdmissionPolicyBinding")
	g.Expect(policy.GetName()).To(Equal(name))
	g.Expect(policy.Object["spec"]).To(Equal(want[0].Object["spec"]), "the policy drifted from config/admission: run make manifests")
	g.Expect(binding.Object["spec"]).To(Equal(map[string]any{"policyName": name}))
}

// expectProtectPolicies checks that an install holds config/admission's validating
// policies, their names prefixed, each bound, with config/admission's specs.
func expectProtectPolicies(t *testing.T, objs []*unstructured.Unstructured, prefix string) {
	t.Helper()
	g := NewWithT(t)
	want, err := env.AdmissionObjects()
	g.Expect(err).NotTo(HaveOccurred())
	specs := map[string]any{}
	for _, o := range want {
		if o.GetKind() == "ValidatingAdmissionPolicy" {
			specs[prefix+o.GetName()] = o.Object["spec"]
		}
	}
	g.Expect(specs).To(HaveLen(2))
	bound := map[string]bool{}
	for _, o := range objs {
		switch o.GetKind() {
		case "ValidatingAdmissionPolicy":
			g.Expect(specs).To(HaveKeyWithValue(o.GetName(), o.Object["spec"]), "the policy %s drifted from config/admission: run make manifests", o.GetName())
		case "ValidatingAdmissionPolicyBinding":
			name, _, _ := unstructured.NestedString(o.Object, "spec", "policyName")
			bound[name] = true
		}
	}
	for name := range specs {
		g.Expect(bound).To(HaveKey(name), "%s is not bound", name)
	}
}

// chartClusterRole is the ClusterRole the chart installs for the operator.
func chartClusterRole(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	for _, o := range decode(t, helm(t, "template", "ro", repo("charts", "region-operator"), "--namespace", "region-operator-system")) {
		if o.GetKind() == "ClusterRole" && o.GetName() == "ro-region-operator" {
			role := &rbacv1.ClusterRole{}
			data, _ := yaml.Marshal(o.Object)
			NewWithT(t).Expect(yaml.Unmarshal(data, role)).To(Succeed())
			return role
		}
	}
	t.Fatal("the chart has no ClusterRole")
	return nil
}

func TestOperatorNeedsNoMoreThanItsClusterRole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	role := chartClusterRole(t)
	for _, r := range role.Rules {
		for _, v := range append(append(append([]string{}, r.Verbs...), r.Resources...), r.APIGroups...) {
			g.Expect(v).NotTo(Equal("*"), "no wildcards in %+v", r)
		}
		if slices(r.Verbs, "bind") {
			g.Expect(r.Resources).To(Equal([]string{"clusterroles"}))
			g.Expect(r.ResourceNames).To(ConsistOf("admin", "view"), "bind on exactly the roles it grants")
		}
	}
	role.Name = "region-operator-under-test"
	g.Expect(k8s.Create(ctx, role)).To(Succeed())
	const sa = "system:serviceaccount:region-operator-system:region-operator"
	g.Expect(k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: sa}},
	})).To(Succeed())

	// The operator, with nothing but that role.
	as := rest.CopyConfig(env.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: sa, Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	op, err := manager.Start(as, manager.Local(2))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = op.Stop() }()

	g.Expect(pg.CreateAdmin(ctx, "rbac_admin", "rbac-Pa55")).To(Succeed())
	g.Expect(localenv.RegisterServer(ctx, k8s, pg, "pg", "region-operator-system", "rbac_admin", "rbac-Pa55", 4)).To(Succeed())
	rg := &platformv1.Region{
		ObjectMeta: metav1.ObjectMeta{Name: "dehua"},
		Spec: platformv1.RegionSpec{
			DisplayName: "德化县", Code: "350526", DeletionPolicy: platformv1.DeletionPolicyDelete,
			Townships: []platformv1.Township{
				{Name: "xunzhong", DisplayName: "浔中镇", Code: "350526100", Branches: []platformv1.Branch{{Name: "jiguan", DisplayName: "浔中镇机关党支部", Kind: platformv1.BranchOrgan, Members: 30}}},
				{Name: "longxun", DisplayName: "龙浔镇", Code: "350526101"},
			},
			Access:   platformv1.Access{Admins: []string{"dehua-admins"}, Supervisors: []string{"dehua-discipline"}, TownshipAdmins: "{region}-{township}-admins"},
			Database: &platformv1.Database{ServerRef: "pg"},
			Platform: &platformv1.Platform{Modules: []string{"portal", "services", "deliberation", "emergency", "supervision"},
				Image: platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"}},
		},
	}
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	// Everything but the Deployments' roll-out (no controller runs them here).
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(rg), rg)).To(Succeed())
		for _, l := range []string{controllers.ConditionNamespacesReady, controllers.ConditionAccessReady, controllers.ConditionDatabaseReady, controllers.ConditionDirectoryReady} {
			c := meta.FindStatusCondition(rg.Status.Conditions, l)
			g.Expect(c).NotTo(BeNil(), l)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", l, c.Message)
		}
		c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionPlatformReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(controllers.ReasonProgressing), c.Message)
	}, 60*time.Second, 200*time.Millisecond).Should(Succeed())
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "dehua-longxun", Name: naming.SecretDatabase}, secret)).To(Succeed())

	// Deletion under the same identity, confirmed: namespaces deleted, database and
	// roles dropped.
	confirm := client.MergeFrom(rg.DeepCopy())
	rg.Annotations = map[string]string{naming.AnnotationConfirmDestruction: rg.Name}
	g.Expect(k8s.Patch(ctx, rg, confirm)).To(Succeed())
	g.Expect(k8s.Delete(ctx, rg)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(rg), rg))
	}, 60*time.Second, 200*time.Millisecond).Should(BeTrue(), "the finalizer finished")
	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "dehua"}, ns)).To(Succeed())
	g.Expect(ns.DeletionTimestamp).NotTo(BeNil(), "namespaces deleted (envtest has no namespace controller to finish it)")
	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	g.Expect(err).NotTo(HaveOccurred())
	defer su.Close(ctx)
	var n int
	g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = 'region_dehua'`).Scan(&n)).To(Succeed())
	g.Expect(n).To(BeZero(), "the database was dropped")
}

func slices(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// The image's build stage, run here: the binary must be static.
func TestBinaryBuildsAsTheDockerfileDoes(t *testing.T) {
	g := NewWithT(t)
	dockerfile, err := os.ReadFile(repo("Dockerfile"))
	g.Expect(err).NotTo(HaveOccurred())
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 GOOS=linux go build .*) -o manager (\./cmd)$`).FindStringSubmatch(string(dockerfile))
	g.Expect(m).NotTo(BeNil(), "the Dockerfile's build line changed; keep this test in step with it")
	out := filepath.Join(t.TempDir(), "manager")
	// As docker does: RUN hands the line to /bin/sh -c.
	cmd := exec.Command("/bin/sh", "-c", m[1]+" -o "+out+" "+m[2])
	cmd.Dir = env.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, b)
	}
	f, err := elf.Open(out)
	g.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	for _, p := range f.Progs {
		g.Expect(p.Type).NotTo(Equal(elf.PT_INTERP), "the binary is dynamically linked; distroless static cannot run it")
	}
	g.Expect(f.Machine).To(Equal(elf.EM_X86_64))
}

// The chart's optional monitoring: a dashboard ConfigMap Grafana's sidecar loads by its
// label, and the alerting rules; neither is there unless asked for.
func TestHelmChartMonitoring(t *testing.T) {
	g := NewWithT(t)
	chart := repo("charts", "region-operator")
	for _, o := range decode(t, helm(t, "template", "ro", chart, "--namespace", "jiceng-system")) {
		g.Expect(o.GetKind()).NotTo(Equal("PrometheusRule"))
		g.Expect(o.GetName()).NotTo(HaveSuffix("-dashboard"))
	}
	objs := decode(t, helm(t, "template", "ro", chart, "--namespace", "jiceng-system",
		"--set", "monitoring.grafanaDashboard.enabled=true", "--set", "monitoring.grafanaDashboard.namespace=monitoring",
		"--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.prometheusRule.notReadyFor=30m"))
	var dashboard, rule *unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GetKind() == "ConfigMap" && o.GetName() == "ro-region-operator-dashboard":
			dashboard = o
		case o.GetKind() == "PrometheusRule":
			rule = o
		}
	}
	g.Expect(dashboard).NotTo(BeNil())
	g.Expect(dashboard.GetNamespace()).To(Equal("monitoring"))
	g.Expect(dashboard.GetLabels()).To(HaveKeyWithValue("grafana_dashboard", "1"))
	data, _, _ := unstructured.NestedString(dashboard.Object, "data", "region-operator.json")
	var board struct {
		Title  string           `json:"title"`
		Panels []map[string]any `json:"panels"`
	}
	g.Expect(json.Unmarshal([]byte(data), &board)).To(Succeed())
	g.Expect(board.Title).To(Equal("region-operator"))
	g.Expect(len(board.Panels)).To(BeNumerically(">=", 10))

	g.Expect(rule).NotTo(BeNil())
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	g.Expect(groups).To(HaveLen(1))
	rules, _, _ := unstructured.NestedSlice(groups[0].(map[string]any), "rules")
	alerts := map[string]map[string]any{}
	for _, r := range rules {
		alerts[r.(map[string]any)["alert"].(string)] = r.(map[string]any)
	}
	g.Expect(alerts).To(HaveKey("RegionNotReady"))
	g.Expect(alerts["RegionNotReady"]["for"]).To(Equal("30m"))
	g.Expect(alerts).To(HaveKey("DatabaseServerUnreachable"))
	g.Expect(alerts).To(HaveKey("RegionSQLFailures"))
	g.Expect(alerts).To(HaveKey("RegionDestructionAwaitsConfirmation"))
}
