package controllers

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// clearIngressPatch removes ingress rules someone added to the default-deny policy. An
// apply configuration cannot say "no rules" (an empty list is left out), so the
// operator owns nothing there to force back; it removes the rules itself.
var clearIngressPatch = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"ingress":null}}`))

// reconcileNetworkPolicies isolates every active namespace of the Region: a township
// talks to itself and its hub, the hub to itself and its townships.
func (r *RegionReconciler) reconcileNetworkPolicies(ctx context.Context, s *scope) {
	if s.namespaceOK[""] {
		r.applyPolicies(ctx, s, "")
	}
	s.each(len(s.region.Spec.Townships), func(i int) {
		if t := s.region.Spec.Townships[i]; s.namespaceOK[t.Name] {
			r.applyPolicies(ctx, s, t.Name)
		}
	})
}

func (r *RegionReconciler) applyPolicies(ctx context.Context, s *scope, township string) {
	region := s.region.Name
	for _, ac := range desired.Policies(s.region, township) {
		namespace := *ac.Namespace
		current := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: *ac.Name}}
		if err := r.apply(ctx, region, "NetworkPolicy", current, ac); err != nil {
			s.fail(ConditionAccessReady, township, err)
			continue
		}
		if *ac.Name == naming.NetworkPolicyDefaultDeny && len(current.Spec.Ingress) > 0 {
			if err := r.Patch(ctx, current, clearIngressPatch, client.FieldOwner(naming.LayerManager(naming.LayerAccess))); err != nil {
				s.fail(ConditionAccessReady, township, fmt.Errorf("closing NetworkPolicy %s/%s again: %w", namespace, current.Name, err))
			}
		}
	}
}
