package localenv

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/localpg"
)

// RolledOut reports whether a Deployment's status already says what RollOut would.
func RolledOut(d *appsv1.Deployment) bool {
	return d.Status.ObservedGeneration == d.Generation && d.Spec.Replicas != nil && d.Status.AvailableReplicas == *d.Spec.Replicas
}

// RollOut does for one Deployment what kube-controller-manager's deployment controller
// does once the pods are up, which a bare control plane lacks: it reports every replica
// updated and available.
func RollOut(ctx context.Context, c client.Client, d *appsv1.Deployment) error {
	n := int32(1)
	if d.Spec.Replicas != nil {
		n = *d.Spec.Replicas
	}
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}},
	}
	return c.Status().Update(ctx, d)
}

// RegisterServer makes a DatabaseServer for a local PostgreSQL, with the given login in
// a Secret in namespace ns (created when missing).
func RegisterServer(ctx context.Context, c client.Client, pg *localpg.Server, name, ns, user, password string, maxConns int32) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		return err
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		StringData: map[string]string{"username": user, "password": password}}); err != nil {
		return err
	}
	return c.Create(ctx, &platformv1.DatabaseServer{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: platformv1.DatabaseServerSpec{
			Host: pg.Host, Port: int32(pg.Port), SSLMode: "disable", MaxConnections: maxConns,
			AdminSecretRef: platformv1.SecretKeyReference{Namespace: ns, Name: name},
		},
	})
}
