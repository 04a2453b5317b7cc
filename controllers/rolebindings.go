package controllers

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// reconcileRoleBindings grants region admins admin and supervisors view in every
// namespace of the Region (retained ones too, so the kept data stays reachable and a
// person removed from access loses it everywhere), and each township's admins admin in
// their own namespace. A binding whose group list became empty is removed.
func (r *RegionReconciler) reconcileRoleBindings(ctx context.Context, s *scope) {
	everywhere := append(s.activeNamespaces(), s.retainedNamespaces...)
	s.each(len(everywhere), func(i int) {
		ns := everywhere[i]
		township := s.nsTownship[ns]
		active := ns == naming.HubNamespace(s.region.Name) || !slices.Contains(s.retainedNamespaces, ns)
		for _, b := range desired.Bindings(s.region, township, active) {
			r.bindOrRemove(ctx, s, township, ns, b)
		}
	})
}

func (r *RegionReconciler) bindOrRemove(ctx context.Context, s *scope, township, namespace string, b desired.Binding) {
	region := s.region.Name
	current := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: b.Name}}
	var err error
	if len(b.Groups) == 0 {
		// Spec change: spec.access no longer names any group for this binding.
		err = r.deleteOwned(ctx, region, "RoleBinding", current)
	} else {
		err = r.applyRoleBinding(ctx, region, current, desired.RoleBinding(namespace, b.Name, b.ClusterRole, naming.Labels(region, township), b.Groups))
	}
	if err != nil {
		s.fail(ConditionAccessReady, township, err)
	}
}

// applyRoleBinding applies a RoleBinding; roleRef cannot change in place, so a binding
// in the Region's namespace that points at another role is deleted first and made anew.
func (r *RegionReconciler) applyRoleBinding(ctx context.Context, region string, current *rbacv1.RoleBinding, ac *rbacv1ac.RoleBindingApplyConfiguration) error {
	exists, err := r.claim(ctx, region, "RoleBinding", current)
	if err != nil {
		return err
	}
	if exists && current.RoleRef.Name != *ac.RoleRef.Name {
		if err := r.replaceRoleBinding(ctx, current); err != nil {
			return err
		}
	}
	err = r.write(ctx, "RoleBinding", current, ac)
	if apierrors.IsInvalid(err) && !exists {
		// Someone put a binding of this name, to another role, into a namespace the
		// operator made moments ago, where it looked for none.
		found := &rbacv1.RoleBinding{}
		if gerr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(current), found); gerr == nil && found.RoleRef.Name != *ac.RoleRef.Name {
			if err := r.replaceRoleBinding(ctx, found); err != nil {
				return err
			}
			return r.write(ctx, "RoleBinding", current, ac)
		}
	}
	return err
}

// replaceRoleBinding deletes a binding that must point at another role (spec change or
// drift); it is made again at once, and nothing but the binding is replaced.
func (r *RegionReconciler) replaceRoleBinding(ctx context.Context, current *rbacv1.RoleBinding) error {
	if current.UID == "" {
		// Read from the store, which keeps no UID: the API server names the object.
		fresh := &rbacv1.RoleBinding{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(current), fresh); err != nil {
			return client.IgnoreNotFound(err)
		}
		current = fresh
	}
	uid := current.UID
	if err := r.Delete(ctx, current.DeepCopy(), client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("replacing RoleBinding %s/%s: %w", current.Namespace, current.Name, err)
	}
	return nil
}
