package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// reconcileDirectory writes the hierarchy into region-directory ConfigMaps: the whole
// of it in the hub, each township's own part in its namespace, where the platform's
// services mount it.
func (r *RegionReconciler) reconcileDirectory(ctx context.Context, s *scope) {
	if !s.namespaceOK[""] {
		s.fail(ConditionDirectoryReady, "", fmt.Errorf("the hub namespace %s is not in place", naming.HubNamespace(s.region.Name)))
		return
	}
	dir := desired.BuildDirectory(s.region)
	r.writeDirectory(ctx, s, "", naming.HubNamespace(s.region.Name), dir)
	s.each(len(s.region.Spec.Townships), func(i int) {
		t := s.region.Spec.Townships[i]
		if s.namespaceOK[t.Name] {
			r.writeDirectory(ctx, s, t.Name, naming.TownshipNamespace(s.region.Name, t.Name), desired.TownshipDirectory(dir, t.Name))
		}
	})
}

func (r *RegionReconciler) writeDirectory(ctx context.Context, s *scope, township, ns string, dir desired.Directory) {
	ac, err := desired.DirectoryConfigMap(s.region.Name, township, ns, dir)
	if err == nil {
		current := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.DirectoryConfigMap}}
		err = r.apply(ctx, s.region.Name, "ConfigMap", current, ac)
	}
	if err != nil {
		s.fail(ConditionDirectoryReady, township, err)
	}
}
