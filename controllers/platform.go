package controllers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/render"
)

// platformKinds are the kinds the platform's base renders, for pruning by inventory key.
var platformKinds = map[string]schema.GroupVersionKind{
	"Deployment": appsv1.SchemeGroupVersion.WithKind("Deployment"),
	"Service":    corev1.SchemeGroupVersion.WithKind("Service"),
	"ConfigMap":  corev1.SchemeGroupVersion.WithKind("ConfigMap"),
}

// renderCache keeps the last render of each Region's generation: a reconcile with an
// unchanged spec does not run kustomize again.
type renderCache struct {
	mu      sync.Mutex
	entries map[types.UID]renderEntry
}

type renderEntry struct {
	generation int64
	objs       []*unstructured.Unstructured
	err        error
}

func (c *renderCache) render(rg *platformv1.Region) ([]*unstructured.Unstructured, error) {
	c.mu.Lock()
	e, ok := c.entries[rg.UID]
	c.mu.Unlock()
	if !ok || e.generation != rg.Generation {
		objs, err := render.Render(rg)
		e = renderEntry{generation: rg.Generation, objs: objs, err: err}
		c.mu.Lock()
		if c.entries == nil {
			c.entries = map[types.UID]renderEntry{}
		}
		c.entries[rg.UID] = e
		c.mu.Unlock()
	}
	out := make([]*unstructured.Unstructured, len(e.objs))
	for i, o := range e.objs {
		out[i] = o.DeepCopy()
	}
	return out, e.err
}

func (c *renderCache) forget(uid types.UID) {
	c.mu.Lock()
	delete(c.entries, uid)
	c.mu.Unlock()
}

// reconcilePlatform is the platform layer: it renders the modules with kustomize,
// applies what was rendered, prunes what a change removed and follows the Deployments'
// availability.
func (r *RegionReconciler) reconcilePlatform(ctx context.Context, s *scope) {
	rg := s.region
	var old []string
	if rg.Status.Platform != nil {
		old = rg.Status.Platform.Inventory
	}
	if rg.Spec.Platform == nil {
		if err := r.prune(ctx, rg.Name, old, nil); err != nil {
			s.fail(ConditionPlatformReady, "", err)
			s.platform = &platformv1.PlatformStatus{Inventory: old}
		}
		return
	}
	objs, err := r.renders.render(rg)
	if err != nil {
		// Nothing of a failed render is applied, and nothing is pruned for it.
		s.fail(ConditionPlatformReady, "", err)
		s.platform = rg.Status.Platform
		return
	}
	// Each object is applied on its own; what it found is gathered afterwards.
	type outcome struct {
		placed     bool
		deployment bool
		pending    string
	}
	outcomes := make([]outcome, len(objs))
	each(len(objs), func(i int) {
		obj := objs[i]
		township := obj.GetLabels()[naming.LabelTownship]
		if !s.namespaceOK[township] {
			return
		}
		outcomes[i].placed = true
		current, err := r.typedObject(obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
		if err == nil {
			err = r.apply(ctx, rg.Name, obj.GetKind(), current, client.ApplyConfigurationFromUnstructured(obj))
		}
		if err != nil {
			s.fail(ConditionPlatformReady, township, err)
			return
		}
		if d, ok := current.(*appsv1.Deployment); ok {
			outcomes[i].deployment = true
			if ok, why := deploymentAvailable(d); !ok {
				outcomes[i].pending = fmt.Sprintf("%s/%s %s", obj.GetNamespace(), obj.GetName(), why)
			}
		}
	})
	status := &platformv1.PlatformStatus{}
	var pending []string
	for i, o := range outcomes {
		if !o.placed {
			continue
		}
		status.Inventory = append(status.Inventory, render.Key(objs[i]))
		if !o.deployment {
			continue
		}
		status.Deployments++
		if o.pending == "" {
			status.Available++
		} else {
			pending = append(pending, o.pending)
		}
	}
	sort.Strings(status.Inventory)
	s.platform = status
	if err := r.prune(ctx, rg.Name, old, status.Inventory); err != nil {
		s.fail(ConditionPlatformReady, "", err)
		// Keep what could not be pruned in the inventory, to prune it next time.
		status.Inventory = mergeSorted(status.Inventory, old)
	}
	if len(pending) > 0 {
		s.wait(ConditionPlatformReady, fmt.Sprintf("%d of %d Deployments available; waiting for %s",
			status.Available, status.Deployments, truncate(strings.Join(pending, ", "))))
	}
}

// deploymentAvailable says whether a Deployment has rolled out, in the kstatus sense:
// the controller saw the latest spec, every replica is updated and available.
func deploymentAvailable(d *appsv1.Deployment) (bool, string) {
	if d.UID == "" {
		return false, "(just created)"
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	switch {
	case d.Status.ObservedGeneration < d.Generation:
		return false, "(rollout not yet observed)"
	case d.Status.UpdatedReplicas < want:
		return false, fmt.Sprintf("(%d/%d updated)", d.Status.UpdatedReplicas, want)
	case d.Status.AvailableReplicas < want:
		return false, fmt.Sprintf("(%d/%d available)", d.Status.AvailableReplicas, want)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status != corev1.ConditionTrue {
			return false, "(not Available)"
		}
	}
	return true, ""
}

// prune deletes what was in the old inventory, or is in the cluster as one of the
// Region's platform objects, and is not in the new inventory. The cluster is asked too
// because the old inventory comes from a status the cache may not show yet.
func (r *RegionReconciler) prune(ctx context.Context, region string, old, current []string) error {
	var errs []string
	found, err := r.platformObjects(ctx, region)
	if err != nil {
		errs = append(errs, err.Error())
	}
	for _, key := range mergeSorted(old, found) {
		if slices.Contains(current, key) {
			continue
		}
		parts := strings.SplitN(key, "/", 3)
		gvk, ok := platformKinds[parts[1]]
		if len(parts) != 3 || !ok {
			continue
		}
		obj, err := r.typedObject(gvk, parts[0], parts[2])
		if err == nil {
			err = r.deleteOwned(ctx, region, parts[1], obj)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("pruning: %s", strings.Join(errs, "; "))
	}
	return nil
}

func mergeSorted(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	sort.Strings(out)
	return slices.Compact(out)
}

// typedObject makes an empty typed object of a kind, named, so that reads go through
// the operator's typed, label-filtered cache.
func (r *RegionReconciler) typedObject(gvk schema.GroupVersionKind, namespace, name string) (client.Object, error) {
	o, err := r.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("the platform rendered a %s, which the operator does not manage: %w", gvk.Kind, err)
	}
	obj, ok := o.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", gvk.Kind)
	}
	obj.SetNamespace(namespace)
	obj.SetName(name)
	return obj, nil
}

// platformObjects lists, from the cache, the inventory keys of the Region's platform
// objects in the cluster.
func (r *RegionReconciler) platformObjects(ctx context.Context, region string) ([]string, error) {
	var keys []string
	sel := []client.ListOption{client.MatchingLabels{naming.LabelRegion: region}, client.HasLabels{render.LabelModule}}
	for kind, list := range map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{}, "ConfigMap": &corev1.ConfigMapList{},
	} {
		if err := r.List(ctx, list, sel...); err != nil {
			return nil, fmt.Errorf("listing the platform's %ss: %w", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o := it.(client.Object)
			keys = append(keys, o.GetNamespace()+"/"+kind+"/"+o.GetName())
		}
	}
	return keys, nil
}
