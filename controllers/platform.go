package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

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
var platformKinds = map[schema.GroupKind]schema.GroupVersionKind{
	{Group: "apps", Kind: "Deployment"}: appsv1.SchemeGroupVersion.WithKind("Deployment"),
	{Kind: "Service"}:                   corev1.SchemeGroupVersion.WithKind("Service"),
	{Kind: "ConfigMap"}:                 corev1.SchemeGroupVersion.WithKind("ConfigMap"),
}

// renderCache remembers, by Region, the generation last rendered: its error when the
// render failed, or, once every object of it was applied, the list of those objects.
// A reconcile of the same generation that finds each of them still as the operator
// wrote it needs neither kustomize nor the rendered objects, so none are held.
type renderCache struct {
	mu      sync.Mutex
	entries map[types.UID]renderEntry
}

type renderEntry struct {
	generation int64
	err        error
	applied    []plannedObject
}

// plannedObject is one object of a render that was applied. A province's Regions have
// tens of thousands: the strings many of them repeat are shared.
type plannedObject struct {
	gvk                       schema.GroupVersionKind
	namespace, name, township string
}

func planned(u *unstructured.Unstructured) plannedObject {
	gvk := u.GroupVersionKind()
	return plannedObject{
		gvk:       schema.GroupVersionKind{Group: intern(gvk.Group), Version: intern(gvk.Version), Kind: intern(gvk.Kind)},
		namespace: intern(u.GetNamespace()), name: u.GetName(), township: intern(u.GetLabels()[naming.LabelTownship]),
	}
}

// key is the object's inventory key.
func (p plannedObject) key() string {
	return render.KeyOf(p.namespace, p.gvk.Group, p.gvk.Kind, p.name)
}

func (c *renderCache) get(rg *platformv1.Region) (renderEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[rg.UID]
	return e, ok && e.generation == rg.Generation
}

func (c *renderCache) put(rg *platformv1.Region, e renderEntry) {
	e.generation = rg.Generation
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.UID]renderEntry{}
	}
	c.entries[rg.UID] = e
}

func (c *renderCache) forget(uid types.UID) {
	c.mu.Lock()
	delete(c.entries, uid)
	c.mu.Unlock()
}

// reconcilePlatform is the platform layer: it renders the modules with kustomize,
// applies what was rendered, prunes what a change removed and follows the Deployments'
// availability. Its Services and ConfigMaps go out at once; its Deployments, which
// start pods, once podsMayStart is closed.
func (r *RegionReconciler) reconcilePlatform(ctx context.Context, s *scope, podsMayStart <-chan struct{}) {
	rg := s.region
	if rg.Spec.Platform == nil {
		// Spec change: spec.platform was removed; everything it made goes.
		if err := r.prune(ctx, s, nil); err != nil {
			s.fail(ConditionPlatformReady, "", err)
			s.platform = rg.Status.Platform
		}
		return
	}
	// Each object is applied (or found as written) on its own; what it found is
	// gathered afterwards.
	type outcome struct {
		placed bool
		key    string
		// deployment names the object when it is a Deployment, to follow its roll-out.
		deployment *client.ObjectKey
	}
	var outcomes []outcome
	follow := func(o *outcome, current client.Object) {
		if _, ok := current.(*appsv1.Deployment); ok {
			key := client.ObjectKeyFromObject(current)
			o.deployment = &key
		}
	}
	// complete says whether every object of the platform was applied (or found as
	// applied): only then is anything pruned.
	complete := true
	entry, known := r.renders.get(rg)
	if known && entry.err != nil {
		// Nothing of a failed render is applied, and nothing is pruned for it.
		s.fail(ConditionPlatformReady, "", entry.err)
		s.platform = rg.Status.Platform
		return
	}
	if known {
		outcomes = make([]outcome, len(entry.applied))
		intact := true
		for i, p := range entry.applied {
			if !s.namespaceOK[p.township] {
				intact = false
				break
			}
			current, err := r.typedObject(p.gvk, p.namespace, p.name)
			if err == nil {
				_, err = r.claim(ctx, rg.Name, p.gvk.Kind, current)
			}
			if err != nil || !r.wroteVersion(p.gvk.Kind, current) {
				intact = false
				break
			}
			outcomes[i] = outcome{placed: true, key: p.key()}
			follow(&outcomes[i], current)
		}
		known = intact
	}
	if !known {
		rendering := time.Now()
		objs, err := render.Render(rg)
		s.mark("platform render", rendering, time.Since(rendering))
		if err != nil {
			r.renders.put(rg, renderEntry{err: err})
			s.fail(ConditionPlatformReady, "", err)
			s.platform = rg.Status.Platform
			return
		}
		outcomes = make([]outcome, len(objs))
		failed := false
		applyOne := func(i int) {
			obj := objs[i]
			township := obj.GetLabels()[naming.LabelTownship]
			// Every object of the render is the spec's, applied or not: it is kept
			// from pruning, so nothing the spec names is ever pruned.
			outcomes[i].key = render.Key(obj)
			if !s.namespaceOK[township] {
				s.mu.Lock()
				failed = true
				s.mu.Unlock()
				return
			}
			outcomes[i].placed = true
			current, err := r.typedObject(obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName())
			if err == nil {
				err = r.apply(ctx, rg.Name, obj.GetKind(), current, client.ApplyConfigurationFromUnstructured(obj))
			}
			if err != nil {
				s.fail(ConditionPlatformReady, township, err)
				s.mu.Lock()
				failed = true
				s.mu.Unlock()
				return
			}
			follow(&outcomes[i], current)
		}
		// What starts no pod goes out at once, the Services all together (serviceFanOut);
		// the Deployments once podsMayStart is closed, waiting outside the reconciles'
		// places for requests.
		var pods, services, others []int
		for i, obj := range objs {
			switch obj.GetKind() {
			case "Deployment":
				pods = append(pods, i)
			case "Service":
				services = append(services, i)
			default:
				others = append(others, i)
			}
		}
		// part applies some of the objects, up to limit at once, as one step of the
		// reconcile's timeline.
		part := func(what string, limit int, idx []int) {
			s.step(fmt.Sprintf("platform's %d %s", len(idx), what), func() {
				s.eachUpTo(limit, len(idx), func(k int) { applyOne(idx[k]) })
			})
		}
		var early sync.WaitGroup
		early.Go(func() { part("Services", serviceFanOut, services) })
		early.Go(func() { part("others before pods", fanOut, others) })
		<-podsMayStart
		part("Deployments", fanOut, pods)
		early.Wait()
		complete = !failed
		if !failed {
			e := renderEntry{applied: make([]plannedObject, 0, len(objs))}
			for i := range outcomes {
				e.applied = append(e.applied, planned(objs[i]))
			}
			r.renders.put(rg, e)
		}
	}
	status := &platformv1.PlatformStatus{Objects: int32(len(outcomes))}
	current := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		current = append(current, o.key)
		if o.placed && o.deployment != nil {
			s.deployments = append(s.deployments, *o.deployment)
		}
	}
	s.platform = status
	if !complete {
		// Prune only after a clean apply.
		return
	}
	if err := r.prune(ctx, s, current); err != nil {
		s.fail(ConditionPlatformReady, "", err)
	}
}

// followDeployments counts the platform's Deployments that are available, as the
// watch reports them once every layer is done: a roll-out that finished meanwhile is
// in the status written next, not in another reconcile's.
func (r *RegionReconciler) followDeployments(ctx context.Context, s *scope) {
	if s.platform == nil || len(s.deployments) == 0 {
		return
	}
	s.statusChangesSeen = r.store().StatusChanges(s.region.Name)
	var pending []string
	for _, key := range s.deployments {
		d := &appsv1.Deployment{}
		if err := r.reader().Get(ctx, key, d); client.IgnoreNotFound(err) != nil {
			s.fail(ConditionPlatformReady, "", fmt.Errorf("reading Deployment %s: %w", key, err))
			return
		}
		s.platform.Deployments++
		if ok, why := deploymentAvailable(d); ok {
			s.platform.Available++
		} else {
			pending = append(pending, key.String()+" "+why)
		}
	}
	if len(pending) > 0 {
		s.wait(ConditionPlatformReady, fmt.Sprintf("%d of %d Deployments available; waiting for %s",
			s.platform.Available, s.platform.Deployments, truncate(strings.Join(pending, ", "))))
	}
}

// deploymentAvailable says whether a Deployment has rolled out, in the kstatus sense:
// the controller saw the latest spec, every replica is updated and available, and no
// pod of an older revision is left (a surge pod up beside the old one is not done).
func deploymentAvailable(d *appsv1.Deployment) (bool, string) {
	if d.ResourceVersion == "" {
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
	case d.Status.Replicas > d.Status.UpdatedReplicas:
		return false, fmt.Sprintf("(%d old replicas terminating)", d.Status.Replicas-d.Status.UpdatedReplicas)
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

// prune deletes the Region's platform objects in the cluster (labelled with the
// Region and a module) that the render no longer holds: the spec stopped naming them (a
// module switched off, a township removed, spec.platform removed). Callers prune only
// after every object of the render was applied; an object that cannot be seen, or no
// longer carries the Region's labels, is not deleted.
func (r *RegionReconciler) prune(ctx context.Context, s *scope, current []string) error {
	region := s.region.Name
	found, err := r.platformObjects(ctx, region)
	if err != nil {
		// What is in the cluster could not be seen: prune nothing this time.
		return err
	}
	var errs []string
	keep := map[string]bool{}
	for _, key := range current {
		if ns, group, kind, name, ok := render.ParseKey(key); ok {
			keep[render.KeyOf(ns, group, kind, name)] = true
		}
	}
	for _, key := range found {
		ns, group, kind, name, ok := render.ParseKey(key)
		if !ok || keep[render.KeyOf(ns, group, kind, name)] {
			continue
		}
		gvk, ok := platformKinds[schema.GroupKind{Group: group, Kind: kind}]
		if !ok {
			continue
		}
		obj, err := r.typedObject(gvk, ns, name)
		deleted := false
		if err == nil {
			deleted, err = r.deleteOwnedReport(ctx, region, kind, obj)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
		if deleted {
			destroyed(kind)
			r.event(s.region, corev1.EventTypeNormal, "Pruned", "Prune", "pruned %s %s/%s (no longer in spec.platform)", kind, ns, name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("pruning: %s", strings.Join(errs, "; "))
	}
	return nil
}

// typedObject makes an empty typed object of a kind, named, so that reads go through
// the operator's store of the objects it made.
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

// platformObjects lists, from the store, the inventory keys of the Region's platform
// objects in the cluster.
func (r *RegionReconciler) platformObjects(ctx context.Context, region string) ([]string, error) {
	var keys []string
	sel := []client.ListOption{client.MatchingLabels{naming.LabelRegion: region}, client.HasLabels{render.LabelModule}}
	for kind, list := range map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{}, "ConfigMap": &corev1.ConfigMapList{},
	} {
		if err := r.reader().List(ctx, list, sel...); err != nil {
			return nil, fmt.Errorf("listing the platform's %ss: %w", kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			o := it.(client.Object)
			group := ""
			if kind == "Deployment" {
				group = "apps"
			}
			keys = append(keys, render.KeyOf(o.GetNamespace(), group, kind, o.GetName()))
		}
	}
	return keys, nil
}
