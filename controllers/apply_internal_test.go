package controllers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

func rolledOutCopy(d *appsv1.Deployment, rv string) *appsv1.Deployment {
	out := d.DeepCopy()
	out.ResourceVersion = rv
	out.Status.ObservedGeneration, out.Status.Replicas, out.Status.AvailableReplicas = 1, 1, 1
	return out
}

// What the operator applied is still what it wrote when only the status moved on (a
// Deployment rolling out), and is drift when a label or the spec changed.
func TestWroteVersionLooksPastStatus(t *testing.T) {
	r := &RegionReconciler{}
	written := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
		Namespace: "anxi-fengcheng", Name: "portal", ResourceVersion: "10", Generation: 1,
		Labels: map[string]string{"platform.jiceng.io/region": "anxi"},
	}}
	r.applied.Store("Deployment anxi-fengcheng/portal", appliedMemo{resourceVersion: "10", generation: 1, meta: metaSum(written)})

	if !r.wroteVersion("Deployment", written) {
		t.Error("the very version written is not recognised")
	}
	if !r.wroteVersion("Deployment", rolledOutCopy(written, "11")) {
		t.Error("a status change alone is taken for drift: the Deployment would be applied again at every roll-out step")
	}
	relabelled := rolledOutCopy(written, "12")
	relabelled.Labels["platform.jiceng.io/region"] = "someone-else"
	if r.wroteVersion("Deployment", relabelled) {
		t.Error("a label changed by hand is not seen as drift")
	}
	annotated := rolledOutCopy(written, "13")
	annotated.Annotations = map[string]string{"note": "by hand"}
	if r.wroteVersion("Deployment", annotated) {
		t.Error("an annotation added by hand is not seen as drift")
	}
	edited := rolledOutCopy(written, "14")
	edited.Generation = 2 // what the API server does on a change of spec
	if r.wroteVersion("Deployment", edited) {
		t.Error("a spec changed by hand is not seen as drift")
	}

	// A kind without a status of its own is trusted only at the very version written.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "directory", ResourceVersion: "20"}}
	r.applied.Store("ConfigMap anxi-fengcheng/directory", appliedMemo{resourceVersion: "20"})
	if !r.wroteVersion("ConfigMap", cm) {
		t.Error("the very version written is not recognised")
	}
	cm.ResourceVersion = "21"
	if r.wroteVersion("ConfigMap", cm) {
		t.Error("any later version of a ConfigMap must be looked at again")
	}
}

// The cache keeps what the operator reads and drops the rest.
func TestSlimKeepsWhatTheOperatorReads(t *testing.T) {
	replicas := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "portal", Generation: 3, Labels: map[string]string{"a": "b"}}}
	d.Spec.Replicas = &replicas
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "portal", Image: "portal:1"}}
	d.Status.AvailableReplicas = 2
	out, _ := slim(d)
	got := out.(*appsv1.Deployment)
	if got.Spec.Replicas == nil || *got.Spec.Replicas != 2 || got.Status.AvailableReplicas != 2 || got.Generation != 3 || got.Labels["a"] != "b" {
		t.Errorf("the Deployment lost what readiness needs: %+v", got)
	}
	if len(got.Spec.Template.Spec.Containers) != 0 {
		t.Error("the pod template is kept in the cache")
	}
	sec := &corev1.Secret{Data: map[string][]byte{"user": []byte("u"), "password": []byte("p"), "uri": []byte("postgresql://...")}}
	out, _ = slim(sec)
	if data := out.(*corev1.Secret).Data; string(data["user"]) != "u" || string(data["password"]) != "p" || len(data) != 2 {
		t.Errorf("the Secret keeps %v, want user and password only", data)
	}
	np := &networkingv1.NetworkPolicy{}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	out, _ = slim(np)
	if got := out.(*networkingv1.NetworkPolicy); len(got.Spec.Ingress) != 1 {
		t.Error("the NetworkPolicy lost its ingress rules: a deny-all opened by hand would stay open")
	}
	rb := &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Name: "admin"}, Subjects: []rbacv1.Subject{{Name: "g"}}}
	out, _ = slim(rb)
	if got := out.(*rbacv1.RoleBinding); got.RoleRef.Name != "admin" || got.Subjects != nil {
		t.Errorf("the RoleBinding keeps %+v, want its roleRef only", got)
	}
}

// The events the operator's own applies cause do not start another reconcile; anyone
// else's change does.
func TestOwnEchoIsDropped(t *testing.T) {
	r := &RegionReconciler{}
	p := r.notOwnEcho("Deployment")
	mine := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "portal", ResourceVersion: "10"}}
	r.applied.Store("Deployment anxi-fengcheng/portal", appliedMemo{resourceVersion: "10"})

	if p.Create(event.CreateEvent{Object: mine}) {
		t.Error("the creation the operator made starts a reconcile")
	}
	if p.Update(event.UpdateEvent{ObjectOld: mine, ObjectNew: mine}) {
		t.Error("the update the operator made starts a reconcile")
	}
	rolled := rolledOutCopy(mine, "11")
	if !p.Update(event.UpdateEvent{ObjectOld: mine, ObjectNew: rolled}) {
		t.Error("a change by someone else is dropped")
	}
	if !p.Delete(event.DeleteEvent{Object: mine}) {
		t.Error("a deletion is dropped")
	}
	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "other", ResourceVersion: "3"}}
	if !p.Create(event.CreateEvent{Object: other}) {
		t.Error("an object the operator never applied is dropped")
	}
	if p.Update(event.UpdateEvent{ObjectOld: other, ObjectNew: other}) {
		t.Error("a child's periodic resync starts a reconcile; the Region's own resync does that once")
	}
	r.inFlight.Store("Deployment anxi-fengcheng/other", struct{}{})
	if p.Create(event.CreateEvent{Object: other}) {
		t.Error("the creation of an object being applied right now starts a reconcile")
	}
}

// The periodic resync of a Region passes; a real update is left to the other predicates.
func TestRegionResyncPasses(t *testing.T) {
	rg := &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: "anxi", ResourceVersion: "7"}}
	if !resync().Update(event.UpdateEvent{ObjectOld: rg, ObjectNew: rg}) {
		t.Error("the Region's resync is dropped: nothing would look at a quiet Region again")
	}
	changed := rg.DeepCopy()
	changed.ResourceVersion = "8"
	if resync().Update(event.UpdateEvent{ObjectOld: rg, ObjectNew: changed}) {
		t.Error("an ordinary update is taken for a resync")
	}
}
