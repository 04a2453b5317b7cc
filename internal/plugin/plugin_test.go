package plugin_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/manager"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/plugin"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	env            *localenv.Env
	k8s            client.Client
	pg             *localpg.Server
	kubeconfigPath string
	clusterUID     string
	workDir        string
)

const (
	pgAdmin    = "region_admin"
	pgPassword = "plugin-Pa55word"
	serverName = "provincial-pg"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	ctrllog.SetLogger(logr.Discard())
	var err error
	if workDir, err = os.MkdirTemp("", "region-operator-plugin-"); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(workDir)
	if env, err = localenv.Start(); err != nil {
		return fail(err)
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(env.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return fail(err)
	}
	kc, err := env.KubeConfig()
	if err != nil {
		return fail(err)
	}
	kubeconfigPath = filepath.Join(workDir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kc, 0o600); err != nil {
		return fail(err)
	}
	if pg, err = localpg.Start(); err != nil {
		return fail(err)
	}
	defer pg.Remove()
	ctx := context.Background()
	if err := pg.CreateAdmin(ctx, pgAdmin, pgPassword); err != nil {
		return fail(err)
	}
	// Every statement that changes something goes into the server's log: DDL as
	// it is, DML with its parameters apart.
	if err := pg.LogStatements(ctx, "mod"); err != nil {
		return fail(err)
	}
	if err := localenv.RegisterServer(ctx, k8s, pg, serverName, controllers.DefaultSecretNamespace, pgAdmin, pgPassword, 4); err != nil {
		return fail(err)
	}
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, ns); err != nil {
		return fail(err)
	}
	clusterUID = string(ns.UID)
	op, err := manager.Start(env.Config, manager.Local(4))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = op.Stop() }()
	return m.Run()
}

// kubectl runs `kubectl region` with args against the test cluster, as a plugin runs:
// the kubeconfig comes by flag. It returns the output and the exit code.
func kubectl(stdin string, args ...string) (string, int) {
	var out bytes.Buffer
	cmd := plugin.NewCommand(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &out})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfigPath}, args...))
	err := cmd.Execute()
	if err != nil && plugin.ExitCode(err) == plugin.ExitError {
		fmt.Fprintln(&out, "error:", err)
	}
	return out.String(), plugin.ExitCode(err)
}

// sample reads a sample county.
func sample(g Gomega, file string) *platformv1.Region {
	rg, err := plugin.ReadRegion(filepath.Join(env.Root, "config", "samples", file))
	g.Expect(err).NotTo(HaveOccurred())
	return rg
}

// writeRegion writes a Region to a file of the test's, for plan -f.
func writeRegion(g Gomega, rg *platformv1.Region) string {
	rg = rg.DeepCopy()
	rg.APIVersion, rg.Kind = platformv1.GroupVersion.String(), "Region"
	rg.ResourceVersion, rg.UID, rg.ManagedFields, rg.Generation, rg.CreationTimestamp = "", "", nil, 0, metav1.Time{}
	rg.Finalizers = nil
	rg.Status = platformv1.RegionStatus{}
	data, err := yamlMarshal(rg)
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(workDir, fmt.Sprintf("%s-%d.yaml", rg.Name, time.Now().UnixNano()))
	g.Expect(os.WriteFile(path, data, 0o600)).To(Succeed())
	return path
}

// converge rolls the Region's Deployments out as the deployment controller would and
// waits until the Region is Ready for its latest generation.
func converge(g Gomega, name string) *platformv1.Region {
	ctx := context.Background()
	var rg *platformv1.Region
	g.Eventually(func(g Gomega) {
		var list appsv1.DeploymentList
		g.Expect(k8s.List(ctx, &list, client.MatchingLabels{naming.LabelRegion: name})).To(Succeed())
		for i := range list.Items {
			if d := &list.Items[i]; !localenv.RolledOut(d) {
				_ = localenv.RollOut(ctx, k8s, d)
			}
		}
		rg = &platformv1.Region{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, rg)).To(Succeed())
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}, 2*time.Minute, 200*time.Millisecond).Should(Succeed())
	return rg
}

// golden compares output with a file of testdata, after normalise.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plugin -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; if the change is meant, run go test ./internal/plugin -update and review the diff.\ngot:\n%s", path, got)
	}
}

var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`), "<time>"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z`), "<time>"},
	{regexp.MustCompile(`PostgreSQL [^,]*, `), "PostgreSQL <version>, "},
	{regexp.MustCompile(`created namespace [^\n]*`), "created namespace <the county's namespaces>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:<port>"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uid>"},
}

func normalise(s string) string {
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

func quantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func streams(out io.Writer) genericiooptions.IOStreams {
	return genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out}
}
