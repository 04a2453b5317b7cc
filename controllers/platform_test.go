package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/render"
)

func platformRegion(name string) *platformv1.Region {
	rg := dbRegion(name)
	rg.Spec.Platform = &platformv1.Platform{
		Modules: []string{"portal", "services", "deliberation", "emergency", "supervision"},
		Image:   platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"},
	}
	return rg
}

// markAvailable does what kube-controller-manager's deployment controller would, which
// envtest does not run: it reports every Deployment of the Region as rolled out.
func markAvailable(g Gomega, region string) {
	ctx := context.Background()
	var list appsv1.DeploymentList
	g.Expect(k8s.List(ctx, &list, client.MatchingLabels{naming.LabelRegion: region})).To(Succeed())
	for i := range list.Items {
		g.Expect(localenv.RollOut(ctx, k8s, &list.Items[i])).To(Succeed())
	}
}

// rolledOutReady reports the Region's Deployments rolled out, as they come, until the
// Region is Ready for its current generation, and returns it.
func rolledOutReady(t *testing.T, name string) *platformv1.Region {
	t.Helper()
	var rg *platformv1.Region
	NewWithT(t).Eventually(func(g Gomega) {
		markAvailable(g, name)
		rg = readyNow(g, name)
	}, timeout, interval).Should(Succeed())
	return rg
}

func deployment(g Gomega, ns, name string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d)).To(Succeed())
	return d
}

func gone(g Gomega, obj client.Object) {
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), obj))
	}, timeout, interval).Should(BeTrue(), "%T %s should be gone", obj, obj.GetName())
}

// A Region whose Deployments roll out within the hold has its status written once,
// straight to Ready: the API server never stores a status saying it is rolling out, a
// large object written twice. That one status says everything the held one would have,
// that the database was made included (the next reconcile trusts its memo of the
// database and does not learn it again). (One whose Deployments do not roll out says
// so when the hold is over: TestPlatformIsRenderedAppliedAndFollowed.)
func TestQuickRollOutWritesOneStatus(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := uniqueName("quick")
	rg := platformRegion(name)
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: k8s.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, &platformv1.RegionList{}, client.MatchingFields{"metadata.name": name})
	g.Expect(err).NotTo(HaveOccurred())
	var statuses []platformv1.RegionStatus
	seen := make(chan struct{})
	go func() {
		defer close(seen)
		for e := range w.ResultChan() {
			if got, ok := e.Object.(*platformv1.Region); ok && (len(statuses) == 0 || !equality.Semantic.DeepEqual(got.Status, statuses[len(statuses)-1])) {
				statuses = append(statuses, got.Status)
			}
		}
	}()
	createRegion(t, rg)
	rolledOutReady(t, name)
	w.Stop()
	<-seen
	var said []string
	for _, st := range statuses[1:] {
		c := metaCondition(st.Conditions, controllers.ConditionPlatformReady)
		said = append(said, c.Reason+": "+c.Message)
	}
	g.Expect(statuses[0].Conditions).To(BeEmpty(), "the Region was created without a status")
	g.Expect(said).To(HaveLen(1), "the status was written more than once on the way to Ready")
	g.Expect(metaCondition(statuses[1].Conditions, controllers.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(statuses[1].Database).NotTo(BeNil())
	g.Expect(statuses[1].Database.Provisioned).To(BeTrue(), "the one status written does not say the database was made")
}

func TestPlatformIsRenderedAppliedAndFollowed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("platform")
	createRegion(t, platformRegion(name))

	// Until the Deployments are available the Region is not Ready, and says why.
	g.Eventually(func(g Gomega) {
		rg := getRegion(g, name)
		c := condition(rg, controllers.ConditionPlatformReady)
		g.Expect(c.Reason).To(Equal(controllers.ReasonProgressing))
		g.Expect(c.Message).To(ContainSubstring("0 of 6 Deployments available"))
		g.Expect(condition(rg, controllers.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
		g.Expect(condition(rg, controllers.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, interval).Should(Succeed())

	for _, m := range []string{"portal", "deliberation", "emergency", "supervision"} {
		d := deployment(g, name, m)
		g.Expect(d.Labels).To(And(HaveKeyWithValue(naming.LabelRegion, name), HaveKeyWithValue("platform.jiceng.io/module", m),
			HaveKeyWithValue(naming.LabelManagedBy, "region-operator")))
		g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.gov.cn/jiceng/" + m + ":1.4.2"))
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: m}, &corev1.Service{})).To(Succeed())
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: m + "-config"}, &corev1.ConfigMap{})).To(Succeed())
	}
	g.Expect(deployment(g, name, "supervision").Spec.Template.Spec.Containers[0].EnvFrom[0].SecretRef.Name).To(Equal("database-supervisor"))
	g.Expect(deployment(g, name, "portal").Spec.Template.Spec.Containers[0].EnvFrom[0].SecretRef.Name).To(Equal("database"))
	for _, tw := range []string{"fengcheng", "hutou"} {
		d := deployment(g, name+"-"+tw, "services")
		g.Expect(d.Labels).To(HaveKeyWithValue(naming.LabelTownship, tw))
		g.Expect(d.Spec.Template.Spec.Containers[0].EnvFrom[0].SecretRef.Name).To(Equal("database"))
		g.Expect(d.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("ConfigMap.Name", "region-directory")))
		g.Expect(*d.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
		// The township's own directory is there to mount: its own part only.
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-" + tw, Name: "region-directory"}, cm)).To(Succeed())
		g.Expect(cm.Data["directory.json"]).To(ContainSubstring(`"name": "` + tw + `"`))
	}
	g.Expect(deployment(g, name, "portal").Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "services"}, &appsv1.Deployment{})).NotTo(Succeed(), "services runs in townships only")

	// The pod the platform runs is admitted where Pod Security "restricted" is enforced.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "services-probe"}, Spec: deployment(g, name+"-hutou", "services").Spec.Template.Spec}
	g.Expect(k8s.Create(ctx, pod, client.DryRunAll)).To(Succeed())
	bad := pod.DeepCopy()
	bad.Spec.SecurityContext = nil
	bad.Spec.Containers[0].SecurityContext = nil
	g.Expect(k8s.Create(ctx, bad, client.DryRunAll)).NotTo(Succeed(), "and the namespace does enforce it")

	rg := rolledOutReady(t, name)
	g.Expect(condition(rg, controllers.ConditionPlatformReady).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(rg.Status.Platform.Deployments).To(BeEquivalentTo(6))
	g.Expect(rg.Status.Platform.Available).To(BeEquivalentTo(6))
	g.Expect(rg.Status.Platform.Objects).To(BeEquivalentTo(18))
	g.Expect(platformObjects(g, name)).To(HaveLen(18))
	g.Expect(platformObjects(g, name)).To(ContainElement(name + "-hutou/Deployment/services"))

	// A hand edit is put back.
	d := deployment(g, name, "portal")
	d.Spec.Template.Spec.Containers[0].Image = "evil/portal:latest"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(deployment(g, name, "portal").Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.gov.cn/jiceng/portal:1.4.2"))
	}, timeout, interval).Should(Succeed())
	rolledOutReady(t, name)

	// What was deleted by hand is made again, the Region's whole render standing.
	g.Expect(k8s.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "services"}})).To(Succeed())
	g.Expect(k8s.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "emergency"}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-hutou", Name: "services"}, &corev1.Service{})).To(Succeed())
		g.Expect(deployment(g, name, "emergency").Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.gov.cn/jiceng/emergency:1.4.2"))
	}, timeout, interval).Should(Succeed())
	rolledOutReady(t, name)

	// A reconcile with nothing changed writes nothing, the platform included.
	keys := platformObjects(g, name)
	versions := func(g Gomega) map[string]string {
		out := map[string]string{}
		for _, k := range keys {
			for _, obj := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}, &corev1.ConfigMap{}} {
				ns, kind, n := splitKey(k)
				if kind != kindOf(obj) {
					continue
				}
				g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, obj)).To(Succeed())
				out[k] = obj.GetResourceVersion()
			}
		}
		return out
	}
	before := versions(g)
	r := &controllers.RegionReconciler{Client: mgrClient, APIReader: apiReader, Scheme: controllers.NewScheme(), Pools: operator.Pools, SecretNamespace: controllers.DefaultSecretNamespace}
	_, err := r.Reconcile(ctx, reconcileRequest(name))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(versions(g)).To(Equal(before))
}

// platformObjects lists the Region's platform objects in the cluster, as
// <namespace>/<kind>/<name>.
func platformObjects(g Gomega, region string) []string {
	var out []string
	sel := []client.ListOption{client.MatchingLabels{naming.LabelRegion: region}, client.HasLabels{render.LabelModule}}
	for kind, list := range map[string]client.ObjectList{"Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{}, "ConfigMap": &corev1.ConfigMapList{}} {
		g.Expect(k8s.List(context.Background(), list, sel...)).To(Succeed())
		items, err := meta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, it := range items {
			o := it.(client.Object)
			out = append(out, o.GetNamespace()+"/"+kind+"/"+o.GetName())
		}
	}
	return out
}

func splitKey(k string) (ns, kind, name string) {
	parts := strings.SplitN(k, "/", 3)
	return parts[0], parts[1], parts[2]
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.Service:
		return "Service"
	default:
		return "ConfigMap"
	}
}

func TestPlatformChangesArePruned(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("prune")
	createRegion(t, platformRegion(name))
	g.Eventually(func(g Gomega) {
		deployment(g, name+"-hutou", "services")
		deployment(g, name, "emergency")
	}, timeout, interval).Should(Succeed())
	data := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "ledger"}}
	g.Expect(k8s.Create(ctx, data)).To(Succeed())

	// Switching a module off prunes it; removing a township prunes its platform objects.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Modules = slices.DeleteFunc(rg.Spec.Platform.Modules, func(m string) bool { return m == "emergency" })
		rg.Spec.Townships = rg.Spec.Townships[:1]
	})
	gone(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "emergency"}})
	gone(g, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "emergency"}})
	gone(g, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "emergency-config"}})
	gone(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-hutou", Name: "services"}})
	// ... and nothing else: the retained township's namespace and data stay.
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(data), data)).To(Succeed())
	g.Expect(getNamespace(g, name+"-hutou").DeletionTimestamp).To(BeNil())
	deployment(g, name, "portal")
	deployment(g, name+"-fengcheng", "services")

	rg := rolledOutReady(t, name)
	g.Expect(rg.Status.Platform.Objects).To(BeEquivalentTo(len(platformObjects(g, name))))
	g.Expect(platformObjects(g, name)).NotTo(ContainElement(ContainSubstring("emergency")))
	g.Expect(platformObjects(g, name)).NotTo(ContainElement(ContainSubstring("-hutou/")))

	// Dropping spec.platform prunes all of it.
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.Platform = nil })
	gone(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "portal"}})
	gone(g, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: name + "-fengcheng", Name: "services"}})
	rg = waitReady(t, name)
	g.Expect(rg.Status.Platform).To(BeNil())
}

func TestBadPlatformPatchAppliesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("badpatch")
	rg := platformRegion(name)
	rg.Spec.Platform.Modules = []string{"portal"}
	createRegion(t, rg)
	g.Eventually(func(g Gomega) { deployment(g, name, "portal") }, timeout, interval).Should(Succeed())
	rolledOutReady(t, name)
	before := deployment(g, name, "portal").ResourceVersion

	// A new module, a new tag and a patch that does not apply, in one change.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Modules = append(rg.Spec.Platform.Modules, "deliberation")
		rg.Spec.Platform.Image.Tag = "2.0.0"
		rg.Spec.Platform.Patches = []platformv1.PlatformPatch{{
			Target: &platformv1.PatchTarget{Kind: "Deployment", Name: "portal"},
			Patch:  `[{"op": "replace", "path": "/spec/template/spec/nodeName/x", "value": "a"}]`,
		}}
	})
	var got *platformv1.Region
	g.Eventually(func(g Gomega) {
		got = getRegion(g, name)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		c := condition(got, controllers.ConditionPlatformReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("kustomize could not render"))
		g.Expect(c.Message).To(ContainSubstring("/spec/template/spec/nodeName/x"))
	}, timeout, interval).Should(Succeed())
	g.Expect(deployment(g, name, "portal").ResourceVersion).To(Equal(before), "nothing from the failed render is applied")
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "deliberation"}, &appsv1.Deployment{})).NotTo(Succeed())
	g.Expect(platformObjects(g, name)).To(ContainElement(name+"/Deployment/portal"), "nothing is pruned for a render that failed")

	// An unknown module is reported the same way.
	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Patches = nil
		rg.Spec.Platform.Modules = append(rg.Spec.Platform.Modules, "weather")
	})
	g.Eventually(func(g Gomega) {
		c := condition(getRegion(g, name), controllers.ConditionPlatformReady)
		g.Expect(c.Message).To(ContainSubstring(`spec.platform.modules: there is no module "weather"`))
	}, timeout, interval).Should(Succeed())
}

// The desired objects (what the benchmark's floor creates and a plan shows) must be
// exactly what the operator makes.
func TestDesiredObjectsAreWhatTheOperatorMakes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("blueprint")
	createRegion(t, platformRegion(name))
	g.Eventually(func(g Gomega) {
		c := condition(getRegion(g, name), controllers.ConditionPlatformReady)
		g.Expect(c.Reason).To(Equal(controllers.ReasonProgressing))
	}, timeout, interval).Should(Succeed())
	objs, err := desired.Objects(getRegion(g, name), desired.Options{Password: func(string) string { return "x" }})
	g.Expect(err).NotTo(HaveOccurred())
	var want []string
	for _, o := range objs {
		data, err := json.Marshal(o.Config)
		g.Expect(err).NotTo(HaveOccurred())
		var m struct {
			Kind     string                           `json:"kind"`
			Metadata struct{ Namespace, Name string } `json:"metadata"`
		}
		g.Expect(json.Unmarshal(data, &m)).To(Succeed())
		want = append(want, m.Kind+" "+m.Metadata.Namespace+"/"+m.Metadata.Name)
	}
	var got []string
	sel := client.MatchingLabels{naming.LabelRegion: name}
	lists := map[string]client.ObjectList{
		"Namespace": &corev1.NamespaceList{}, "ConfigMap": &corev1.ConfigMapList{}, "Secret": &corev1.SecretList{},
		"ResourceQuota": &corev1.ResourceQuotaList{}, "LimitRange": &corev1.LimitRangeList{}, "Service": &corev1.ServiceList{},
		"RoleBinding": &rbacv1.RoleBindingList{}, "NetworkPolicy": &networkingv1.NetworkPolicyList{}, "Deployment": &appsv1.DeploymentList{},
	}
	for kind, list := range lists {
		g.Expect(k8s.List(ctx, list, sel)).To(Succeed())
		items, err := meta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, it := range items {
			o := it.(client.Object)
			got = append(got, kind+" "+o.GetNamespace()+"/"+o.GetName())
		}
	}
	g.Expect(got).To(ConsistOf(want))
}

// An untargeted patch of the hub's portal applies in the hub and leaves the townships'
// renders alone; a patch that matches nowhere fails the platform, naming it.
func TestPatchAppliesWhereItMatches(t *testing.T) {
	g := NewWithT(t)
	name := uniqueName("smp")
	rg := platformRegion(name)
	rg.Spec.Platform.Modules = []string{"portal", "services"}
	rg.Spec.Platform.Patches = []platformv1.PlatformPatch{{Patch: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: portal
spec:
  template:
    metadata:
      annotations:
        jiceng.io/patched: "yes"`}}
	createRegion(t, rg)
	g.Eventually(func(g Gomega) {
		g.Expect(deployment(g, name, "portal").Spec.Template.Annotations).To(HaveKeyWithValue("jiceng.io/patched", "yes"))
		g.Expect(deployment(g, name+"-hutou", "services").Spec.Template.Annotations).NotTo(HaveKey("jiceng.io/patched"))
	}, timeout, interval).Should(Succeed())
	rolledOutReady(t, name)

	updateRegion(t, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Patches[0].Patch = strings.Replace(rg.Spec.Platform.Patches[0].Patch, "name: portal", "name: weather", 1)
	})
	g.Eventually(func(g Gomega) {
		c := condition(getRegion(g, name), controllers.ConditionPlatformReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Message).To(ContainSubstring("spec.platform.patches[0] matches no object"))
	}, timeout, interval).Should(Succeed())
}

// TestPodsStartAfterAccessAndDirectory: the platform goes out beside the access layer
// and the directory, but its Deployments, which start pods, are made only once every
// RoleBinding, NetworkPolicy, ResourceQuota, LimitRange and directory ConfigMap of the
// Region is: no pod of a new county runs in a namespace not yet isolated, bound and
// limited, or without the directory it mounts.
func TestPodsStartAfterAccessAndDirectory(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	name := uniqueName("podsafter")
	wc, err := client.NewWithWatch(cfg, client.Options{Scheme: controllers.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())

	// The order the API server made them in: the resourceVersion each object was
	// created with (etcd's revision, which only grows, on this control plane).
	type made struct {
		kind, key string
		rev       int64
	}
	events := make(chan made, 1024)
	lists := map[string]client.ObjectList{
		"RoleBinding": &rbacv1.RoleBindingList{}, "NetworkPolicy": &networkingv1.NetworkPolicyList{},
		"ResourceQuota": &corev1.ResourceQuotaList{}, "LimitRange": &corev1.LimitRangeList{},
		"ConfigMap": &corev1.ConfigMapList{}, "Service": &corev1.ServiceList{}, "Deployment": &appsv1.DeploymentList{},
	}
	for kind, list := range lists {
		w, err := wc.Watch(ctx, list, client.MatchingLabels{naming.LabelRegion: name})
		g.Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		go func() {
			for ev := range w.ResultChan() {
				obj, ok := ev.Object.(client.Object)
				if !ok || ev.Type != "ADDED" || kind == "ConfigMap" && obj.GetName() != naming.DirectoryConfigMap {
					continue
				}
				var rev int64
				_, _ = fmt.Sscan(obj.GetResourceVersion(), &rev)
				events <- made{kind, obj.GetNamespace() + "/" + obj.GetName(), rev}
			}
		}()
	}
	createRegion(t, platformRegion(name))

	// Every Deployment, and whatever the reconcile makes after them: events until a
	// second passes without one.
	first := map[string]made{}
	deployments := 0
	for quiet := time.After(timeout); ; {
		select {
		case m := <-events:
			if _, seen := first[m.kind+" "+m.key]; !seen {
				first[m.kind+" "+m.key] = m
				if m.kind == "Deployment" {
					deployments++
				}
			}
			if deployments == 6 {
				quiet = time.After(time.Second)
			}
			continue
		case <-quiet:
		case <-ctx.Done():
		}
		break
	}
	g.Expect(deployments).To(Equal(6), "Deployments made within %s", timeout)
	var lastBefore, firstPod made
	for _, m := range first {
		switch m.kind {
		case "Deployment":
			if firstPod.rev == 0 || m.rev < firstPod.rev {
				firstPod = m
			}
		case "Service":
		default:
			if m.rev > lastBefore.rev {
				lastBefore = m
			}
		}
	}
	count := map[string]int{}
	for _, m := range first {
		count[m.kind]++
	}
	g.Expect(count).To(And(HaveKey("RoleBinding"), HaveKey("NetworkPolicy"), HaveKey("ResourceQuota"), HaveKey("LimitRange"), HaveKey("ConfigMap")),
		"objects of every access and directory kind were made")
	g.Expect(firstPod.rev).To(BeNumerically(">", lastBefore.rev),
		"Deployment %s was made (revision %d) before %s %s (revision %d)", firstPod.key, firstPod.rev, lastBefore.kind, lastBefore.key, lastBefore.rev)
}

// countingReader counts the reads of Regions that reach the API server.
type countingReader struct {
	client.Reader
	regions *atomic.Int32
}

func (r countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*platformv1.Region); ok {
		r.regions.Add(1)
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

// The reconcile after a held status takes the Region as the holding one read it while
// it has not changed, and reads it again once it has: a spec change made during the
// hold is never missed. Only a few Regions are kept so.
func TestHeldRegionIsReadAgainOnceChanged(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("heldread")
	rg := sampleRegion(name)
	rg.Spec.Suspend = true // the operator writes its status once and leaves it be
	createRegion(t, rg)
	// The Region as it stands once the operator has written what it writes of this
	// generation, and the cache holds that very version.
	settled := func() *platformv1.Region {
		var rg *platformv1.Region
		g.Eventually(func(g Gomega) {
			rg = getRegion(g, name)
			g.Expect(condition(rg, controllers.ConditionSuspended).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
			m := &metav1.PartialObjectMetadata{}
			m.SetGroupVersionKind(platformv1.GroupVersion.WithKind("Region"))
			g.Expect(mgrClient.Get(ctx, client.ObjectKey{Name: name}, m)).To(Succeed())
			g.Expect(m.ResourceVersion).To(Equal(rg.ResourceVersion))
		}, timeout, interval).Should(Succeed())
		return rg
	}
	before := settled()

	var reads atomic.Int32
	r := aReconciler(countingReader{Reader: apiReader, regions: &reads})
	r.KeepHeld(before)
	got, err := r.ReadRegion(ctx, client.ObjectKey{Name: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(reads.Load()).To(BeZero(), "an unchanged Region was read again")
	g.Expect(got.ResourceVersion).To(Equal(before.ResourceVersion))
	// Taken once: the next reconcile reads.
	_, err = r.ReadRegion(ctx, client.ObjectKey{Name: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(reads.Load()).To(BeEquivalentTo(1))

	// Changed during the hold: read again, the change seen.
	updateRegion(t, name, func(rg *platformv1.Region) { rg.Spec.DisplayName = "变更后" })
	changed := settled()
	g.Expect(changed.Spec.DisplayName).To(Equal("变更后"))
	r.KeepHeld(before)
	got, err = r.ReadRegion(ctx, client.ObjectKey{Name: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Spec.DisplayName).To(Equal("变更后"), "a spec changed during the hold was not seen")
	g.Expect(reads.Load()).To(BeEquivalentTo(2))

	// Bounded: past the bound, nothing more is kept (and so nothing is taken).
	for i := range controllers.MaxHeldRegions {
		other := before.DeepCopy()
		other.Name = fmt.Sprintf("%s-%d", name, i)
		r.KeepHeld(other)
	}
	r.KeepHeld(changed)
	_, err = r.ReadRegion(ctx, client.ObjectKey{Name: name})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(reads.Load()).To(BeEquivalentTo(3), "more Regions kept than the bound")
}
