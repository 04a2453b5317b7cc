package controllers

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/naming"
)

// namespaceNameLabel is set by the API server on every namespace and cannot be forged,
// unlike the operator's own labels, so policies select peer namespaces by it.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// defaultDenyPolicy selects every pod and admits nothing.
func defaultDenyPolicy(namespace string, labels map[string]string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return networkingv1ac.NetworkPolicy(naming.NetworkPolicyDefaultDeny, namespace).
		WithLabels(labels).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress))
}

// clearIngressPatch removes ingress rules someone added to the default-deny policy. An
// apply configuration cannot say "no rules" (an empty list is left out), so the
// operator owns nothing there to force back; it removes the rules itself.
var clearIngressPatch = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"ingress":null}}`))

// allowRegionPolicy lets in traffic from the namespace itself, from the given peer
// namespaces (a township's hub, or the hub's townships) and from the configured ingress.
// Everything else, sibling townships and other Regions included, stays denied.
func allowRegionPolicy(namespace string, labels map[string]string, peers []string, ingress *metav1.LabelSelector) *networkingv1ac.NetworkPolicyApplyConfiguration {
	from := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
	}
	if len(peers) > 0 {
		from = append(from, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(namespaceNameLabel).
				WithOperator(metav1.LabelSelectorOpIn).
				WithValues(peers...))))
	}
	if ingress != nil {
		from = append(from, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(labelSelector(ingress)))
	}
	return networkingv1ac.NetworkPolicy(naming.NetworkPolicyAllowRegion, namespace).
		WithLabels(labels).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(from...)))
}

func labelSelector(in *metav1.LabelSelector) *metav1ac.LabelSelectorApplyConfiguration {
	out := metav1ac.LabelSelector()
	if len(in.MatchLabels) > 0 {
		out.WithMatchLabels(in.MatchLabels)
	}
	for _, e := range in.MatchExpressions {
		out.WithMatchExpressions(metav1ac.LabelSelectorRequirement().
			WithKey(e.Key).WithOperator(e.Operator).WithValues(e.Values...))
	}
	return out
}

// reconcileNetworkPolicies isolates every active namespace of the Region: a township
// talks to itself and its hub, the hub to itself and its townships.
func (r *RegionReconciler) reconcileNetworkPolicies(ctx context.Context, s *scope) {
	region := s.region
	hub := naming.HubNamespace(region.Name)
	townships := s.townshipNamespaces()
	ingress := region.Spec.Network.IngressFrom
	if s.namespaceOK[""] {
		r.applyPolicies(ctx, s, "", hub, naming.RegionLabels(region.Name), townships, ingress)
	}
	each(len(region.Spec.Townships), func(i int) {
		t := region.Spec.Townships[i]
		if s.namespaceOK[t.Name] {
			r.applyPolicies(ctx, s, t.Name, naming.TownshipNamespace(region.Name, t.Name),
				naming.TownshipLabels(region.Name, t.Name), []string{hub}, ingress)
		}
	})
}

func (r *RegionReconciler) applyPolicies(ctx context.Context, s *scope, township, namespace string, labels map[string]string, peers []string, ingress *metav1.LabelSelector) {
	region := s.region.Name
	for _, ac := range []*networkingv1ac.NetworkPolicyApplyConfiguration{
		defaultDenyPolicy(namespace, labels),
		allowRegionPolicy(namespace, labels, peers, ingress),
	} {
		current := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: *ac.Name}}
		if err := r.apply(ctx, region, "NetworkPolicy", current, ac); err != nil {
			s.fail(ConditionAccessReady, township, err)
			continue
		}
		if *ac.Name == naming.NetworkPolicyDefaultDeny && len(current.Spec.Ingress) > 0 {
			if err := r.Patch(ctx, current, clearIngressPatch, client.FieldOwner(naming.FieldManager)); err != nil {
				s.fail(ConditionAccessReady, township, fmt.Errorf("closing NetworkPolicy %s/%s again: %w", namespace, current.Name, err))
			}
		}
	}
}
