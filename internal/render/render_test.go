package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func region(p *platformv1.Platform) *platformv1.Region {
	return &platformv1.Region{
		ObjectMeta: metav1.ObjectMeta{Name: "anxi"},
		Spec: platformv1.RegionSpec{
			DisplayName: "安溪县", Code: "350524",
			Townships: []platformv1.Township{{Name: "fengcheng", DisplayName: "凤城镇", Code: "350524100"}},
			Platform:  p,
		},
	}
}

func defaults() *platformv1.Platform {
	return &platformv1.Platform{
		Modules: []string{"portal", "services", "deliberation", "emergency", "supervision"},
		Image:   platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"},
	}
}

// golden compares the rendered objects with testdata/<name>.yaml.
func golden(t *testing.T, name string, rg *platformv1.Region) {
	t.Helper()
	objs, err := Render(rg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	compare(t, name, b.String())
}

func compare(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden.yaml")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("render differs from %s; if the change is intended, run go test ./internal/render -update and review the diff\n%s", file, got)
	}
}

func TestRenderDefaultModules(t *testing.T) {
	golden(t, "default", region(defaults()))
}

func TestRenderTagOverride(t *testing.T) {
	p := defaults()
	p.Modules = []string{"portal", "services"}
	three := int32(3)
	p.Overrides = []platformv1.ModuleOverride{{
		Name: "portal", Image: &platformv1.Image{Tag: "1.5.0-rc1"}, Replicas: &three,
		Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}},
	}}
	golden(t, "tag-override", region(p))
}

func TestRenderStrategicMergePatch(t *testing.T) {
	p := defaults()
	p.Modules = []string{"emergency"}
	p.Patches = []platformv1.PlatformPatch{{Patch: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: emergency
spec:
  template:
    spec:
      containers:
      - name: emergency
        env:
        - name: ALERT_CHANNEL
          value: sms`}}
	golden(t, "strategic-merge-patch", region(p))
}

func TestRenderJSON6902Patch(t *testing.T) {
	p := defaults()
	p.Modules = []string{"services"}
	p.Patches = []platformv1.PlatformPatch{{
		Target: &platformv1.PatchTarget{Kind: "Service", Name: "services"},
		Patch:  `[{"op": "add", "path": "/metadata/annotations", "value": {"jiceng.io/exposed": "township-hall"}}]`,
	}}
	golden(t, "json6902-patch", region(p))
}

func TestRenderBadPatch(t *testing.T) {
	p := defaults()
	p.Patches = []platformv1.PlatformPatch{{
		Target: &platformv1.PatchTarget{Kind: "Deployment", Name: "portal"},
		Patch:  `[{"op": "replace", "path": "/spec/nothing/here", "value": 1}]`,
	}}
	_, err := Render(region(p))
	if err == nil {
		t.Fatal("a patch that does not apply rendered")
	}
	compare(t, "bad-patch.error", err.Error()+"\n")
}

func TestRenderUnknownModule(t *testing.T) {
	p := defaults()
	p.Modules = append(p.Modules, "weather")
	_, err := Render(region(p))
	if err == nil || !strings.Contains(err.Error(), `spec.platform.modules: there is no module "weather"`) {
		t.Fatalf("got %v", err)
	}
}

// Every pod the platform renders passes Pod Security "restricted".
func TestRenderedPodsAreRestricted(t *testing.T) {
	objs, err := Render(region(defaults()))
	if err != nil {
		t.Fatal(err)
	}
	deployments := 0
	for _, o := range objs {
		_ = o.DeepCopy() // the objects go through Kubernetes' machinery, which deep-copies
		if o.GetKind() != "Deployment" {
			continue
		}
		deployments++
		var d struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		data, _ := yaml.Marshal(o.Object)
		if err := yaml.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		pod := d.Spec.Template.Spec
		if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
			pod.SecurityContext.SeccompProfile == nil || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod security context %+v", o.GetName(), pod.SecurityContext)
		}
		for _, c := range pod.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
				t.Errorf("%s/%s: container security context %+v", o.GetName(), c.Name, sc)
			}
			if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
				t.Errorf("%s: no requests and limits", c.Name)
			}
		}
	}
	if deployments != 5 {
		t.Errorf("%d Deployments, want 5", deployments)
	}
}

// Rendering every township at once gives what rendering each on its own gives.
func TestRenderManyTownshipsEqualsRenderingEach(t *testing.T) {
	p := defaults()
	p.Patches = []platformv1.PlatformPatch{{Target: &platformv1.PatchTarget{Kind: "Deployment", Name: "services"},
		Patch: `[{"op": "add", "path": "/spec/template/metadata/annotations", "value": {"a": "b"}}]`}}
	rg := region(p)
	rg.Spec.Townships = append(rg.Spec.Townships,
		platformv1.Township{Name: "hutou", DisplayName: "湖头镇", Code: "350524102"},
		platformv1.Township{Name: "guanqiao", DisplayName: "官桥镇", Code: "350524103"})
	rendersEachTarget(t, rg)
}

// rendersEachTarget checks that Render gives what rendering each target of the Region
// on its own gives, and returns it.
func rendersEachTarget(t *testing.T, rg *platformv1.Region) []*unstructured.Unstructured {
	t.Helper()
	all, err := Render(rg)
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := Targets(rg)
	var each []string
	for _, tg := range targets {
		objs, err := RenderTarget(rg, tg)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			y, _ := yaml.Marshal(o.Object)
			each = append(each, string(y))
		}
	}
	if len(all) != len(each) {
		t.Fatalf("%d objects, want %d", len(all), len(each))
	}
	for i, o := range all {
		y, _ := yaml.Marshal(o.Object)
		if string(y) != each[i] {
			t.Errorf("object %d differs:\n%s\nwant\n%s", i, y, each[i])
		}
	}
	return all
}

// A Region rendered after another of the same spec.platform (whose renders it reuses)
// gets what rendering each of its own targets gives, patches included: a patch that
// selects a Region's label selects nothing in either, as kustomize patches before it
// labels.
func TestRenderOfAnotherRegionEqualsRenderingItsOwn(t *testing.T) {
	p := defaults()
	p.Patches = []platformv1.PlatformPatch{
		{Target: &platformv1.PatchTarget{Kind: "Deployment", Name: "portal"},
			Patch: `[{"op": "add", "path": "/spec/template/metadata/annotations", "value": {"a": "b"}}]`},
		{Target: &platformv1.PatchTarget{LabelSelector: "platform.jiceng.io/region=yongchun"},
			Patch: `[{"op": "add", "path": "/metadata/annotations", "value": {"only": "yongchun"}}]`},
	}
	if _, err := Render(region(p)); err != nil {
		t.Fatal(err)
	}
	other := region(p)
	other.Name, other.Spec.Code = "yongchun", "350525"
	other.Spec.Townships = []platformv1.Township{{Name: "taocheng", DisplayName: "桃城镇", Code: "350525100"}}
	for i, o := range rendersEachTarget(t, other) {
		if o.GetNamespace() != "yongchun" && !strings.HasPrefix(o.GetNamespace(), "yongchun-") {
			t.Errorf("object %d is in namespace %s, not one of yongchun's", i, o.GetNamespace())
		}
	}
}

// A patch applies wherever it matches: an untargeted strategic-merge patch of the hub's
// portal leaves the townships' renders alone; one that matches in no render is an error
// naming it.
func TestPatchAppliesWhereItMatches(t *testing.T) {
	p := defaults()
	p.Modules = []string{"portal", "services"}
	p.Patches = []platformv1.PlatformPatch{{Patch: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: portal
spec:
  template:
    metadata:
      annotations:
        jiceng.io/patched: "yes"`}}
	objs, err := Render(region(p))
	if err != nil {
		t.Fatal(err)
	}
	patched := 0
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		ann, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations")
		if ann["jiceng.io/patched"] == "yes" {
			if o.GetName() != "portal" {
				t.Errorf("%s/%s patched", o.GetNamespace(), o.GetName())
			}
			patched++
		}
	}
	if patched != 1 {
		t.Errorf("the hub's portal patched %d times", patched)
	}
	p.Patches[0].Patch = strings.Replace(p.Patches[0].Patch, "name: portal", "name: weather", 1)
	_, err = Render(region(p))
	if err == nil || !strings.Contains(err.Error(), "spec.platform.patches[0] matches no object") {
		t.Errorf("a patch matching nothing: %v", err)
	}
}
