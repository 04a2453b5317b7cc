package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// Per-container defaults of a township namespace, so that pods which name no resources
// are still admitted under the namespace's quota. Each call makes new lists: an apply
// writes the server's answer into them, so they must not be shared.
func defaultRequest() corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
}

func defaultLimit() corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")}
}

// effectiveQuota is the township's override, field by field, over the Region's defaults.
func effectiveQuota(defaults platformv1.Quota, override *platformv1.Quota) platformv1.Quota {
	q := defaults
	if override != nil {
		if override.CPU != nil {
			q.CPU = override.CPU
		}
		if override.Memory != nil {
			q.Memory = override.Memory
		}
		if override.Pods != nil {
			q.Pods = override.Pods
		}
	}
	return q
}

// quotaHard turns a Quota into the ResourceQuota's hard limits: cpu bounds requests,
// memory bounds requests and limits (memory is not compressible), pods bounds pods.
func quotaHard(q platformv1.Quota) corev1.ResourceList {
	hard := corev1.ResourceList{}
	if q.CPU != nil {
		hard[corev1.ResourceRequestsCPU] = *q.CPU
	}
	if q.Memory != nil {
		hard[corev1.ResourceRequestsMemory] = *q.Memory
		hard[corev1.ResourceLimitsMemory] = *q.Memory
	}
	if q.Pods != nil {
		hard[corev1.ResourcePods] = *q.Pods
	}
	return hard
}

// reconcileQuotas gives every active township namespace its ResourceQuota and
// LimitRange. A township with no quota at all, from defaults or override, gets none.
func (r *RegionReconciler) reconcileQuotas(ctx context.Context, s *scope) {
	region := s.region
	each(len(region.Spec.Townships), func(i int) {
		t := region.Spec.Townships[i]
		if !s.namespaceOK[t.Name] {
			return
		}
		ns := naming.TownshipNamespace(region.Name, t.Name)
		labels := naming.TownshipLabels(region.Name, t.Name)
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.ResourceQuota}}
		hard := quotaHard(effectiveQuota(region.Spec.Defaults.Quota, t.Quota))
		var err error
		if len(hard) == 0 {
			err = r.deleteOwned(ctx, region.Name, "ResourceQuota", quota)
		} else {
			err = r.apply(ctx, region.Name, "ResourceQuota", quota, quotaConfig(ns, labels, hard))
		}
		if err != nil {
			s.fail(ConditionAccessReady, t.Name, err)
		}
		limits := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.LimitRange}}
		if err := r.apply(ctx, region.Name, "LimitRange", limits, limitRangeConfig(ns, labels)); err != nil {
			s.fail(ConditionAccessReady, t.Name, err)
		}
	})
}

func quotaConfig(ns string, labels map[string]string, hard corev1.ResourceList) *corev1ac.ResourceQuotaApplyConfiguration {
	return corev1ac.ResourceQuota(naming.ResourceQuota, ns).WithLabels(labels).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

func limitRangeConfig(ns string, labels map[string]string) *corev1ac.LimitRangeApplyConfiguration {
	return corev1ac.LimitRange(naming.LimitRange, ns).WithLabels(labels).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(corev1ac.LimitRangeItem().
			WithType(corev1.LimitTypeContainer).
			WithDefaultRequest(defaultRequest()).
			WithDefault(defaultLimit())))
}
