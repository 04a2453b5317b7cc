package controllers

import (
	"context"
	"encoding/hex"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/childstore"
	"github.com/jiceng-io/region-operator/internal/naming"
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
	r.store().Remember("Deployment", client.ObjectKey{Namespace: "anxi-fengcheng", Name: "portal"}, childstore.Applied{ResourceVersion: "10", Generation: 1, Meta: childstore.MetaOf(written)})

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
	r.store().Remember("ConfigMap", client.ObjectKey{Namespace: "anxi-fengcheng", Name: "directory"}, childstore.Applied{ResourceVersion: "20"})
	if !r.wroteVersion("ConfigMap", cm) {
		t.Error("the very version written is not recognised")
	}
	cm.ResourceVersion = "21"
	if r.wroteVersion("ConfigMap", cm) {
		t.Error("any later version of a ConfigMap must be looked at again")
	}
}

// testChildren is a store whose watch has not started: the test feeds it as a Reflector
// would and reads what it queued.
func testChildren(t *testing.T, r *RegionReconciler) (*childstore.Store, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	t.Helper()
	ch := r.store()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	t.Cleanup(q.ShutDown)
	ch.UseQueue(q)
	return ch, q
}

func storeOf(t *testing.T, ch *childstore.Store, obj client.Object) *childstore.KindStore {
	t.Helper()
	s, err := ch.For(obj)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The store keeps what the reconciles read, and gives it back as the object they ask for.
func TestChildrenKeepWhatTheOperatorReads(t *testing.T) {
	ch, _ := testChildren(t, &RegionReconciler{})
	ctx := context.Background()
	replicas := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "portal", ResourceVersion: "5", Generation: 3,
		Labels: map[string]string{"platform.jiceng.io/region": "anxi"}, Annotations: map[string]string{"note": "x"}}}
	d.Spec.Replicas = &replicas
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "portal", Image: "portal:1"}}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 3, UpdatedReplicas: 2, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}}}
	_ = storeOf(t, ch, d).Add(d)
	got := &appsv1.Deployment{}
	if err := ch.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != "5" || got.Generation != 3 || got.Labels["platform.jiceng.io/region"] != "anxi" || got.Annotations["note"] != "x" {
		t.Errorf("the Deployment's metadata came back as %+v", got.ObjectMeta)
	}
	if ok, why := deploymentAvailable(got); ok || why != "(1/2 available)" {
		t.Errorf("the Deployment's roll-out came back as %v %q, want not available (1/2 available)", ok, why)
	}
	if len(got.Spec.Template.Spec.Containers) != 0 {
		t.Error("the pod template is kept")
	}

	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "db", ResourceVersion: "6"},
		Data: map[string][]byte{"user": []byte("u"), "password": []byte("p"), "uri": []byte("postgresql://...")}}
	_ = storeOf(t, ch, sec).Add(sec)
	gotSec := &corev1.Secret{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(sec), gotSec)
	if data := gotSec.Data; string(data["user"]) != "u" || string(data["password"]) != "p" || len(data) != 2 {
		t.Errorf("the Secret keeps %v, want user and password only", data)
	}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: naming.NetworkPolicyDefaultDeny, ResourceVersion: "7"}}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	_ = storeOf(t, ch, np).Add(np)
	gotNP := &networkingv1.NetworkPolicy{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(np), gotNP)
	if len(gotNP.Spec.Ingress) != 1 {
		t.Error("the NetworkPolicy lost its ingress rules: a deny-all opened by hand would stay open")
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "admins", ResourceVersion: "8"},
		RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "admin"}, Subjects: []rbacv1.Subject{{Name: "g"}}}
	_ = storeOf(t, ch, rb).Add(rb)
	gotRB := &rbacv1.RoleBinding{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(rb), gotRB)
	if gotRB.RoleRef.Name != "admin" || gotRB.Subjects != nil {
		t.Errorf("the RoleBinding came back as %+v, want its roleRef only", gotRB)
	}

	// Of a ConfigMap, the labels read: whose it is, which module.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "portal", ResourceVersion: "9",
		Labels:      map[string]string{"platform.jiceng.io/region": "anxi", "platform.jiceng.io/module": "portal", "app.kubernetes.io/name": "portal"},
		Annotations: map[string]string{"note": "x"}}, Data: map[string]string{"k": "v"}}
	_ = storeOf(t, ch, cm).Add(cm)
	gotCM := &corev1.ConfigMap{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(cm), gotCM)
	if gotCM.Labels["platform.jiceng.io/region"] != "anxi" || gotCM.Labels["platform.jiceng.io/module"] != "portal" || len(gotCM.Labels) != 2 || gotCM.Annotations != nil || gotCM.Data != nil {
		t.Errorf("the ConfigMap came back as %+v, want its region and module labels only", gotCM)
	}

	// Deleted, it is gone; and a kind the operator does not make is refused.
	_ = storeOf(t, ch, rb).Delete(rb)
	if err := ch.Get(ctx, client.ObjectKeyFromObject(rb), gotRB); !apierrors.IsNotFound(err) {
		t.Errorf("a deleted RoleBinding is still found (%v)", err)
	}
	if err := ch.Get(ctx, client.ObjectKey{Name: "x"}, &corev1.Pod{}); err == nil {
		t.Error("a Pod is read from the store of the operator's objects")
	}
}

// What a reader gets is its own: changing it changes nothing in the store.
func TestStoreHandsOutCopies(t *testing.T) {
	ch, _ := testChildren(t, &RegionReconciler{})
	ctx := context.Background()
	replicas := int32(2)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "portal", ResourceVersion: "5",
		Labels: map[string]string{"platform.jiceng.io/region": "anxi"}}}
	d.Spec.Replicas = &replicas
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "db", ResourceVersion: "6",
		Annotations: map[string]string{naming.AnnotationRotation: "r1"}},
		Data: map[string][]byte{"user": []byte("u"), "password": []byte("p")}}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: naming.NetworkPolicyDefaultDeny, ResourceVersion: "7"}}
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{}}}}
	for _, o := range []client.Object{d, sec, np} {
		_ = storeOf(t, ch, o).Add(o)
	}
	replicas = 9 // the watch's object is the watch's
	scribble := func() {
		got := &appsv1.Deployment{}
		_ = ch.Get(ctx, client.ObjectKeyFromObject(d), got)
		*got.Spec.Replicas = 7
		got.Labels["platform.jiceng.io/region"] = "other"
		gotSec := &corev1.Secret{}
		_ = ch.Get(ctx, client.ObjectKeyFromObject(sec), gotSec)
		gotSec.Data["password"][0] = 'X'
		gotSec.Data["extra"] = []byte("x")
		gotSec.Annotations[naming.AnnotationRotation] = "r2"
		gotNP := &networkingv1.NetworkPolicy{}
		_ = ch.Get(ctx, client.ObjectKeyFromObject(np), gotNP)
		gotNP.Spec.Ingress[0].Ports = nil
	}
	scribble()
	got := &appsv1.Deployment{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(d), got)
	if *got.Spec.Replicas != 2 || got.Labels["platform.jiceng.io/region"] != "anxi" {
		t.Errorf("the store's Deployment changed with a reader's copy: replicas %d, labels %v", *got.Spec.Replicas, got.Labels)
	}
	gotSec := &corev1.Secret{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(sec), gotSec)
	if string(gotSec.Data["password"]) != "p" || len(gotSec.Data) != 2 || gotSec.Annotations[naming.AnnotationRotation] != "r1" {
		t.Errorf("the store's Secret changed with a reader's copy: %v %v", gotSec.Data, gotSec.Annotations)
	}
	gotNP := &networkingv1.NetworkPolicy{}
	_ = ch.Get(ctx, client.ObjectKeyFromObject(np), gotNP)
	if len(gotNP.Spec.Ingress) != 1 || len(gotNP.Spec.Ingress[0].Ports) != 1 {
		t.Errorf("the store's NetworkPolicy changed with a reader's copy: %+v", gotNP.Spec.Ingress)
	}
}

// The reflector's transform leaves of an object only what the store keeps, so that a
// list in flight holds no more: no managed fields, no data but the credential's, no
// pod template.
func TestTransformShrinksWhatArrives(t *testing.T) {
	ch, _ := testChildren(t, &RegionReconciler{})
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "db", ResourceVersion: "6", UID: "u1",
		Labels: map[string]string{naming.LabelRegion: "anxi", naming.LabelManagedBy: naming.ManagedByValue, "other": "x"},
		ManagedFields: []metav1.ManagedFieldsEntry{
			{Manager: "region-operator-database", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(strings.Repeat("x", 2048))},
			{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(strings.Repeat("x", 512))},
		}},
		Data: map[string][]byte{"user": []byte("u"), "password": []byte("p"), "ca.crt": make([]byte, 4096)}}
	small, err := storeOf(t, ch, sec).Shrink()(sec)
	if err != nil {
		t.Fatal(err)
	}
	got := small.(*corev1.Secret)
	if len(got.Data) != 2 || got.Labels["other"] != "" || got.Labels[naming.LabelRegion] != "anxi" || got.ResourceVersion != "6" {
		t.Errorf("the transform left %+v", got)
	}
	// Of the managed fields, only who else wrote it (that tells, after a restart,
	// whether the object is still as applied), without the fields.
	if want := []metav1.ManagedFieldsEntry{{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate}}; !reflect.DeepEqual(got.ManagedFields, want) {
		t.Errorf("the transform left the managed fields %+v, want %+v", got.ManagedFields, want)
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "portal", ResourceVersion: "5"}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "portal", Image: "portal:1"}}
	smallD, _ := storeOf(t, ch, d).Shrink()(d)
	if len(smallD.(*appsv1.Deployment).Spec.Template.Spec.Containers) != 0 {
		t.Error("the transform left the pod template")
	}
}

// A Region's objects are listed by the region label, and only those matching the rest of
// the selector; a fresh list drops what it no longer holds.
func TestChildrenListByRegion(t *testing.T) {
	ch, _ := testChildren(t, &RegionReconciler{})
	ctx := context.Background()
	ns := func(name, region, level string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: "1",
			Labels: map[string]string{"platform.jiceng.io/region": region, "platform.jiceng.io/level": level}}}
	}
	s := storeOf(t, ch, &corev1.Namespace{})
	_ = s.Replace([]any{ns("anxi", "anxi", "county"), ns("anxi-fengcheng", "anxi", "township"), ns("anxi-longmen", "anxi", "township"), ns("yongchun-taoxi", "yongchun", "township")}, "1")
	names := func(opts ...client.ListOption) []string {
		var list corev1.NamespaceList
		if err := ch.List(ctx, &list, opts...); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range list.Items {
			out = append(out, n.Name)
		}
		return out
	}
	if got := names(client.MatchingLabels{"platform.jiceng.io/region": "anxi", "platform.jiceng.io/level": "township"}); !slices.Equal(got, []string{"anxi-fengcheng", "anxi-longmen"}) {
		t.Errorf("anxi's townships listed as %v", got)
	}
	if got := names(); len(got) != 4 {
		t.Errorf("everything listed as %v", got)
	}
	_ = s.Replace([]any{ns("anxi", "anxi", "county"), ns("anxi-fengcheng", "anxi", "township")}, "2")
	if got := names(client.MatchingLabels{"platform.jiceng.io/region": "anxi"}); !slices.Equal(got, []string{"anxi", "anxi-fengcheng"}) {
		t.Errorf("after a fresh list anxi has %v", got)
	}
}

// queued drains what the queue holds now.
func queued(q workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
	var out []string
	for q.Len() > 0 {
		req, _ := q.Get()
		out = append(out, req.Name)
		q.Done(req)
		q.Forget(req)
	}
	return out
}

// The events the operator's own applies cause do not start another reconcile; anyone
// else's change, and a deletion, do, for the Region the object belongs to.
func TestOwnEchoIsDropped(t *testing.T) {
	r := &RegionReconciler{}
	ch, q := testChildren(t, r)
	s := storeOf(t, ch, &appsv1.Deployment{})
	labels := map[string]string{"platform.jiceng.io/region": "anxi"}
	mine := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "portal", ResourceVersion: "10", Generation: 1, Labels: labels}}
	r.store().Remember("Deployment", client.ObjectKey{Namespace: "anxi-fengcheng", Name: "portal"}, childstore.Applied{ResourceVersion: "10"})

	_ = s.Add(mine)
	if got := queued(q); len(got) != 0 {
		t.Errorf("the creation the operator made starts a reconcile of %v", got)
	}
	_ = s.Update(mine)
	if got := queued(q); len(got) != 0 {
		t.Errorf("the same version listed again starts a reconcile of %v", got)
	}
	edited := mine.DeepCopy()
	edited.ResourceVersion, edited.Generation = "11", 2
	_ = s.Update(edited)
	if got := queued(q); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("a change by someone else queued %v, want anxi", got)
	}
	moved := edited.DeepCopy()
	moved.ResourceVersion, moved.Labels = "12", map[string]string{"platform.jiceng.io/region": "yongchun"}
	_ = s.Update(moved)
	if got := queued(q); !slices.Equal(got, []string{"anxi", "yongchun"}) {
		t.Errorf("an object moved to another Region queued %v, want both", got)
	}
	_ = s.Delete(moved)
	if got := queued(q); !slices.Equal(got, []string{"yongchun"}) {
		t.Errorf("a deletion queued %v", got)
	}

	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "other", ResourceVersion: "3", Labels: labels}}
	done := ch.Applying("Deployment", client.ObjectKeyFromObject(other))
	_ = s.Add(other)
	if got := queued(q); len(got) != 0 {
		t.Errorf("the creation of an object being applied right now queued %v", got)
	}
	done()
	stranger := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "stranger", ResourceVersion: "4", Labels: labels}}
	_ = s.Add(stranger)
	if got := queued(q); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("an object the operator never applied queued %v, want anxi", got)
	}
}

// appliedDeployment puts a Deployment the operator applied into a store whose changes go
// to the returned queue.
func appliedDeployment(t *testing.T) (*RegionReconciler, *childstore.KindStore, workqueue.TypedRateLimitingInterface[reconcile.Request], *appsv1.Deployment) {
	r := &RegionReconciler{}
	ch, q := testChildren(t, r)
	s := storeOf(t, ch, &appsv1.Deployment{})
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "portal", ResourceVersion: "10", Generation: 1,
		Labels: map[string]string{"platform.jiceng.io/region": "anxi"}}}
	r.store().Remember("Deployment", client.ObjectKey{Namespace: "anxi-fengcheng", Name: "portal"}, childstore.Applied{ResourceVersion: "10"})
	_ = s.Add(d)
	return r, s, q, d
}

// queuedWithin drains the queue as soon as something is in it, or after d.
func queuedWithin(q workqueue.TypedRateLimitingInterface[reconcile.Request], d time.Duration) []string {
	deadline := time.Now().Add(d)
	for q.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return queued(q)
}

// A Deployment's status change alone waits a moment, so that a roll-out makes one
// reconcile; it is not lost.
func TestRollOutIsGathered(t *testing.T) {
	_, s, q, d := appliedDeployment(t)
	_ = s.Update(rolledOutCopy(d, "11"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("a roll-out step queued %v at once", got)
	}
	if got := queuedWithin(q, 5*rolloutBatch); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("after the roll-out batch, queued %v, want anxi", got)
	}
}

// A roll-out that a reconcile has already read (and written into the Region's status)
// does not start another reconcile; a step it did not read does, once it ends.
func TestRollOutAlreadyFollowedIsNotQueued(t *testing.T) {
	r, s, q, d := appliedDeployment(t)

	// The Deployment rolls out; a reconcile reads it before the moment is over.
	_ = s.Update(rolledOutCopy(d, "11"))
	ends := r.store().ReconcileStarts("anxi")
	ends(r.store().StatusChanges("anxi"))
	if got := queuedWithin(q, 3*rolloutBatch); len(got) != 0 {
		t.Errorf("a roll-out a reconcile read queued %v", got)
	}

	// A reconcile runs while the Deployment rolls out, and reads it after that.
	ends = r.store().ReconcileStarts("anxi")
	_ = s.Update(rolledOutCopy(d, "12"))
	ends(r.store().StatusChanges("anxi"))
	if got := queuedWithin(q, 3*rolloutBatch); len(got) != 0 {
		t.Errorf("a roll-out the reconcile read queued %v", got)
	}

	// Another reads the Deployments before the next step comes.
	ends = r.store().ReconcileStarts("anxi")
	seen := r.store().StatusChanges("anxi")
	_ = s.Update(rolledOutCopy(d, "13"))
	time.Sleep(2 * rolloutBatch) // the step waits for the reconcile's end
	if got := queued(q); len(got) != 0 {
		t.Errorf("a roll-out step queued %v while a reconcile ran", got)
	}
	ends(seen)
	if got := queuedWithin(q, 3*rolloutBatch); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("a roll-out step after the reconcile's read queued %v, want anxi", got)
	}
}

// A Deployment is rolled out only when the controller saw its spec and every replica is
// updated and available, with no pod of an older revision left: a surge pod up beside
// the old one (two pods, one updated, the old one still available) is mid-roll-out.
func TestDeploymentAvailableWaitsForOldPods(t *testing.T) {
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "portal", ResourceVersion: "5", Generation: 2}}
	d.Spec.Replicas = &one
	for _, c := range []struct {
		status appsv1.DeploymentStatus
		want   bool
	}{
		{appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 0, AvailableReplicas: 1}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 0}, false},
		{appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}, true},
	} {
		d.Status = c.status
		if ok, why := deploymentAvailable(d); ok != c.want {
			t.Errorf("status %+v: available %v (%s), want %v", c.status, ok, why, c.want)
		}
	}
	// What the store keeps says the same.
	ch, _ := testChildren(t, &RegionReconciler{})
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}
	_ = storeOf(t, ch, d).Add(d)
	got := &appsv1.Deployment{}
	if err := ch.Get(context.Background(), client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	if ok, _ := deploymentAvailable(got); ok {
		t.Error("the store's copy of a Deployment mid-roll-out says it rolled out")
	}
}

// The step that leaves every Deployment of a Region rolled out queues the Region at once:
// it is Ready now, and nothing more is coming to gather. Earlier steps are gathered; a
// reconcile running meanwhile decides at its end, at once too.
func TestRollOutsLastStepQueuesAtOnce(t *testing.T) {
	r, s, q, portal := appliedDeployment(t)
	services := portal.DeepCopy()
	services.Name, services.ResourceVersion = "services", "20"
	r.store().Remember("Deployment", client.ObjectKeyFromObject(services), childstore.Applied{ResourceVersion: "20"})
	_ = s.Add(services)
	done := func(d *appsv1.Deployment, rv string) *appsv1.Deployment {
		out := rolledOutCopy(d, rv)
		out.Status.UpdatedReplicas = 1
		return out
	}

	_ = s.Update(done(portal, "11"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("a roll-out's first step queued %v at once", got)
	}
	_ = s.Update(done(services, "21"))
	if got := queued(q); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("the roll-out's last step queued %v at once, want anxi", got)
	}
	// That reconcile reads both: the batch ends with nothing unseen.
	ends := r.store().ReconcileStarts("anxi")
	ends(r.store().StatusChanges("anxi"))
	if got := queuedWithin(q, 3*rolloutBatch); len(got) != 0 {
		t.Errorf("after the reconcile that read the roll-out, queued %v", got)
	}

	// A status change of a Deployment already rolled out (it stays so) is gathered.
	again := done(services, "22")
	again.Status.ReadyReplicas = 1
	_ = s.Update(again)
	if got := queued(q); len(got) != 0 {
		t.Errorf("a status change of a rolled-out Deployment queued %v at once", got)
	}
	if got := queuedWithin(q, 5*rolloutBatch); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("after the batch, queued %v, want anxi", got)
	}
	ends = r.store().ReconcileStarts("anxi")
	ends(r.store().StatusChanges("anxi"))

	// A step that leaves a Deployment pending (portal's replica no longer updated) is
	// gathered again.
	_ = s.Update(rolledOutCopy(portal, "12"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("a roll-out step that leaves one Deployment pending queued %v at once", got)
	}
	if got := queuedWithin(q, 5*rolloutBatch); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("after the batch, queued %v, want anxi", got)
	}
	ends = r.store().ReconcileStarts("anxi")
	ends(r.store().StatusChanges("anxi"))

	// The last step comes while a reconcile runs that has already read the
	// Deployments: nothing until it ends, then at once.
	ends = r.store().ReconcileStarts("anxi")
	seen := r.store().StatusChanges("anxi")
	_ = s.Update(done(portal, "13"))
	if got := queued(q); len(got) != 0 {
		t.Errorf("the last step queued %v while a reconcile ran", got)
	}
	ends(seen)
	if got := queued(q); !slices.Equal(got, []string{"anxi"}) {
		t.Errorf("at the end of a reconcile that did not read the last step, queued %v, want anxi at once", got)
	}
}

// A Region whose roll-out settled goes before the Regions queued for a whole reconcile:
// in a province's roll-out it would otherwise wait behind all of them to say it is
// Ready.
func TestSettledRollOutGoesFirst(t *testing.T) {
	r := &RegionReconciler{}
	ch := r.store()
	q := priorityqueue.New[reconcile.Request]("settled-first")
	t.Cleanup(q.ShutDown)
	ch.UseQueue(q)
	s := storeOf(t, ch, &appsv1.Deployment{})
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi-fengcheng", Name: "portal", ResourceVersion: "10", Generation: 1,
		Labels: map[string]string{"platform.jiceng.io/region": "anxi"}}}
	r.store().Remember("Deployment", client.ObjectKey{Namespace: "anxi-fengcheng", Name: "portal"}, childstore.Applied{ResourceVersion: "10"})
	_ = s.Add(d)
	for _, name := range []string{"dehua", "yongchun"} {
		q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: name}})
	}
	done := rolledOutCopy(d, "11")
	done.Status.UpdatedReplicas = 1
	_ = s.Update(done)
	var order []string
	for range 3 {
		req, _ := q.Get()
		order = append(order, req.Name)
		q.Done(req)
	}
	if !slices.Equal(order, []string{"anxi", "dehua", "yongchun"}) {
		t.Errorf("taken from the queue in the order %v, want the settled Region anxi first", order)
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

// A DatabaseServer's Regions are looked at again when its spec changes or it becomes
// reachable or unreachable; its periodic check and resyncs pass them by.
func TestServerChangesRegionsActOn(t *testing.T) {
	ready := func(s metav1.ConditionStatus) *platformv1.DatabaseServer {
		ds := &platformv1.DatabaseServer{ObjectMeta: metav1.ObjectMeta{Name: "provincial-pg", Generation: 1, ResourceVersion: "5"}}
		ds.Status.Conditions = []metav1.Condition{{Type: ConditionReady, Status: s}}
		return ds
	}
	up, down := ready(metav1.ConditionTrue), ready(metav1.ConditionFalse)
	checked := up.DeepCopy()
	checked.ResourceVersion, checked.Status.LastReachedTime = "6", &metav1.Time{Time: time.Now()}
	edited := up.DeepCopy()
	edited.ResourceVersion, edited.Generation = "7", 2
	for _, c := range []struct {
		name     string
		old, new *platformv1.DatabaseServer
		want     bool
	}{
		{"resync", up, up, false},
		{"periodic check", up, checked, false},
		{"became reachable", down, up, true},
		{"became unreachable", up, down, true},
		{"spec changed", up, edited, true},
	} {
		if got := serverChanged().Update(event.UpdateEvent{ObjectOld: c.old, ObjectNew: c.new}); got != c.want {
			t.Errorf("%s: Regions looked at again = %v, want %v", c.name, got, c.want)
		}
	}
	if !serverChanged().Create(event.CreateEvent{Object: up}) {
		t.Error("a new DatabaseServer is not looked at by the Regions waiting for it")
	}
}

func TestOwnership(t *testing.T) {
	ours := map[string]string{naming.LabelManagedBy: naming.ManagedByValue, naming.LabelRegion: "anxi"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		wrote  bool
		ours   bool
		owner  string
	}{
		{"labelled for the Region", ours, true, true, ""},
		{"every label taken off, written by the operator", nil, true, true, ""},
		{"managed-by taken off, written by the operator", map[string]string{naming.LabelRegion: "anxi"}, true, true, ""},
		{"region taken off, written by the operator", map[string]string{naming.LabelManagedBy: naming.ManagedByValue}, true, true, ""},
		{"nobody's", nil, false, false, ""},
		{"labelled by hand for the Region, never written by the operator", map[string]string{naming.LabelRegion: "anxi"}, false, false, ""},
		{"another Region's", map[string]string{naming.LabelManagedBy: naming.ManagedByValue, naming.LabelRegion: "dehua"}, true, false, "dehua"},
	} {
		ok, owner := ownership(tc.labels, "anxi", tc.wrote)
		if ok != tc.ours || owner != tc.owner {
			t.Errorf("%s: ours %v owner %q, want %v %q", tc.name, ok, owner, tc.ours, tc.owner)
		}
	}
}

// An operator started again knows an object as applied from the object itself: the
// digest it carries, and nobody else's field manager on it but a status writer's.
// Anyone else's write, and the object is applied again.
func TestObjectSaysItWasApplied(t *testing.T) {
	ch, _ := testChildren(t, &RegionReconciler{})
	sum := digest([]byte(`{"kind":"ConfigMap"}`))
	cm := func(name string, managers ...metav1.ManagedFieldsEntry) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: name, ResourceVersion: "42",
			Labels:        map[string]string{naming.LabelRegion: "anxi"},
			Annotations:   map[string]string{naming.AnnotationApplied: hex.EncodeToString(sum[:])},
			ManagedFields: managers}}
	}
	own := metav1.ManagedFieldsEntry{Manager: "region-operator-platform", Operation: metav1.ManagedFieldsOperationApply}
	status := metav1.ManagedFieldsEntry{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status"}
	edit := metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate}
	for _, c := range []struct {
		obj     *corev1.ConfigMap
		applied bool
	}{
		{cm("as-applied", own), true},
		{cm("rolled-out", own, status), true},
		{cm("edited", own, edit), false},
	} {
		small, err := storeOf(t, ch, c.obj).Transformer()(c.obj)
		if err != nil {
			t.Fatal(err)
		}
		_ = storeOf(t, ch, c.obj).Add(small)
		m, ok := ch.Applied("ConfigMap", client.ObjectKeyFromObject(c.obj))
		if ok != c.applied || (ok && (m.Digest != sum || m.ResourceVersion != "42")) {
			t.Errorf("%s: remembered %v %+v, want %v", c.obj.Name, ok, m, c.applied)
		}
	}
	bare := cm("no-digest", own)
	bare.Annotations = nil
	_ = storeOf(t, ch, bare).Add(bare)
	if _, ok := ch.Applied("ConfigMap", client.ObjectKeyFromObject(bare)); ok {
		t.Error("an object without the digest was taken as applied")
	}
}
