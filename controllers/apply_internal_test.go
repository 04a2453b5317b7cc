package controllers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
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
	written.Spec.Template.Spec.ServiceAccountName = "portal"
	r.applied.Store("Deployment anxi-fengcheng/portal", appliedMemo{resourceVersion: "10", content: content(written)})

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
	edited := rolledOutCopy(written, "13")
	edited.Spec.Template.Spec.ServiceAccountName = "default"
	if r.wroteVersion("Deployment", edited) {
		t.Error("a spec changed by hand is not seen as drift")
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
	r.inFlight.Store("Deployment anxi-fengcheng/other", struct{}{})
	if p.Create(event.CreateEvent{Object: other}) {
		t.Error("the creation of an object being applied right now starts a reconcile")
	}
}
