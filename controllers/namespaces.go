package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// podSecurity is enforced on every namespace of a Region: the platform's workloads run
// as restricted pods, and so must anything else put there.
var podSecurity = map[string]string{
	"pod-security.kubernetes.io/enforce":         "restricted",
	"pod-security.kubernetes.io/enforce-version": "latest",
	"pod-security.kubernetes.io/warn":            "restricted",
	"pod-security.kubernetes.io/audit":           "restricted",
}

func hubNamespace(region *platformv1.Region) *corev1ac.NamespaceApplyConfiguration {
	return countyNamespace(region.Name, region.Spec.Code)
}

func countyNamespace(region, code string) *corev1ac.NamespaceApplyConfiguration {
	return namespace(naming.HubNamespace(region), naming.RegionLabels(region), naming.LevelCounty, code)
}

func townshipNamespace(region, township, code string) *corev1ac.NamespaceApplyConfiguration {
	return namespace(naming.TownshipNamespace(region, township), naming.TownshipLabels(region, township), naming.LevelTownship, code)
}

// namespace is a Region's namespace: its ownership labels, level, code and Pod Security.
func namespace(name string, labels map[string]string, level, code string) *corev1ac.NamespaceApplyConfiguration {
	labels[naming.LabelLevel] = level
	labels[naming.LabelCode] = code
	return corev1ac.Namespace(name).WithLabels(labels).WithLabels(podSecurity)
}

// retainedNamespace is a namespace kept after its township (or its Region) went away:
// its labels stay, marked as retained since the first time it was seen so.
func retainedNamespace(current *corev1.Namespace, ac *corev1ac.NamespaceApplyConfiguration, now time.Time) *corev1ac.NamespaceApplyConfiguration {
	since := current.Annotations[naming.AnnotationSince]
	if since == "" {
		since = now.UTC().Format(time.RFC3339)
	}
	return ac.WithLabels(map[string]string{naming.LabelRetained: "true"}).
		WithAnnotations(map[string]string{naming.AnnotationSince: since})
}

// reconcileNamespaces makes the hub and one namespace per township, and applies the
// deletion policy to township namespaces that left the spec.
func (r *RegionReconciler) reconcileNamespaces(ctx context.Context, s *scope) error {
	region := s.region
	if err := r.applyNamespace(ctx, s, region.Spec.Code, hubNamespace(region)); err != nil {
		s.fail(ConditionNamespacesReady, "", err)
	} else {
		s.namespaceOK[""] = true
	}
	inSpec := map[string]bool{}
	for _, t := range region.Spec.Townships {
		inSpec[t.Name] = true
		s.nsTownship[naming.TownshipNamespace(region.Name, t.Name)] = t.Name
	}
	each(len(region.Spec.Townships), func(i int) {
		t := region.Spec.Townships[i]
		if err := r.applyNamespace(ctx, s, t.Code, townshipNamespace(region.Name, t.Name, t.Code)); err != nil {
			s.fail(ConditionNamespacesReady, t.Name, err)
			return
		}
		s.placed(t.Name)
	})

	if len(s.created) > 0 {
		r.event(region, corev1.EventTypeNormal, "Created", "Create", "created namespace %s", strings.Join(s.created, ", "))
	}
	gone, err := r.townshipNamespaces(ctx, region.Name)
	if err != nil {
		s.fail(ConditionNamespacesReady, "", err)
		return nil
	}
	for i := range gone {
		ns := &gone[i]
		township := ns.Labels[naming.LabelTownship]
		if inSpec[township] {
			continue
		}
		if err := r.removeTownship(ctx, s, ns); err != nil {
			s.fail(ConditionNamespacesReady, "", err)
		}
	}
	return nil
}

// applyNamespace applies a namespace after checking that it is the Region's and that an
// existing one carries the same administrative code: a namespace retained from another
// county that had the same name is never taken over.
func (r *RegionReconciler) applyNamespace(ctx context.Context, s *scope, code string, ac *corev1ac.NamespaceApplyConfiguration) error {
	current := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: *ac.Name}}
	exists, err := r.claim(ctx, s.region.Name, "Namespace", current)
	if err != nil {
		return err
	}
	if exists {
		if have := current.Labels[naming.LabelCode]; have != "" && have != code {
			return &conflictError{kind: "Namespace", name: current.Name,
				detail: fmt.Sprintf("was made for code %s, not %s", have, code)}
		}
		if current.DeletionTimestamp != nil {
			return fmt.Errorf("namespace %s is being deleted; it is made again once it is gone", current.Name)
		}
	}
	if err := r.write(ctx, "Namespace", current, ac); err != nil {
		return err
	}
	if !exists {
		s.mu.Lock()
		s.created = append(s.created, current.Name)
		s.mu.Unlock()
		r.fresh.Store(current.Name, time.Now())
	}
	return nil
}

// townshipNamespaces lists the township namespaces of a Region, as the store has them.
func (r *RegionReconciler) townshipNamespaces(ctx context.Context, region string) ([]corev1.Namespace, error) {
	var list corev1.NamespaceList
	if err := r.reader().List(ctx, &list, client.MatchingLabels{
		naming.LabelManagedBy: naming.ManagedByValue,
		naming.LabelRegion:    region,
		naming.LabelLevel:     naming.LevelTownship,
	}); err != nil {
		return nil, fmt.Errorf("listing township namespaces: %w", err)
	}
	return list.Items, nil
}

// removeTownship carries out the deletion policy for a township that left the spec.
// Retain keeps the namespace and everything in it, marks it retained and takes the
// township admins' access away; Delete deletes the namespace.
func (r *RegionReconciler) removeTownship(ctx context.Context, s *scope, ns *corev1.Namespace) error {
	region := s.region.Name
	if s.region.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete {
		return r.deleteOwned(ctx, region, "Namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name}})
	}
	township := ns.Labels[naming.LabelTownship]
	if err := r.retainNamespace(ctx, s.region, ns); err != nil {
		return err
	}
	s.retainedNamespaces = append(s.retainedNamespaces, ns.Name)
	s.nsTownship[ns.Name] = township
	s.retained = append(s.retained, platformv1.RetainedObject{Kind: "Namespace", Name: ns.Name, Township: township})
	return nil
}

// retainNamespace marks a namespace retained and removes the township admins' binding
// in it. Region admins and supervisors keep their access so the data stays reachable.
func (r *RegionReconciler) retainNamespace(ctx context.Context, rg *platformv1.Region, ns *corev1.Namespace) error {
	region := rg.Name
	if ns.DeletionTimestamp != nil {
		return nil
	}
	ac := countyNamespace(region, ns.Labels[naming.LabelCode])
	if township := ns.Labels[naming.LabelTownship]; township != "" {
		ac = townshipNamespace(region, township, ns.Labels[naming.LabelCode])
	}
	if ns.Labels[naming.LabelRetained] != "true" {
		r.event(rg, corev1.EventTypeNormal, "Retained", "Retain", "namespace %s and its data are kept (deletionPolicy Retain)", ns.Name)
	}
	if err := r.Apply(ctx, retainedNamespace(ns, ac, time.Now()), client.FieldOwner(naming.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("marking Namespace %s retained: %w", ns.Name, err)
	}
	return r.deleteOwned(ctx, region, "RoleBinding", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: naming.RoleBindingTownshipAdmins}})
}
