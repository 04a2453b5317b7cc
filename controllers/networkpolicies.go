package controllers

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/naming"
)

// namespaceNameLabel is set by the API server on every namespace and cannot be forged,
// unlike the operator's own labels, so policies select peer namespaces by it.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// defaultDenyPolicy selects every pod and admits nothing. It is built unstructured
// because the typed apply configuration cannot say "ingress: []": the operator must own
// the empty rule list, or a rule added by hand would never be taken away.
func defaultDenyPolicy(namespace string, labels map[string]string) runtime.ApplyConfiguration {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1",
		"kind":       "NetworkPolicy",
		"metadata": map[string]any{
			"name":      naming.NetworkPolicyDefaultDeny,
			"namespace": namespace,
			"labels":    toAny(labels),
		},
		"spec": map[string]any{
			"podSelector": map[string]any{},
			"policyTypes": []any{string(networkingv1.PolicyTypeIngress)},
			"ingress":     []any{},
		},
	}}
	return client.ApplyConfigurationFromUnstructured(u)
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

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
	var townships []string
	for _, t := range region.Spec.Townships {
		if s.namespaceOK[t.Name] {
			townships = append(townships, naming.TownshipNamespace(region.Name, t.Name))
		}
	}
	ingress := region.Spec.Network.IngressFrom
	if s.namespaceOK[""] {
		r.applyPolicies(ctx, s, "", hub, naming.RegionLabels(region.Name), townships, ingress)
	}
	for _, t := range region.Spec.Townships {
		if s.namespaceOK[t.Name] {
			r.applyPolicies(ctx, s, t.Name, naming.TownshipNamespace(region.Name, t.Name),
				naming.TownshipLabels(region.Name, t.Name), []string{hub}, ingress)
		}
	}
}

func (r *RegionReconciler) applyPolicies(ctx context.Context, s *scope, township, namespace string, labels map[string]string, peers []string, ingress *metav1.LabelSelector) {
	region := s.region.Name
	for name, ac := range map[string]runtime.ApplyConfiguration{
		naming.NetworkPolicyDefaultDeny: defaultDenyPolicy(namespace, labels),
		naming.NetworkPolicyAllowRegion: allowRegionPolicy(namespace, labels, peers, ingress),
	} {
		current := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		if err := r.apply(ctx, region, "NetworkPolicy", current, ac); err != nil {
			s.fail(ConditionAccessReady, township, err)
		}
	}
}
