package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// reconcileQuotas gives every active township namespace its ResourceQuota and
// LimitRange. A township with no quota at all, from defaults or override, gets none.
func (r *RegionReconciler) reconcileQuotas(ctx context.Context, s *scope) {
	region := s.region
	s.each(len(region.Spec.Townships), func(i int) {
		t := region.Spec.Townships[i]
		if !s.namespaceOK[t.Name] {
			return
		}
		ns := naming.TownshipNamespace(region.Name, t.Name)
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.ResourceQuota}}
		var err error
		if ac := desired.Quota(region, &t); ac == nil {
			// Spec change: neither spec.defaults.quota nor the township's quota sets
			// any limit any more.
			err = r.deleteOwned(ctx, region.Name, "ResourceQuota", quota)
		} else {
			err = r.apply(ctx, region.Name, "ResourceQuota", quota, ac)
		}
		if err != nil {
			s.fail(ConditionAccessReady, t.Name, err)
		}
		limits := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.LimitRange}}
		if err := r.apply(ctx, region.Name, "LimitRange", limits, desired.LimitRange(region, t.Name)); err != nil {
			s.fail(ConditionAccessReady, t.Name, err)
		}
	})
}
