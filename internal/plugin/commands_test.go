package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/plugin"
)

func yamlMarshal(v any) ([]byte, error) { return yaml.Marshal(v) }

// The sample county: its plan before it exists, then, once Ready, its tree and status,
// as golden files.
func TestSampleCountyGoldens(t *testing.T) {
	g := NewWithT(t)
	rg := sample(g, "platform_v1alpha1_region.yaml")
	file := writeRegion(g, rg)

	start := time.Now()
	out, code := kubectl("", "plan", "-f", file)
	g.Expect(code).To(Equal(plugin.ExitChanges), out)
	golden(t, "plan-sample.txt", normalise(out))
	t.Logf("planned in %s", time.Since(start))

	g.Expect(k8s.Create(context.Background(), rg)).To(Succeed())
	converge(g, rg.Name)
	t.Logf("ready after %s", time.Since(start))
	out, code = kubectl("", "tree", rg.Name)
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	golden(t, "tree-sample.txt", normalise(out))
	out, code = kubectl("", "status", rg.Name)
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	golden(t, "status-sample.txt", normalise(out))

	// The same file again: nothing to do.
	out, code = kubectl("", "plan", "-f", file)
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Expect(out).To(ContainSubstring("No changes."))
	t.Logf("planned again after %s", time.Since(start))

	out, code = kubectl("", "tree", rg.Name, "-o", "json")
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	var tree plugin.Tree
	g.Expect(json.Unmarshal([]byte(out), &tree)).To(Succeed())
	g.Expect(tree.Ready).To(BeTrue())
	g.Expect(tree.Townships).To(HaveLen(len(rg.Spec.Townships)))
	g.Expect(tree.Townships[0].Class).To(Equal("town"))
	out, code = kubectl("", "tree", rg.Name, "-o", "yaml")
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Expect(out).To(ContainSubstring("name: " + rg.Name))
}

// A file the API server refuses: its words, exit 2.
func TestPlanShowsTheAPIServersVerdict(t *testing.T) {
	g := NewWithT(t)
	rg := sample(g, "platform_v1alpha1_region.yaml")
	rg.Name = "refused"
	rg.Spec.Townships[0].Code = "350525100"
	out, code := kubectl("", "plan", "-f", writeRegion(g, rg))
	g.Expect(code).To(Equal(plugin.ExitError))
	g.Expect(out).To(ContainSubstring("the API server refuses the file"))
	g.Expect(out).To(ContainSubstring("spec.townships[].code must extend the county code"))

	_, code = kubectl("", "plan", "-f", filepath.Join(workDir, "missing.yaml"))
	g.Expect(code).To(Equal(plugin.ExitError))
}

// --local plans with no cluster at all: a new county on an empty server.
func TestLocalPlanNeedsNoCluster(t *testing.T) {
	g := NewWithT(t)
	var out strings.Builder
	cmd := plugin.NewCommand(streams(&out))
	cmd.SetArgs([]string{"--kubeconfig", filepath.Join(workDir, "none"), "plan", "--local", "-f", filepath.Join(env.Root, "config", "samples", "platform_v1alpha1_region_wuyishan.yaml")})
	err := cmd.Execute()
	g.Expect(plugin.ExitCode(err)).To(Equal(plugin.ExitChanges), out.String())
	g.Expect(out.String()).To(ContainSubstring("+ Namespace wuyishan-chongan"))
	g.Expect(out.String()).To(ContainSubstring(`CREATE SCHEMA "chongan"`))
	g.Expect(out.String()).To(ContainSubstring("Destroys nothing."))
	g.Expect(out.String()).NotTo(MatchRegexp(`SCRAM-SHA-256`))
}

// objectVersions are the versions of every object of a Region: what changes when the
// operator writes it (a Deployment's generation and metadata, its status aside).
func objectVersions(g Gomega, name string) map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range []struct{ apiVersion, kind string }{
		{"v1", "Namespace"}, {"v1", "Secret"}, {"v1", "ConfigMap"}, {"v1", "Service"}, {"v1", "ResourceQuota"}, {"v1", "LimitRange"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding"}, {"networking.k8s.io/v1", "NetworkPolicy"}, {"apps/v1", "Deployment"},
	} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(k.apiVersion)
		list.SetKind(k.kind + "List")
		g.Expect(k8s.List(ctx, list, client.MatchingLabels{naming.LabelRegion: name})).To(Succeed())
		for _, o := range list.Items {
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			v := o.GetResourceVersion()
			if k.kind == "Deployment" {
				meta, _ := json.Marshal([]any{o.GetGeneration(), o.GetLabels(), o.GetAnnotations()})
				v = string(meta)
			}
			out[k.kind+" "+o.GetNamespace()+"/"+o.GetName()] = v
		}
	}
	return out
}

func statements(g Gomega, offset int64) []string {
	out, err := pg.LoggedStatements(offset)
	g.Expect(err).NotTo(HaveOccurred())
	return out
}

func logSize(g Gomega) int64 {
	n, err := pg.LogSize()
	g.Expect(err).NotTo(HaveOccurred())
	return n
}

// What kubectl region plan says a change does is exactly what the operator then does:
// the objects it creates, changes, deletes or prunes, and the statements the server
// ran, in order (its log, with the password verifiers read as the plan's
// placeholder), for a new county, a township added, a branch edited, a rotation, a
// township removed under Retain and one removed under Delete.
func TestPlanIsWhatTheOperatorDoes(t *testing.T) {
	ctx := context.Background()
	name := "planned"
	rg := &platformv1.Region{}
	rg.Name = name
	rg.Spec = platformv1.RegionSpec{DisplayName: "永春县", Code: "350525",
		Access:   platformv1.Access{Admins: []string{"yc-admins"}, Supervisors: []string{"yc-discipline"}, TownshipAdmins: "{region}-{township}-admins"},
		Database: &platformv1.Database{ServerRef: serverName},
		Platform: &platformv1.Platform{Modules: []string{"portal", "services"}, Image: platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"}},
		Defaults: platformv1.Defaults{Quota: platformv1.Quota{CPU: quantity("4")}},
	}
	for i, n := range []string{"taocheng", "wulijie", "shigu", "dongping"} {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: n, DisplayName: n + "镇", Code: fmt.Sprintf("350525%03d", 100+i),
			Branches: []platformv1.Branch{{Name: "jiguan", DisplayName: "机关党支部", Kind: platformv1.BranchOrgan, Members: 20}}})
	}
	steps := []struct {
		name   string
		change func(*platformv1.Region)
	}{
		{"a new county", func(*platformv1.Region) {}},
		{"a township added", func(r *platformv1.Region) {
			r.Spec.Townships = append(r.Spec.Townships, platformv1.Township{Name: "penghu", DisplayName: "蓬壶镇", Code: "350525104"})
		}},
		{"a branch edited", func(r *platformv1.Region) {
			r.Spec.Townships[0].Branches[0].Members = 35
			r.Spec.Townships[0].Branches = append(r.Spec.Townships[0].Branches, platformv1.Branch{Name: "xiyuan", DisplayName: "西园村党支部", Kind: platformv1.BranchVillage, Code: "350525100201", Members: 12})
		}},
		{"a rotation", func(r *platformv1.Region) {
			r.Annotations = map[string]string{naming.AnnotationRotateCredentials: "2026-11-26"}
		}},
		{"a township removed under Retain", func(r *platformv1.Region) { r.Spec.Townships = r.Spec.Townships[:4] }},
		{"deletionPolicy Delete: nothing else changes", func(r *platformv1.Region) { r.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete }},
		{"a township removed under Delete", func(r *platformv1.Region) { r.Spec.Townships = r.Spec.Townships[:3] }},
	}
	verifier := regexp.MustCompile(`'SCRAM-SHA-256\$[^']*'`)
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			g := NewWithT(t)
			step.change(rg)
			out, code := kubectl("", "plan", "-f", writeRegion(g, rg), "-o", "json")
			g.Expect(code).To(BeNumerically("<", plugin.ExitError), out)
			var p plugin.Plan
			g.Expect(json.Unmarshal([]byte(out), &p)).To(Succeed())
			g.Expect(code == plugin.ExitChanges).To(Equal(p.Changes()))

			before := objectVersions(g, name)
			offset := logSize(g)
			if p.New {
				g.Expect(k8s.Create(ctx, rg.DeepCopy())).To(Succeed())
			} else {
				g.Eventually(func() error {
					live := &platformv1.Region{}
					if err := k8s.Get(ctx, client.ObjectKey{Name: name}, live); err != nil {
						return err
					}
					live.Spec, live.Annotations = rg.Spec, rg.Annotations
					return k8s.Update(ctx, live)
				}, time.Minute, 100*time.Millisecond).Should(Succeed())
			}
			live := converge(g, name)
			time.Sleep(time.Second) // what the reconcile's last steps would send

			// The statements, in order.
			var want []string
			for _, st := range p.Statements {
				if st.Kind != desired.KindSession {
					want = append(want, st.SQL)
				}
			}
			var got []string
			for _, s := range statements(g, offset) {
				s = verifier.ReplaceAllString(s, desired.PasswordPlaceholder)
				if p.New {
					s = strings.ReplaceAll(s, string(live.UID), "<uid of the new Region>")
				}
				got = append(got, s)
			}
			g.Expect(got).To(Equal(want))

			// The objects.
			after := objectVersions(g, name)
			var created, changed, deleted []string
			for k, v := range after {
				switch old, ok := before[k]; {
				case !ok:
					created = append(created, k)
				case old != v:
					changed = append(changed, k)
				}
			}
			for k := range before {
				if _, ok := after[k]; !ok {
					deleted = append(deleted, k)
				}
			}
			var planCreated, planChanged, planDeleted []string
			for _, ch := range p.Objects {
				k := ch.Kind + " " + ch.Namespace + "/" + ch.Name
				switch ch.Action {
				case plugin.ActionCreate:
					planCreated = append(planCreated, k)
				case plugin.ActionChange, plugin.ActionRetain:
					planChanged = append(planChanged, k)
				default:
					planDeleted = append(planDeleted, k)
				}
			}
			for _, l := range [][]string{created, changed, deleted, planCreated, planChanged, planDeleted} {
				sort.Strings(l)
			}
			g.Expect(created).To(Equal(planCreated), "created")
			g.Expect(changed).To(Equal(planChanged), "changed")
			g.Expect(deleted).To(Equal(planDeleted), "deleted")

			// Applied, the same file plans nothing.
			out, code = kubectl("", "plan", "-f", writeRegion(g, rg))
			g.Expect(code).To(Equal(plugin.ExitNoChange), out)
		})
	}
}

// rotate asks for new passwords; the Region carries them out.
func TestRotate(t *testing.T) {
	g := NewWithT(t)
	rg := sample(g, "platform_v1alpha1_region_wuyishan.yaml")
	rg.Name = "rotated"
	rg.Spec.Townships = rg.Spec.Townships[:2]
	g.Expect(k8s.Create(context.Background(), rg)).To(Succeed())
	converge(g, rg.Name)
	out, code := kubectl("", "rotate", rg.Name, "--token", "t1")
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Eventually(func(g Gomega) {
		live := converge(g, rg.Name)
		g.Expect(live.Status.Database.RotationToken).To(Equal("t1"))
	}, time.Minute, 200*time.Millisecond).Should(Succeed())
}

// confirm shows what goes and asks; only a yes writes the annotation.
func TestConfirm(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	rg := sample(g, "platform_v1alpha1_region_wuyishan.yaml")
	rg.Name = "confirmed"
	rg.Spec.Platform = nil
	rg.Spec.DeletionPolicy = platformv1.DeletionPolicyDelete
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	converge(g, rg.Name)
	live := &platformv1.Region{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: rg.Name}, live)).To(Succeed())
	live.Spec.Townships = live.Spec.Townships[:5]
	g.Expect(k8s.Update(ctx, live)).To(Succeed())
	gone := []string{"langu", "shangmei", "wutun", "wuyi", "xinfeng", "xingcun", "xingtian", "wufu", "yangzhuang"}
	gone = slices.DeleteFunc(gone, func(n string) bool {
		return slices.ContainsFunc(live.Spec.Townships, func(t platformv1.Township) bool { return t.Name == n })
	})
	sort.Strings(gone)
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: rg.Name}, live)).To(Succeed())
		g.Expect(live.Status.PendingDestruction).To(Equal(gone))
	}, time.Minute, 200*time.Millisecond).Should(Succeed())

	out, code := kubectl("", "confirm", rg.Name, "chongan")
	g.Expect(code).To(Equal(plugin.ExitError))
	g.Expect(out).To(ContainSubstring("chongan is not waiting for confirmation"))

	out, code = kubectl("n\n", append([]string{"confirm", rg.Name}, gone...)...)
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Expect(out).To(ContainSubstring("township yangzhuang: namespace confirmed-yangzhuang, schema yangzhuang with its data, role region_confirmed_yangzhuang"))
	g.Expect(out).To(ContainSubstring("Nothing confirmed."))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: rg.Name}, live)).To(Succeed())
	g.Expect(live.Annotations).NotTo(HaveKey(naming.AnnotationConfirmDestruction))

	confirmAndWait(g, rg.Name, gone)
}

// confirmAndWait confirms what a Region waits for with kubectl region confirm --yes and
// waits until nothing waits any more.
func confirmAndWait(g Gomega, name string, townships []string) {
	out, code := kubectl("", append([]string{"confirm", name, "--yes"}, townships...)...)
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Eventually(func(g Gomega) {
		live := &platformv1.Region{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, live)).To(Succeed())
		g.Expect(live.Status.PendingDestruction).To(BeEmpty())
		g.Expect(live.Status.ObservedGeneration).To(Equal(live.Generation))
	}, time.Minute, 200*time.Millisecond).Should(Succeed())
}

// psql logs in as the township with its own Secret.
func TestPsql(t *testing.T) {
	g := NewWithT(t)
	rg := sample(g, "platform_v1alpha1_region_wuyishan.yaml")
	rg.Name = "psql"
	rg.Spec.Platform = nil
	rg.Spec.Townships = rg.Spec.Townships[:1]
	g.Expect(k8s.Create(context.Background(), rg)).To(Succeed())
	converge(g, rg.Name)
	out, code := kubectl("", "psql", rg.Name, "chongan", "--psql", pg.Tool("psql"), "--", "-AtXc", "SELECT current_user, current_schema()")
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Expect(strings.TrimSpace(out)).To(Equal("region_psql_chongan|chongan"))
	out, code = kubectl("", "psql", rg.Name, "chongan", "--psql", pg.Tool("psql"), "--", "-AtXc", "SELECT 1 FROM nowhere")
	g.Expect(code).NotTo(Equal(plugin.ExitNoChange), out)
}

// Built and on the PATH, kubectl finds the plugin.
func TestKubectlFindsThePlugin(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-region"), "./cmd/kubectl-region")
	build.Dir = env.Root
	out, err := build.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	kubectlBin := filepath.Join(env.Root, "bin", "k8s", "kubectl")
	_, err = os.Stat(kubectlBin)
	g.Expect(err).NotTo(HaveOccurred(), "hack/envtest-bins.sh builds kubectl into bin/k8s")
	list := exec.Command(kubectlBin, "plugin", "list")
	list.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, _ = list.CombinedOutput()
	g.Expect(string(out)).To(ContainSubstring(filepath.Join(dir, "kubectl-region")))
	run := exec.Command(kubectlBin, "region", "--kubeconfig", kubeconfigPath, "tree", "--help")
	run.Env = list.Env
	out, err = run.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	g.Expect(string(out)).To(ContainSubstring("kubectl region tree"))
}

// The krew manifest template names the plugin and its binary; filled in, it is YAML.
func TestKrewManifest(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(env.Root, "hack", "krew", "region.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	filled := strings.NewReplacer("{{VERSION}}", "v0.1.0", "{{URI}}", "file:///tmp/a.tar.gz", "{{SHA256}}", strings.Repeat("0", 64), "{{HOMEPAGE}}", "https://example.invalid").Replace(string(data))
	var m struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Version   string `json:"version"`
			Platforms []struct {
				Bin string `json:"bin"`
			} `json:"platforms"`
		} `json:"spec"`
	}
	g.Expect(yaml.Unmarshal([]byte(filled), &m)).To(Succeed())
	g.Expect(m.Kind).To(Equal("Plugin"))
	g.Expect(m.Metadata.Name).To(Equal("region"))
	g.Expect(m.Spec.Version).To(Equal("v0.1.0"))
	g.Expect(m.Spec.Platforms).To(HaveLen(1))
	g.Expect(m.Spec.Platforms[0].Bin).To(Equal("kubectl-region"))
}

// Townships with hyphens are named once, as in the spec, in what a plan destroys and
// in what the operator holds for confirmation; each layer counts its own.
func TestPlanCountsTownshipsAsTheSpecNamesThem(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	rg := &platformv1.Region{}
	rg.Name = "hyphens"
	rg.Spec = platformv1.RegionSpec{DisplayName: "某县", Code: "350526", DeletionPolicy: platformv1.DeletionPolicyDelete,
		Database: &platformv1.Database{ServerRef: serverName}}
	for i, n := range []string{"hu-tou", "da-pu", "shang-yong", "gai-de", "long-xun"} {
		rg.Spec.Townships = append(rg.Spec.Townships, platformv1.Township{Name: n, DisplayName: n, Code: fmt.Sprintf("350526%03d", 100+i)})
	}
	g.Expect(k8s.Create(ctx, rg.DeepCopy())).To(Succeed())
	converge(g, rg.Name)

	two := rg.DeepCopy()
	two.Spec.Townships = two.Spec.Townships[2:]
	out, code := kubectl("", "plan", "-f", writeRegion(g, two), "-o", "json")
	g.Expect(code).To(Equal(plugin.ExitChanges), out)
	var p plugin.Plan
	g.Expect(json.Unmarshal([]byte(out), &p)).To(Succeed())
	g.Expect(p.Destroys).To(Equal([]string{"da-pu", "hu-tou"}))
	g.Expect(p.Confirmation).To(BeEmpty(), "two townships go without confirmation")

	four := rg.DeepCopy()
	four.Spec.Townships = four.Spec.Townships[4:]
	out, code = kubectl("", "plan", "-f", writeRegion(g, four), "-o", "json")
	g.Expect(code).To(Equal(plugin.ExitChanges), out)
	p = plugin.Plan{}
	g.Expect(json.Unmarshal([]byte(out), &p)).To(Succeed())
	g.Expect(p.Destroys).To(Equal([]string{"da-pu", "gai-de", "hu-tou", "shang-yong"}))
	g.Expect(p.Confirmation).To(Equal(naming.AnnotationConfirmDestruction + "=da-pu,gai-de,hu-tou,shang-yong"))
	for _, st := range p.Statements {
		g.Expect(st.Kind.Destructive()).To(BeFalse(), "held: %s", st.SQL)
	}
	for _, ch := range p.Objects {
		if ch.Kind == "Namespace" {
			g.Expect(ch.Note).To(ContainSubstring("waits for confirmation"))
		}
	}

	// The operator holds the same four, named once each; the annotation the plan
	// gives releases them.
	live := &platformv1.Region{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: rg.Name}, live)).To(Succeed())
	live.Spec.Townships = four.Spec.Townships
	g.Expect(k8s.Update(ctx, live)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: rg.Name}, live)).To(Succeed())
		g.Expect(live.Status.ObservedGeneration).To(Equal(live.Generation))
		g.Expect(live.Status.PendingDestruction).To(Equal(p.Destroys))
	}, time.Minute, 200*time.Millisecond).Should(Succeed())
	confirmAndWait(g, rg.Name, p.Destroys)
	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, naming.Database(rg.Name))
	g.Expect(err).NotTo(HaveOccurred())
	defer su.Close(ctx)
	var schemas int
	g.Eventually(func() int {
		g.Expect(su.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname IN ('hu_tou', 'da_pu', 'shang_yong', 'gai_de')`).Scan(&schemas)).To(Succeed())
		return schemas
	}, time.Minute, 200*time.Millisecond).Should(BeZero(), "the confirmed schemas are dropped")
}

// psql runs only as a township the Region has, in a namespace that is the Region's.
func TestPsqlStaysWithinTheRegion(t *testing.T) {
	g := NewWithT(t)
	out, code := kubectl("", "psql", "hyphens-nowhere", "x", "--psql", pg.Tool("psql"))
	g.Expect(code).To(Equal(plugin.ExitError), out)
	rg := sample(g, "platform_v1alpha1_region_wuyishan.yaml")
	rg.Name = "psql-bounds"
	rg.Spec.Platform = nil
	rg.Spec.Townships = rg.Spec.Townships[:1]
	g.Expect(k8s.Create(context.Background(), rg)).To(Succeed())
	converge(g, rg.Name)
	out, code = kubectl("", "psql", rg.Name, "xinfeng", "--psql", pg.Tool("psql"))
	g.Expect(code).To(Equal(plugin.ExitError))
	g.Expect(out).To(ContainSubstring("the Region psql-bounds has no township xinfeng"))
	out, code = kubectl("", "psql", rg.Name, "county", "--psql", pg.Tool("psql"), "--", "-AtXc", "SELECT current_user")
	g.Expect(code).To(Equal(plugin.ExitNoChange), out)
	g.Expect(strings.TrimSpace(out)).To(Equal("region_psql_bounds_county"))
}
