package controllers

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// reconcileNamespaces makes the hub and one namespace per township, and applies the
// deletion policy to township namespaces whose township the spec no longer names.
func (r *RegionReconciler) reconcileNamespaces(ctx context.Context, s *scope) {
	region := s.region
	if err := r.applyNamespace(ctx, s, region.Spec.Code, desired.HubNamespace(region)); err != nil {
		s.fail(ConditionNamespacesReady, "", err)
	} else {
		s.placed("")
	}
	inSpec := map[string]bool{}
	// successor names, by former township, the township of the spec that took its
	// place (spec.townships[].formerly).
	successor := map[string]string{}
	for _, t := range region.Spec.Townships {
		inSpec[t.Name] = true
		s.nsTownship[naming.TownshipNamespace(region.Name, t.Name)] = t.Name
		for _, f := range t.Formerly {
			if f.Name != t.Name {
				successor[f.Name] = t.Name
			}
		}
	}
	s.each(len(region.Spec.Townships), func(i int) {
		t := region.Spec.Townships[i]
		// A township that kept its name and took a new code (撤乡设镇) has its
		// namespace under the old code: formerly says it is the same township.
		var formerCodes []string
		for _, f := range t.Formerly {
			if f.Name == t.Name {
				formerCodes = append(formerCodes, f.Code)
			}
		}
		if err := r.applyNamespace(ctx, s, t.Code, desired.TownshipNamespace(region.Name, t.Name, t.Code, region.UID), formerCodes...); err != nil {
			s.fail(ConditionNamespacesReady, t.Name, err)
			return
		}
		s.placed(t.Name)
	})

	if len(s.created) > 0 {
		r.event(region, corev1.EventTypeNormal, "Created", "Create", "created namespace %s", strings.Join(s.created, ", "))
	}
	found, err := r.regionNamespaces(ctx, region, naming.LevelTownship)
	if err != nil {
		// Nothing observed, nothing removed.
		s.fail(ConditionNamespacesReady, "", err)
		return
	}
	had := map[string]bool{}
	codeOf := map[string][]*corev1.Namespace{}
	s.mu.Lock()
	for i := range found {
		ns := &found[i]
		// The township of every namespace found, in the spec or not: the database
		// layer names what waits for confirmation by it.
		s.nsTownship[ns.Name] = ns.Labels[naming.LabelTownship]
		had[ns.Labels[naming.LabelTownship]] = true
		codeOf[ns.Labels[naming.LabelCode]] = append(codeOf[ns.Labels[naming.LabelCode]], ns)
	}
	s.mu.Unlock()
	for _, t := range region.Spec.Townships {
		named := map[string]bool{}
		for _, f := range t.Formerly {
			named[f.Name] = true
			if f.Name != t.Name && !had[f.Name] {
				s.warn(t.Name, fmt.Sprintf("formerly names %s (code %s), which this Region never had: nothing was carried over from it", f.Name, f.Code))
			}
		}
		// The API server refuses a code under a new name only against the spec just
		// before; a township removed earlier and retained is found here.
		for _, ns := range codeOf[t.Code] {
			other := ns.Labels[naming.LabelTownship]
			if other != t.Name && !named[other] && !inSpec[other] && ns.Labels[naming.LabelSuccessor] != t.Name {
				s.warn(t.Name, fmt.Sprintf("its code %s was township %s's, whose namespace is retained: to carry %s's data over, name it in spec.townships[%s].formerly", t.Code, other, other, t.Name))
			}
		}
	}
	var gone []*corev1.Namespace
	for i := range found {
		// One already terminating is on its way out; it is not counted again.
		if !inSpec[found[i].Labels[naming.LabelTownship]] && found[i].DeletionTimestamp == nil {
			gone = append(gone, &found[i])
		}
	}
	// A layer that could not apply all of its objects removes nothing this time: what
	// it found may be incomplete, and a failure is never a reason to remove.
	clean := len(s.layerErrs[ConditionNamespacesReady]) == 0
	if region.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete {
		var names []string
		for _, ns := range gone {
			// A former township's namespace is retained, whatever the policy.
			if t := ns.Labels[naming.LabelTownship]; successor[t] == "" {
				names = append(names, t)
			}
		}
		if desired.NeedsConfirmation(region.Annotations[naming.AnnotationConfirmDestruction], names) {
			s.hold(names...)
			return
		}
	}
	for _, ns := range gone {
		township := ns.Labels[naming.LabelTownship]
		if !clean {
			if ns.Labels[naming.LabelRetained] == "true" {
				s.keepRetained(ns.Name, township)
			}
			continue
		}
		if err := r.removeTownship(ctx, s, ns, successor[township]); err != nil {
			s.fail(ConditionNamespacesReady, "", err)
		}
	}
}

// applyNamespace applies a namespace after checking that it is the Region's and that an
// existing one carries the same administrative code: a namespace retained from another
// county that had the same name is never taken over.
func (r *RegionReconciler) applyNamespace(ctx context.Context, s *scope, code string, ac *corev1ac.NamespaceApplyConfiguration, formerCodes ...string) error {
	// Derived names can meet (Region c's township d and Region c-d's hub are both c-d):
	// looking and making happen under one lock per name, so two Regions reconciled side
	// by side cannot both find a namespace absent and both take it for theirs. The second
	// finds the first's, on the API server, and reports the conflict.
	unlock := lockName(*ac.Name)
	defer unlock()
	current := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: *ac.Name}}
	// A namespace the operator does not know to exist is made, and only made: the API
	// server refuses the making when one exists, whoever made it and however recently,
	// and that one is then read and looked at as below. So a new namespace costs no
	// lookup first, and one someone makes between a lookup and the apply is never
	// taken over.
	makeNew := func() (bool, error) {
		created, err := r.create(ctx, "Namespace", current, ac)
		if created {
			r.madeNamespace(s, current.Name)
		}
		return created, err
	}
	// The store holds what carries the operator's label; what it has is judged as it
	// is, what it lacks is made, or read from the API server when the making is refused.
	exists := true
	switch err := r.reader().Get(ctx, client.ObjectKeyFromObject(current), current); {
	case apierrors.IsNotFound(err):
		if created, err := makeNew(); created || err != nil {
			return err
		}
		if exists, err = r.claim(ctx, s.region.Name, "Namespace", current); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("reading Namespace %s: %w", current.Name, err)
	default:
		if err := judge(s.region.Name, "Namespace", current); err != nil {
			return err
		}
	}
	if !exists {
		// Gone since the making was refused (it was being deleted, say): made again,
		// and only made, never applied over one that someone made in between.
		created, err := makeNew()
		if err == nil && !created {
			err = fmt.Errorf("namespace %s was made by someone else while the operator was making it; it is looked at again", current.Name)
		}
		return err
	}
	if have := current.Labels[naming.LabelCode]; have != "" && have != code && !slices.Contains(formerCodes, have) {
		return &conflictError{kind: "Namespace", name: current.Name,
			detail: fmt.Sprintf("was made for code %s, not %s", have, code)}
	}
	if uid := current.Annotations[naming.AnnotationRegionUID]; uid != "" && uid != string(s.region.UID) && uid != s.region.Annotations[naming.AnnotationAdopt] {
		return &conflictError{kind: "Namespace", name: current.Name,
			detail: fmt.Sprintf("was made by an earlier Region %s (UID %s) and is retained for it; to take it and its data over, annotate the Region %s=%s", s.region.Name, uid, naming.AnnotationAdopt, uid)}
	}
	if current.DeletionTimestamp != nil {
		return fmt.Errorf("namespace %s is being deleted; it is made again once it is gone", current.Name)
	}
	return r.write(ctx, "Namespace", current, ac)
}

// madeNamespace records a namespace the reconcile made: for its event, and as fresh.
func (r *RegionReconciler) madeNamespace(s *scope, name string) {
	s.mu.Lock()
	s.created = append(s.created, name)
	s.mu.Unlock()
	r.fresh.Store(name, time.Now())
}

// regionNamespaces lists the Region's namespaces of a level ("" for all), as the store
// has them. A namespace made by an earlier Region of the same name (another UID) is not
// this Region's and is left out: it is never retained, bound or deleted by this one.
func (r *RegionReconciler) regionNamespaces(ctx context.Context, region *platformv1.Region, level string) ([]corev1.Namespace, error) {
	sel := client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue, naming.LabelRegion: region.Name}
	if level != "" {
		sel[naming.LabelLevel] = level
	}
	var list corev1.NamespaceList
	if err := r.reader().List(ctx, &list, sel); err != nil {
		return nil, fmt.Errorf("listing the Region's namespaces: %w", err)
	}
	out := list.Items[:0]
	for _, ns := range list.Items {
		if desired.OwnsNamespace(region, &ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// removeTownship carries out the deletion policy for a township that left the spec.
// Retain keeps the namespace and everything in it, marks it retained and takes the
// township admins' access away; Delete deletes the namespace. A township that another
// names as formerly its own (successor) is retained whatever the policy: namespaces
// cannot be renamed, and its Secret and objects are what the successor came from.
func (r *RegionReconciler) removeTownship(ctx context.Context, s *scope, ns *corev1.Namespace, successor string) error {
	township := ns.Labels[naming.LabelTownship]
	if s.region.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete && successor == "" {
		// Spec change: the township left spec.townships under deletionPolicy Delete
		// (confirmed when more than three go at once).
		return r.deleteNamespace(ctx, s.region, ns.Name, "township "+township+" removed from spec")
	}
	if err := r.retainNamespace(ctx, s.region, ns, successor); err != nil {
		return err
	}
	s.keepRetained(ns.Name, township)
	return nil
}

// keepRetained records a retained township namespace.
func (s *scope) keepRetained(ns, township string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retainedNamespaces = append(s.retainedNamespaces, ns)
	s.nsTownship[ns] = township
	s.retained = append(s.retained, platformv1.RetainedObject{Kind: "Namespace", Name: ns, Township: township})
}

// deleteNamespace deletes one of the Region's namespaces, and says so in an event and
// the destroyed-objects metric.
func (r *RegionReconciler) deleteNamespace(ctx context.Context, rg *platformv1.Region, name, why string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	deleted, err := r.deleteOwnedReport(ctx, rg.Name, "Namespace", ns)
	if deleted {
		destroyed("Namespace")
		r.event(rg, corev1.EventTypeNormal, "Deleted", "Delete", "deleted namespace %s (%s, deletionPolicy Delete)", name, why)
	}
	return err
}

// retainNamespace marks a namespace retained and removes the township admins' binding
// in it. Region admins and supervisors keep their access so the data stays reachable.
func (r *RegionReconciler) retainNamespace(ctx context.Context, rg *platformv1.Region, ns *corev1.Namespace, successor string) error {
	region := rg.Name
	if ns.DeletionTimestamp != nil {
		return nil
	}
	// The namespace is this Region's (regionNamespaces said so): it says so itself from
	// now on, whether it had no UID yet or the adopted Region's.
	uid := rg.UID
	ac := desired.CountyNamespace(region, ns.Labels[naming.LabelCode], uid)
	if township := ns.Labels[naming.LabelTownship]; township != "" {
		ac = desired.TownshipNamespace(region, township, ns.Labels[naming.LabelCode], uid)
	}
	if ns.Labels[naming.LabelRetained] != "true" {
		r.event(rg, corev1.EventTypeNormal, "Retained", "Retain", "namespace %s and its data are kept (deletionPolicy Retain)", ns.Name)
	}
	// Written as every applied object is: a namespace already marked so is not
	// written again, by this operator or by one started later.
	if err := r.write(ctx, "Namespace", ns, desired.RetainedNamespace(ns, ac, successor, time.Now())); err != nil {
		return fmt.Errorf("marking Namespace %s retained: %w", ns.Name, err)
	}
	// Spec change: the township (or the Region) left the spec under Retain, or became
	// another (formerly); its admins lose their binding, the data stays.
	return r.deleteOwned(ctx, region, "RoleBinding", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: naming.RoleBindingTownshipAdmins}})
}

// nameLocks serialise the making of namespaces by name; a name hashes to one of them.
var nameLocks [64]sync.Mutex

func lockName(name string) (unlock func()) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	m := &nameLocks[h.Sum32()%uint32(len(nameLocks))]
	m.Lock()
	return m.Unlock
}
