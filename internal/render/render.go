// Package render turns a Region's spec.platform into Kubernetes objects with kustomize:
// krusty on an in-memory filesystem, plugins off, the base embedded in the binary (and
// readable in the repository under internal/render/base). Rendering is a pure function
// of the Region.
package render

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

//go:embed all:base
var baseFS embed.FS

// The modules, and where each runs.
var (
	HubModules      = []string{"portal", "deliberation", "emergency", "supervision"}
	TownshipModules = []string{"services"}
)

// LabelModule names the module an object belongs to.
const LabelModule = "platform.jiceng.io/module"

// Error is a render failure, in words a user can act on.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

// Target is one namespace the platform is rendered into.
type Target struct {
	Namespace string
	Township  string // "" for the county hub
	Modules   []string
}

// Targets lists where each requested module goes: the hub's modules into the hub, the
// township modules into each township.
func Targets(rg *platformv1.Region) ([]Target, error) {
	p := rg.Spec.Platform
	if p == nil {
		return nil, nil
	}
	known := append(slices.Clone(HubModules), TownshipModules...)
	for _, m := range p.Modules {
		if !slices.Contains(known, m) {
			return nil, errorf("spec.platform.modules: there is no module %q; the modules are %s", m, strings.Join(known, ", "))
		}
	}
	for _, o := range p.Overrides {
		if !slices.Contains(p.Modules, o.Name) {
			return nil, errorf("spec.platform.overrides[%s]: %q is not among spec.platform.modules", o.Name, o.Name)
		}
	}
	pick := func(of []string) []string {
		var out []string
		for _, m := range of {
			if slices.Contains(p.Modules, m) {
				out = append(out, m)
			}
		}
		return out
	}
	var out []Target
	if hub := pick(HubModules); len(hub) > 0 {
		out = append(out, Target{Namespace: naming.HubNamespace(rg.Name), Modules: hub})
	}
	if tw := pick(TownshipModules); len(tw) > 0 {
		for _, t := range rg.Spec.Townships {
			out = append(out, Target{Namespace: naming.TownshipNamespace(rg.Name, t.Name), Township: t.Name, Modules: tw})
		}
	}
	return out, nil
}

// Render renders the platform of a Region, every target. Nothing is returned when any
// target fails: a bad patch applies nowhere.
//
// Kustomize patches the base before it sets the namespace and the labels, so patches
// can select neither, and what a spec.platform renders to differs from one namespace
// to another only in those: the hub's render and a township's serve for every other
// hub and township of the same spec.platform, in this Region and in others.
func Render(rg *platformv1.Region) ([]*unstructured.Unstructured, error) {
	targets, err := Targets(rg)
	if err != nil {
		return nil, err
	}
	// A patch applies wherever it matches; one that matches in no render of the Region
	// is a mistake to name.
	for i, up := range rg.Spec.Platform.Patches {
		matched := false
		for _, t := range targets {
			matched = matched || patchMatches(up, t.Modules)
		}
		if !matched {
			return nil, errorf("spec.platform.patches[%d] matches no object of this Region's platform: its target (or, without one, the kind and name in the patch) names none of the modules' Deployments, Services and ConfigMaps", i)
		}
	}
	spec, err := json.Marshal(rg.Spec.Platform)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, t := range targets {
		key := renderKey{township: t.Township != "", platform: string(spec)}
		if objs, ok := rendered.get(key); ok {
			out = append(out, retarget(objs, t.Namespace, naming.Labels(rg.Name, t.Township))...)
			continue
		}
		objs, err := RenderTarget(rg, t)
		if err != nil {
			return nil, err
		}
		rendered.put(key, objs)
		out = append(out, objs...)
	}
	return out, nil
}

// renderKey is what a render depends on besides the namespace and the labels: the
// spec.platform, and whether the target is a township or the hub.
type renderKey struct {
	township bool
	platform string
}

// renders keeps recent renders by renderKey, as rendered for some namespace.
type renders struct {
	mu   sync.Mutex
	objs map[renderKey][]*unstructured.Unstructured
}

// rendered holds the renders of the few spec.platforms a province uses; a province of
// many kinds of them renders them again now and then.
var rendered = &renders{objs: map[renderKey][]*unstructured.Unstructured{}}

const keptRenders = 32

func (r *renders) get(k renderKey) ([]*unstructured.Unstructured, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	objs, ok := r.objs[k]
	return objs, ok
}

func (r *renders) put(k renderKey, objs []*unstructured.Unstructured) {
	kept := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		kept[i] = o.DeepCopy()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.objs) >= keptRenders {
		clear(r.objs)
	}
	r.objs[k] = kept
}

// retarget copies objects rendered for one namespace into another, with that target's
// labels.
func retarget(objs []*unstructured.Unstructured, namespace string, labels map[string]string) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		c := o.DeepCopy()
		c.SetNamespace(namespace)
		l := c.GetLabels()
		maps.Copy(l, labels)
		c.SetLabels(l)
		out[i] = c
	}
	return out
}

// RenderTarget renders the modules of one namespace.
func RenderTarget(rg *platformv1.Region, t Target) (objs []*unstructured.Unstructured, err error) {
	defer func() {
		if r := recover(); r != nil {
			objs, err = nil, errorf("rendering the platform for %s failed: %v", t.Namespace, r)
		}
	}()
	fsys := filesys.MakeFsInMemory()
	if err := copyBase(fsys); err != nil {
		return nil, err
	}
	k, err := kustomization(rg, t)
	if err != nil {
		return nil, err
	}
	if err := fsys.WriteFile("/kustomization.yaml", k); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = kustypes.DisabledPluginConfig()
	resmap, err := krusty.MakeKustomizer(opts).Run(fsys, "/")
	if err != nil {
		return nil, errorf("spec.platform: kustomize could not render %s: %s", t.Namespace, err.Error())
	}
	for _, res := range resmap.Resources() {
		// Through JSON, so numbers come out as the int64 and float64 that the rest of
		// Kubernetes' machinery (deep copies, conversions) expects.
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelModule] = moduleOf(u)
		u.SetLabels(labels)
		objs = append(objs, u)
	}
	if err := admit(objs, t); err != nil {
		return nil, err
	}
	sort.SliceStable(objs, func(i, j int) bool { return Key(objs[i]) < Key(objs[j]) })
	return objs, nil
}

// declared is an object the platform's base declares.
type declared struct{ apiVersion, kind, name string }

// declaredByModule lists, by module, the objects its base files declare: a render
// passes these and nothing else, so no patch can turn an object into a Namespace, a
// RoleBinding or a Secret, rename it onto another object, or move it elsewhere.
var declaredByModule = func() map[string][]declared {
	out := map[string][]declared{}
	for _, m := range append(slices.Clone(HubModules), TownshipModules...) {
		entries, err := fs.ReadDir(baseFS, "base/modules/"+m)
		if err != nil {
			panic(err)
		}
		for _, e := range entries {
			if e.Name() == "kustomization.yaml" {
				continue
			}
			data, err := fs.ReadFile(baseFS, "base/modules/"+m+"/"+e.Name())
			if err != nil {
				panic(err)
			}
			var obj struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(data, &obj); err != nil {
				panic(err)
			}
			out[m] = append(out[m], declared{obj.APIVersion, obj.Kind, obj.Metadata.Name})
		}
	}
	return out
}()

// admit refuses a render holding anything the base of the target's modules does not
// declare, or anything outside the target's namespace.
func admit(objs []*unstructured.Unstructured, t Target) error {
	allowed := map[declared]bool{}
	for _, m := range t.Modules {
		for _, d := range declaredByModule[m] {
			allowed[d] = true
		}
	}
	for _, o := range objs {
		d := declared{o.GetAPIVersion(), o.GetKind(), o.GetName()}
		if !allowed[d] {
			return errorf("spec.platform: the render for %s holds %s %s (%s), which the platform's base does not declare: only its modules' Deployments, Services and ConfigMaps, under their own names, may be rendered",
				t.Namespace, d.kind, d.name, d.apiVersion)
		}
		if o.GetNamespace() != t.Namespace {
			return errorf("spec.platform: the render for %s puts %s %s into namespace %q; a render stays in its own namespace",
				t.Namespace, d.kind, d.name, o.GetNamespace())
		}
	}
	return nil
}

// moduleOf is the module an object of the base belongs to, by its name.
func moduleOf(u *unstructured.Unstructured) string {
	return strings.TrimSuffix(u.GetName(), "-config")
}

// Key identifies an applied object in the inventory:
// <namespace>/<group>/<kind>/<name>, the group empty for the core API.
func Key(u *unstructured.Unstructured) string {
	return KeyOf(u.GetNamespace(), u.GroupVersionKind().Group, u.GetKind(), u.GetName())
}

// KeyOf is the inventory key of an object of the given namespace, group, kind and name.
func KeyOf(namespace, group, kind, name string) string {
	return namespace + "/" + group + "/" + kind + "/" + name
}

// ParseKey splits an inventory key into its parts. Keys written before the group was
// part of them (<namespace>/<kind>/<name>) are read with the group of the platform's
// kind of that name.
func ParseKey(key string) (namespace, group, kind, name string, ok bool) {
	parts := strings.Split(key, "/")
	switch len(parts) {
	case 4:
		return parts[0], parts[1], parts[2], parts[3], parts[0] != "" && parts[2] != "" && parts[3] != ""
	case 3:
		group, known := legacyGroups[parts[1]]
		return parts[0], group, parts[1], parts[2], known && parts[0] != "" && parts[2] != ""
	}
	return "", "", "", "", false
}

// legacyGroups are the groups of the kinds the platform renders, for keys without one.
var legacyGroups = map[string]string{"Deployment": "apps", "Service": "", "ConfigMap": ""}

func copyBase(fsys filesys.FileSystem) error {
	return fs.WalkDir(baseFS, "base", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := baseFS.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(path.Join("/", p), data)
	})
}

// kustomization writes the kustomization of one target.
func kustomization(rg *platformv1.Region, t Target) ([]byte, error) {
	p := rg.Spec.Platform
	labels := naming.Labels(rg.Name, t.Township)
	k := kustypes.Kustomization{
		TypeMeta:   kustypes.TypeMeta{APIVersion: kustypes.KustomizationVersion, Kind: kustypes.KustomizationKind},
		Namespace:  t.Namespace,
		Components: []string{"base/components/pod-defaults"},
		Labels:     []kustypes.Label{{Pairs: labels}},
	}
	for _, m := range t.Modules {
		k.Resources = append(k.Resources, "base/modules/"+m)
		o := override(p, m)
		img := p.Image
		if o != nil && o.Image != nil {
			if o.Image.Registry != "" {
				img.Registry = o.Image.Registry
			}
			if o.Image.Tag != "" {
				img.Tag = o.Image.Tag
			}
		}
		image := kustypes.Image{Name: "jiceng/" + m, NewTag: img.Tag}
		if img.Registry != "" {
			image.NewName = strings.TrimSuffix(img.Registry, "/") + "/" + m
		}
		k.Images = append(k.Images, image)
		replicas := int32(1)
		if p.Replicas != nil {
			replicas = *p.Replicas
		}
		if o != nil && o.Replicas != nil {
			replicas = *o.Replicas
		}
		k.Replicas = append(k.Replicas, kustypes.Replica{Name: m, Count: int64(replicas)})
		resources := p.Resources
		if o != nil && o.Resources != nil {
			resources = o.Resources
		}
		if resources != nil {
			patch, err := resourcesPatch(resources)
			if err != nil {
				return nil, err
			}
			k.Patches = append(k.Patches, kustypes.Patch{Patch: patch, Target: &kustypes.Selector{ResId: resIDOf("Deployment", m)}})
		}
	}
	for _, up := range p.Patches {
		if !patchMatches(up, t.Modules) {
			// It matches in another namespace's render (the hub's modules, say), or in
			// none: Render says so for the latter.
			continue
		}
		patch := kustypes.Patch{Patch: up.Patch}
		if up.Target != nil {
			patch.Target = &kustypes.Selector{
				ResId:              resID(up.Target),
				LabelSelector:      up.Target.LabelSelector,
				AnnotationSelector: up.Target.AnnotationSelector,
			}
		}
		k.Patches = append(k.Patches, patch)
	}
	return yaml.Marshal(k)
}

func override(p *platformv1.Platform, module string) *platformv1.ModuleOverride {
	for i := range p.Overrides {
		if p.Overrides[i].Name == module {
			return &p.Overrides[i]
		}
	}
	return nil
}

func resourcesPatch(r *corev1.ResourceRequirements) (string, error) {
	value, err := yaml.Marshal(r)
	if err != nil {
		return "", err
	}
	ops := []map[string]any{{"op": "replace", "path": "/spec/template/spec/containers/0/resources", "value": yamlToAny(value)}}
	out, err := yaml.Marshal(ops)
	return string(out), err
}

func yamlToAny(data []byte) any {
	var v any
	_ = yaml.Unmarshal(data, &v)
	return v
}

// patchMatches says whether a patch may apply to an object the modules declare: by its
// target's kind and name where it has them (a label or annotation selector is left to
// kustomize), else, for a strategic-merge patch, by the kind and name it carries.
func patchMatches(p platformv1.PlatformPatch, modules []string) bool {
	kind, name := "", ""
	if p.Target != nil {
		if p.Target.LabelSelector != "" || p.Target.AnnotationSelector != "" {
			return true
		}
		kind, name = p.Target.Kind, p.Target.Name
	} else {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(p.Patch), &head); err != nil || head.Kind == "" {
			// Not a strategic-merge patch kustomize can place: let kustomize say why.
			return true
		}
		kind, name = head.Kind, head.Metadata.Name
	}
	for _, m := range modules {
		for _, d := range declaredByModule[m] {
			if (kind == "" || kind == d.kind) && (name == "" || name == d.name) {
				return true
			}
		}
	}
	return false
}
