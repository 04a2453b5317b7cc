package controllers

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"

	"github.com/jiceng-io/region-operator/internal/naming"
)

// The built-in ClusterRoles the Region's RoleBindings grant.
const (
	clusterRoleAdmin = "admin"
	clusterRoleView  = "view"
)

func roleBinding(namespace, name, clusterRole string, labels map[string]string, groups []string) *rbacv1ac.RoleBindingApplyConfiguration {
	rb := rbacv1ac.RoleBinding(name, namespace).
		WithLabels(labels).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(clusterRole))
	for _, g := range groups {
		rb.WithSubjects(rbacv1ac.Subject().WithAPIGroup(rbacv1.GroupName).WithKind(rbacv1.GroupKind).WithName(g))
	}
	return rb
}

// reconcileRoleBindings grants region admins admin and supervisors view in every
// namespace of the Region (retained ones too, so the kept data stays reachable and a
// person removed from access loses it everywhere), and each township's admins admin in
// their own namespace. A binding whose group list became empty is removed.
func (r *RegionReconciler) reconcileRoleBindings(ctx context.Context, s *scope) {
	region := s.region.Name
	access := s.region.Spec.Access
	everywhere := append(s.activeNamespaces(), s.retainedNamespaces...)
	each(len(everywhere), func(i int) {
		ns := everywhere[i]
		township := s.nsTownship[ns]
		r.bindOrRemove(ctx, s, township, ns, naming.RoleBindingAdmins, clusterRoleAdmin, access.Admins)
		r.bindOrRemove(ctx, s, township, ns, naming.RoleBindingSupervisors, clusterRoleView, access.Supervisors)
	})
	each(len(s.region.Spec.Townships), func(i int) {
		t := s.region.Spec.Townships[i]
		if !s.namespaceOK[t.Name] {
			return
		}
		var groups []string
		if access.TownshipAdmins != "" {
			groups = []string{naming.TownshipAdminsGroup(access.TownshipAdmins, region, t.Name)}
		}
		r.bindOrRemove(ctx, s, t.Name, naming.TownshipNamespace(region, t.Name), naming.RoleBindingTownshipAdmins, clusterRoleAdmin, groups)
	})
}

func (r *RegionReconciler) bindOrRemove(ctx context.Context, s *scope, township, namespace, name, clusterRole string, groups []string) {
	region := s.region.Name
	current := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	var err error
	if len(groups) == 0 {
		err = r.deleteOwned(ctx, region, "RoleBinding", current)
	} else {
		err = r.applyRoleBinding(ctx, region, current, roleBinding(namespace, name, clusterRole, naming.Labels(region, township), groups))
	}
	if err != nil {
		s.fail(ConditionAccessReady, township, err)
	}
}

// applyRoleBinding applies a RoleBinding; roleRef cannot change in place, so a binding
// of the Region's that points at another role is deleted first and made anew.
func (r *RegionReconciler) applyRoleBinding(ctx context.Context, region string, current *rbacv1.RoleBinding, ac *rbacv1ac.RoleBindingApplyConfiguration) error {
	exists, err := r.claim(ctx, region, "RoleBinding", current)
	if err != nil {
		return err
	}
	if exists && current.RoleRef.Name != *ac.RoleRef.Name {
		if err := r.deleteOwned(ctx, region, "RoleBinding", current.DeepCopy()); err != nil {
			return err
		}
	}
	return r.write(ctx, "RoleBinding", current, ac)
}
