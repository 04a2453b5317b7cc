// Package controllers holds the reconcilers of region-operator.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/childstore"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// conflictRetry is how often a Region stalled on a conflict looks again: the object in
// the way is not the operator's, so no watch event tells when someone removes it.
const conflictRetry = 2 * time.Minute

// staleRetry is how soon a Region whose status write found it changed since it was read
// is reconciled again: the watch is by then most likely past the change.
const staleRetry = 250 * time.Millisecond

// RegionReconciler makes the cluster match each Region.
type RegionReconciler struct {
	client.Client
	// APIReader reads from the API server directly: the Regions, whose spec the cache
	// does not hold, and objects not labelled as the operator's, which its store does
	// not hold.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  recorder.EventRecorder
	// Pools holds the connection pool of each DatabaseServer, shared with its reconciler.
	Pools *pgsql.Pools
	// MaxConcurrentReconciles bounds how many Regions are reconciled at once.
	MaxConcurrentReconciles int
	// SecretNamespace is the one namespace whose Secrets a DatabaseServer may name.
	SecretNamespace string
	// ClusterName identifies the cluster in the markers of what the operator makes on
	// database servers; when empty, the kube-system namespace's UID does.
	ClusterName string
	// StallAfter is how long a cause only a person can fix lasts before Stalled.
	StallAfter time.Duration
	clusterMu  sync.Mutex

	// rotated remembers, by Region UID, the last rotation token carried out.
	rotated sync.Map
	// renders keeps the last platform render of each Region.
	renders renderCache
	// databases remembers, by Region UID, the last database state found complete.
	databases sync.Map
	// heldRegions keeps, by Region name, the Region as the reconcile that held its status
	// read it (readRegion).
	heldRegions sync.Map
	heldCount   atomic.Int32
	// made remembers, by Region UID, the DatabaseServer this process found or made
	// something of the Region on, whether or not a status says so yet.
	made sync.Map
	// waitingSince remembers, by Region UID, when a Region began waiting only for its
	// Deployments to roll out (holdProgress), as a time.Time.
	waitingSince sync.Map
	// fresh remembers the namespaces the operator created, and when.
	fresh sync.Map
	// children keeps what the reconciles read of the objects the operator made, and
	// what it applied to them.
	children  *childstore.Store
	storeOnce sync.Once
	// inFlight holds a place for each request the reconciles have in flight (each).
	inFlight     chan struct{}
	inFlightOnce sync.Once
	// servers remembers, by Region name, the DatabaseServer the Region uses, so that a
	// change of a server reaches its Regions.
	servers sync.Map
}

// retryLimiter backs off a failing object from half a second up to thirty seconds, so a
// database server that comes back is noticed within half a minute.
func retryLimiter[T comparable]() workqueue.TypedRateLimiter[T] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[T](500*time.Millisecond, 30*time.Second)
}

// +kubebuilder:rbac:groups=platform.jiceng.io,resources=regions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=platform.jiceng.io,resources=regions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=platform.jiceng.io,resources=regions/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=configmaps;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=admin;view
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Region's namespaces, access policies and directory in line with
// its spec, or carries out its deletion policy when it is being deleted.
func (r *RegionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	began := time.Now()
	// The cache holds only the Regions' metadata: a province's Regions, each with its
	// hundreds of branches, would be most of the operator's memory.
	region, err := r.readRegion(ctx, req.NamespacedName)
	if err != nil {
		if apierrors.IsNotFound(err) {
			recordRegion(req.Name, nil)
			r.servers.Delete(req.Name)
			r.store().ForgetRegion(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if db := region.Spec.Database; db != nil {
		r.servers.Store(region.Name, db.ServerRef)
	} else {
		r.servers.Delete(region.Name)
	}
	if !region.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, region)
	}
	if !controllerutil.ContainsFinalizer(region, naming.Finalizer) {
		patch := client.MergeFrom(region.DeepCopy())
		controllerutil.AddFinalizer(region, naming.Finalizer)
		if err := r.Patch(ctx, region, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
	}

	s := newScope(region, r.places())
	s.started = began
	s.mark("read", began, time.Since(began))
	// Changes of status alone before now are seen by this reconcile; so are those
	// before it reads the Deployments, if it does.
	done := r.store().ReconcileStarts(region.Name)
	s.statusChangesSeen = r.store().StatusChanges(region.Name)
	defer func() { done(s.statusChangesSeen) }()
	sum := summary{suspended: true}
	if !region.Spec.Suspend {
		r.reconcileNormal(ctx, s)
		sum = s.summary()
	}
	written := time.Now()
	hold, err := r.writeStatus(ctx, region, sum)
	if err != nil {
		if apierrors.IsConflict(err) {
			// The Region moved on since it was read: read it again, without an error's
			// backoff and log line.
			return ctrl.Result{RequeueAfter: staleRetry}, nil
		}
		return ctrl.Result{}, err
	}
	step := "status"
	if hold > 0 {
		step = "status held"
	}
	s.mark(step, written, time.Since(written))
	if debug := log.FromContext(ctx).V(1); debug.Enabled() {
		debug.Info("reconciled", "created", region.CreationTimestamp.UTC().Format(time.RFC3339),
			"started", s.started.UTC().Format("15:04:05.000"), "steps", s.steps())
	}
	if hold > 0 {
		// The roll-out's end brings the Region back sooner, as a change of status; that
		// reconcile finds the Region as this one read it, when it has not changed since.
		r.keepHeld(region)
		return ctrl.Result{RequeueAfter: hold}, nil
	}
	errs := s.errs()
	if len(errs) > 0 && len(conflicts(errs)) == len(errs) {
		// Retrying sooner would not help: a person has to move the object out of the way.
		log.FromContext(ctx).Info("region stalled on conflicts", "conflicts", joinMessages(errs))
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	if len(errs) == 0 && region.Spec.Database != nil && !region.Spec.Suspend {
		// The database is checked again now and then: tables a township made since are
		// granted to the supervisor, drift made by hand is put back.
		return ctrl.Result{RequeueAfter: databaseRecheck}, nil
	}
	return ctrl.Result{}, errors.Join(errs...)
}

// places are the requests all reconciles may have in flight together: perReconcile for
// each reconcile that may run at once, and at least fanOut.
func (r *RegionReconciler) places() chan struct{} {
	r.inFlightOnce.Do(func() { r.inFlight = make(chan struct{}, max(fanOut, perReconcile*r.MaxConcurrentReconciles)) })
	return r.inFlight
}

// forgetHeld takes the Region heldRegions keeps by that name, if any, out of it.
func (r *RegionReconciler) forgetHeld(name string) (any, bool) {
	held, ok := r.heldRegions.LoadAndDelete(name)
	if ok {
		r.heldCount.Add(-1)
	}
	return held, ok
}

// keepHeld keeps a copy of the Region whose status this reconcile held, for the next
// (readRegion). At most maxHeldRegions are kept: a province's worth would be most of the
// operator's memory.
func (r *RegionReconciler) keepHeld(region *platformv1.Region) {
	if r.heldCount.Add(1) > maxHeldRegions {
		r.heldCount.Add(-1)
		return
	}
	if _, was := r.heldRegions.Swap(region.Name, region.DeepCopy()); was {
		r.heldCount.Add(-1)
	}
}

// maxHeldRegions bounds how many Regions heldRegions keeps at once.
const maxHeldRegions = 32

// cachedVersion is the Region's metadata as the cache holds it (nil when it holds none),
// and the options of a read no older than that. The API server answers that from its
// watch cache instead of reading and decoding the object from etcd, which for a Region
// with hundreds of branches is most of a read.
func (r *RegionReconciler) cachedVersion(ctx context.Context, key client.ObjectKey) (*metav1.PartialObjectMetadata, []client.GetOption) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(platformv1.GroupVersion.WithKind("Region"))
	if err := r.Get(ctx, key, m); err != nil || m.ResourceVersion == "" {
		return nil, nil
	}
	return m, []client.GetOption{&client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: m.ResourceVersion}}}
}

// readRegion reads the Region whole, at least as recent as the cache's version of it.
// A Region whose status the last reconcile held (holdProgress) is taken as that
// reconcile read it when the cache holds that very version still: a large object is
// then not read again for the reconcile the roll-out's end brings.
func (r *RegionReconciler) readRegion(ctx context.Context, key client.ObjectKey) (*platformv1.Region, error) {
	held, wasHeld := r.forgetHeld(key.Name)
	m, opts := r.cachedVersion(ctx, key)
	if wasHeld && m != nil {
		if rg := held.(*platformv1.Region); rg.UID == m.UID && rg.ResourceVersion == m.ResourceVersion {
			return rg, nil
		}
	}
	region := &platformv1.Region{}
	return region, r.APIReader.Get(ctx, key, region, opts...)
}

// reconcileNormal runs the namespaces first, then the other phases side by side (the
// platform's Deployments last). Each runs even when another failed for some townships:
// a phase skips only what has no namespace to go into.
func (r *RegionReconciler) reconcileNormal(ctx context.Context, s *scope) {
	s.timed("namespaces", func() { r.reconcileNamespaces(ctx, s) })
	// The database goes its own way beside the Kubernetes layers: it waits on another
	// server, and neither needs the other's result. The platform's pods take the
	// database Secrets as optional and pick them up when they come.
	var wg sync.WaitGroup
	wg.Go(func() { s.timed("database", func() { r.reconcileDatabase(ctx, s) }) })
	// Access, the directory and the platform need only the namespaces, and go side by
	// side. The platform's Deployments wait for access and the directory: their pods
	// start in namespaces already isolated, bound and limited, with the directory they
	// mount in place.
	var side sync.WaitGroup
	side.Go(func() { s.timed("access", func() { r.reconcileAccess(ctx, s) }) })
	side.Go(func() { s.timed("directory", func() { r.reconcileDirectory(ctx, s) }) })
	podsMayStart := make(chan struct{})
	go func() { side.Wait(); s.mark("pods may start", time.Now(), 0); close(podsMayStart) }()
	s.timed("platform", func() { r.reconcilePlatform(ctx, s, podsMayStart) })
	side.Wait()
	wg.Wait()
	s.timed("deployments", func() { r.followDeployments(ctx, s) })
}

// reconcileAccess is the access layer: RBAC, network isolation and quotas, side by side.
func (r *RegionReconciler) reconcileAccess(ctx context.Context, s *scope) {
	var wg sync.WaitGroup
	wg.Go(func() { r.reconcileRoleBindings(ctx, s) })
	wg.Go(func() { r.reconcileNetworkPolicies(ctx, s) })
	wg.Go(func() { r.reconcileQuotas(ctx, s) })
	wg.Wait()
}

// reportNew emits an event for each conflict, and for destruction to confirm, that the
// status before (the one a write replaced) did not report.
func (r *RegionReconciler) reportNew(region *platformv1.Region, before []metav1.Condition, sum summary) {
	reported := ""
	if c := meta.FindStatusCondition(before, ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		reported = c.Message
	}
	if len(sum.held) > 0 {
		msg := confirmationMessage(region, sum.held)
		if c := meta.FindStatusCondition(before, ConditionConfirmationRequired); c == nil || c.Message != msg {
			r.event(region, corev1.EventTypeWarning, ReasonConfirmationRequired, "Delete", "%s", msg)
		}
	}
	for _, err := range conflicts(layerErrors(sum.layerErrs)) {
		if !strings.Contains(reported, err.Error()) {
			r.event(region, corev1.EventTypeWarning, "Conflict", "Reconcile", "%s", err.Error())
		}
	}
}

// writeStatus writes the status once, and only when it changed, so a reconcile that
// finds nothing to do writes nothing. A status that would say only that the platform's
// Deployments are rolling out is held for a moment (hold says how long is left): see
// holdProgress.
func (r *RegionReconciler) writeStatus(ctx context.Context, region *platformv1.Region, sum summary) (hold time.Duration, err error) {
	sum.stallAfter = r.StallAfter
	now := metav1.Now()
	status := computeStatus(region, sum, now)
	ready := meta.IsStatusConditionTrue(status.Conditions, ConditionReady)
	recordRegion(region.Name, &regionFigures{ready: ready, townships: int(status.TownshipCount), branches: int(status.BranchCount),
		retained: len(status.Retained), pending: len(status.PendingDestruction)})
	hold = r.holdProgress(region, sum, status)
	if equality.Semantic.DeepEqual(status, region.Status) {
		return 0, nil
	}
	if hold > 0 {
		return hold, nil
	}
	for retried := false; ; retried = true {
		before := region.Status
		// The write holds only if the Region is still the version read: the read may be
		// a step behind this reconciler's own last write (the watch cache had not seen
		// it), and a transition computed from it would be told twice.
		patch := client.MergeFromWithOptions(region.DeepCopy(), client.MergeFromWithOptimisticLock{})
		region.Status = status
		err := r.Status().Patch(ctx, region, patch)
		if err == nil {
			// Told once the status says it, from the status it replaced: a failed
			// write tells it on the next reconcile.
			r.reportNew(region, before.Conditions, sum)
			for _, e := range transitionEvents(before.Conditions, status.Conditions, layers...) {
				r.event(region, e.eventType(), e.reason, "Reconcile", "%s", e.message)
			}
			return 0, nil
		}
		region.Status = before
		if !apierrors.IsConflict(err) || retried {
			return 0, fmt.Errorf("writing status: %w", err)
		}
		// Read the Region as it is now: when its spec is still the one this reconcile
		// worked from (someone changed only its metadata, or the read was behind), the
		// status is made again over the current one and written once more; otherwise
		// the conflict sends the Region round again.
		current := &platformv1.Region{}
		if gerr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(region), current); gerr != nil {
			return 0, fmt.Errorf("writing status: %w", errors.Join(err, gerr))
		}
		if current.UID != region.UID || current.Generation != region.Generation || !current.DeletionTimestamp.IsZero() {
			return 0, fmt.Errorf("writing status: %w", err)
		}
		*region = *current
		if status = computeStatus(region, sum, now); equality.Semantic.DeepEqual(status, region.Status) {
			return 0, nil
		}
	}
}

// progressHold is how long a Region whose one open matter is its Deployments rolling
// out goes without a status saying so. A Region with hundreds of branches is a large
// object for the API server to write: a roll-out done within the hold costs one status
// write (Ready) instead of two (Progressing, then Ready).
const progressHold = 2 * time.Second

// holdProgress says how much longer the status of a Region waiting only for its
// Deployments to roll out is held: the rest of progressHold from when it began waiting
// (spec changes meanwhile do not begin it again), or 0 to write it now. Only a Region
// whose status says nothing yet, or says it is Ready, is held: anything else to tell (a
// failing layer or a recovery from one, destruction to confirm, suspension or a
// resumption) is written at once, and so is what was held once the hold is over. It is
// asked at every status, so that a wait that ended without a write ends here too.
func (r *RegionReconciler) holdProgress(region *platformv1.Region, sum summary, status platformv1.RegionStatus) time.Duration {
	calm := (len(region.Status.Conditions) == 0 || meta.IsStatusConditionTrue(region.Status.Conditions, ConditionReady)) &&
		!meta.IsStatusConditionTrue(region.Status.Conditions, ConditionSuspended)
	onlyRollOut := calm && !sum.suspended && len(sum.held) == 0 && len(sum.waiting) == 1 && sum.waiting[ConditionPlatformReady] != ""
	// A rotation carried out is written at once: the token it carried out lives in the
	// status, and a process started again within the hold would rotate once more.
	onlyRollOut = onlyRollOut && rotationToken(status) == rotationToken(region.Status)
	for _, errs := range []map[string][]error{sum.layerErrs, sum.townshipErrs, sum.regionErrs} {
		for _, e := range errs {
			onlyRollOut = onlyRollOut && len(e) == 0
		}
	}
	if !onlyRollOut {
		r.waitingSince.Delete(region.UID)
		return 0
	}
	began, _ := r.waitingSince.LoadOrStore(region.UID, time.Now())
	return max(0, progressHold-time.Since(began.(time.Time)))
}

// rotationToken is the rotation token a status says was carried out.
func rotationToken(st platformv1.RegionStatus) string {
	if st.Database == nil {
		return ""
	}
	return st.Database.RotationToken
}

// reconcileDelete carries out the deletion policy and then lets the Region go. It does
// not depend on any other phase, so deletion finishes even when those are failing.
// Under Delete it waits for the confirmation annotation naming the Region; switching
// the policy to Retain lets the Region go at once, keeping everything.
func (r *RegionReconciler) reconcileDelete(ctx context.Context, region *platformv1.Region) error {
	if !controllerutil.ContainsFinalizer(region, naming.Finalizer) {
		return nil
	}
	if region.Spec.Suspend {
		r.event(region, corev1.EventTypeNormal, "DeletedWhileSuspended", "Delete",
			"the Region was suspended: its namespaces were left exactly as they were")
	} else {
		if region.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete &&
			!desired.ConfirmsRegion(region.Annotations[naming.AnnotationConfirmDestruction], region.Name) {
			return r.awaitConfirmation(ctx, region, []string{region.Name})
		}
		if err := errors.Join(r.retireDatabase(ctx, region), r.applyDeletionPolicy(ctx, region)); err != nil {
			r.event(region, corev1.EventTypeWarning, "DeletionBlocked", "Delete", "%s", err.Error())
			return err
		}
	}
	r.renders.forget(region.UID)
	r.forget(region)
	patch := client.MergeFrom(region.DeepCopy())
	controllerutil.RemoveFinalizer(region, naming.Finalizer)
	if err := r.Patch(ctx, region, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("removing finalizer: %w", err))
	}
	return nil
}

// forget drops what the reconciler remembers of a Region by its UID.
func (r *RegionReconciler) forget(region *platformv1.Region) {
	r.rotated.Delete(region.UID)
	r.databases.Delete(region.UID)
	r.made.Delete(region.UID)
	r.waitingSince.Delete(region.UID)
}

// awaitConfirmation holds a Region's deletion under Delete until the confirmation
// annotation names it: the status says what to write, and an event says it once.
func (r *RegionReconciler) awaitConfirmation(ctx context.Context, region *platformv1.Region, held []string) error {
	msg := confirmationMessage(region, held)
	c := meta.FindStatusCondition(region.Status.Conditions, ConditionConfirmationRequired)
	tell := c == nil || c.Status != metav1.ConditionTrue || c.Message != msg
	status := region.Status.DeepCopy()
	status.PendingDestruction = held
	if server := region.Spec.Database; r.madeOn(region) && (status.Database == nil || !status.Database.Provisioned || status.Database.Server != server.ServerRef) {
		// A status held back (holdProgress) may not say yet that the database was made;
		// this one, which may stand for as long as the confirmation takes, does.
		if status.Database == nil {
			status.Database = &platformv1.DatabaseStatus{}
		}
		status.Database.Server, status.Database.Name, status.Database.Provisioned = server.ServerRef, naming.Database(region.Name), true
	}
	recordRegion(region.Name, &regionFigures{townships: int(status.TownshipCount), branches: int(status.BranchCount),
		retained: len(status.Retained), pending: len(held)})
	now := metav1.Now()
	for _, c := range []metav1.Condition{
		{Type: ConditionConfirmationRequired, Status: metav1.ConditionTrue, Reason: ReasonConfirmationRequired, Message: msg},
		{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonConfirmationRequired, Message: msg},
		{Type: ConditionReconciling, Status: metav1.ConditionFalse, Reason: ReasonConfirmationRequired},
		{Type: ConditionStalled, Status: metav1.ConditionTrue, Reason: ReasonConfirmationRequired, Message: msg},
	} {
		c.ObservedGeneration, c.LastTransitionTime = region.Generation, now
		meta.SetStatusCondition(&status.Conditions, c)
	}
	if equality.Semantic.DeepEqual(*status, region.Status) {
		return nil
	}
	// As writeStatus: only over the version read, and told once written.
	patch := client.MergeFromWithOptions(region.DeepCopy(), client.MergeFromWithOptimisticLock{})
	region.Status = *status
	if err := r.Status().Patch(ctx, region, patch); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	if tell {
		r.event(region, corev1.EventTypeWarning, ReasonConfirmationRequired, "Delete", "%s", msg)
	}
	return nil
}

func (r *RegionReconciler) applyDeletionPolicy(ctx context.Context, region *platformv1.Region) error {
	list, err := r.regionNamespaces(ctx, region, "")
	if err != nil {
		return err
	}
	var errs []error
	for i := range list {
		ns := &list[i]
		if region.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete {
			// Spec change: the Region was deleted under deletionPolicy Delete, and the
			// deletion confirmed.
			errs = append(errs, r.deleteNamespace(ctx, region, ns.Name, "Region deleted"))
			continue
		}
		errs = append(errs, r.retainNamespace(ctx, region, ns, ""))
	}
	return errors.Join(errs...)
}

func (r *RegionReconciler) event(region *platformv1.Region, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(region, nil, eventType, reason, action, note, args...)
	}
}

// childTypes are the kinds the operator makes.
func childTypes() []client.Object {
	return []client.Object{
		&corev1.Namespace{}, &corev1.ConfigMap{}, &corev1.ResourceQuota{}, &corev1.LimitRange{},
		&rbacv1.RoleBinding{}, &networkingv1.NetworkPolicy{}, &corev1.Secret{},
		&appsv1.Deployment{}, &corev1.Service{},
	}
}

// CacheOptions are the manager's cache options for the operator. The cache holds the
// Regions' metadata and the DatabaseServers, without managedFields; the objects the
// operator makes are kept by the reconciler itself, in a far smaller form.
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
}

// RESTConfig is the operator's copy of cfg. It does not ask for compressed answers: the
// API server would gzip every watch stream and large answer, and the operator, which runs
// next to it, would spend as much again unpacking them, for a network that is not the
// bottleneck.
func RESTConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.DisableCompression = true
	return c
}

// ClientOptions are the manager's client options for the operator: reads of the kinds
// the operator makes go to the API server, so that no informer ever holds all of them.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: childTypes()}}
}

// intern returns the canonical copy of s.
func intern(s string) string { return unique.Make(s).Value() }

// rolloutBatch is how long a Deployment's status change waits before its Region is
// looked at: a roll-out changes many Deployments' status within moments, and one
// reconcile then sees them all.
const rolloutBatch = time.Second

// SetupWithManager registers the reconciler; a change to any child is mapped back to
// its Region through the region label, so drift is put back.
func (r *RegionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := client.NewWithWatch(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient()})
	if err != nil {
		return err
	}
	r.children, err = newStore(c, r.Scheme)
	if err != nil {
		return err
	}
	// A replica standing by for leadership keeps the store synced: on taking over it
	// lists nothing, only reconciles.
	if err := mgr.Add(storeWatch{r.children}); err != nil {
		return err
	}
	// Ready once the store holds what the operator made: a replica that could take over
	// in moments, not after listing a province.
	if err := mgr.AddReadyzCheck("store", func(*http.Request) error {
		if !r.children.Synced() {
			return errors.New("the store of the objects the operator made is still listing them")
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&platformv1.Region{}, builder.OnlyMetadata, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, finalizerRemoved(), resync()))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles), RateLimiter: retryLimiter[reconcile.Request]()}).
		Named("region").
		WatchesRawSource(r.children).
		// A DatabaseServer that changes (becomes reachable, say) is looked at again by
		// every Region on it.
		Watches(&platformv1.DatabaseServer{}, handler.EnqueueRequestsFromMapFunc(r.regionsOnServer), builder.WithPredicates(serverChanged())).
		Complete(r)
}

// storeWatch fills the store from the manager's start, leader or not.
type storeWatch struct{ s *childstore.Store }

func (w storeWatch) Start(ctx context.Context) error {
	w.s.Watch(ctx)
	<-ctx.Done()
	return nil
}

func (storeWatch) NeedLeaderElection() bool { return false }

// store is where the reconciler keeps what it knows of the objects it made. A
// reconciler that runs outside a manager has one that no watch fills.
func (r *RegionReconciler) store() *childstore.Store {
	r.storeOnce.Do(func() {
		if r.children == nil {
			r.children, _ = newStore(nil, NewScheme())
		}
	})
	return r.children
}

// reader reads the objects the operator made: from the store when its watches run,
// else through the reconciler's client.
func (r *RegionReconciler) reader() client.Reader {
	if s := r.store(); s.Running() {
		return s
	}
	return r.Client
}

// isResync says whether an update is the informer's periodic resync: the same version
// delivered again.
func isResync(e event.UpdateEvent) bool {
	return e.ObjectOld.GetResourceVersion() == e.ObjectNew.GetResourceVersion()
}

// finalizerRemoved lets through a Region whose finalizer someone took off, so that it is
// put back before a deletion could skip the deletion policy.
func finalizerRemoved() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return controllerutil.ContainsFinalizer(e.ObjectOld, naming.Finalizer) && !controllerutil.ContainsFinalizer(e.ObjectNew, naming.Finalizer)
		},
	}
}

// resync lets the periodic resync of a Region through, so that every Region is looked
// at again each sync period even when nothing told of a change.
func resync() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		UpdateFunc:  isResync,
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// serverChanged lets through the changes of a DatabaseServer that its Regions act on:
// its spec, and whether it is reachable. Its periodic check (which moves
// lastReachedTime) and the informer's resync would otherwise reconcile every Region on
// the server each time.
func serverChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, ok1 := e.ObjectOld.(*platformv1.DatabaseServer)
			cur, ok2 := e.ObjectNew.(*platformv1.DatabaseServer)
			if !ok1 || !ok2 {
				return true
			}
			return old.Generation != cur.Generation ||
				meta.IsStatusConditionTrue(old.Status.Conditions, ConditionReady) != meta.IsStatusConditionTrue(cur.Status.Conditions, ConditionReady)
		},
	}
}

// NewScheme is the scheme the operator's clients use: built-in kinds and the API of
// region-operator.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(platformv1.AddToScheme(s))
	return s
}

// regionsOnServer names the Regions on a DatabaseServer, as their last reconcile found
// them: every Region is reconciled when the operator starts, so none is missed.
func (r *RegionReconciler) regionsOnServer(_ context.Context, obj client.Object) []reconcile.Request {
	var out []reconcile.Request
	r.servers.Range(func(name, server any) bool {
		if server == obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: name.(string)}})
		}
		return true
	})
	return out
}

// DefaultSecretNamespace is the operator's namespace when it runs outside a pod.
const DefaultSecretNamespace = "region-operator-system"

// cluster is the identity of the cluster the operator runs in: ClusterName, else the
// UID of the kube-system namespace, which lives as long as the cluster.
func (r *RegionReconciler) cluster(ctx context.Context) (string, error) {
	r.clusterMu.Lock()
	defer r.clusterMu.Unlock()
	if r.ClusterName != "" {
		return r.ClusterName, nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, ns); err != nil {
		return "", fmt.Errorf("reading the cluster's identity (namespace kube-system): %w", err)
	}
	r.ClusterName = string(ns.UID)
	return r.ClusterName, nil
}

// Options configure the operator's reconcilers.
type Options struct {
	// MaxConcurrentReconciles bounds how many Regions are reconciled at once.
	MaxConcurrentReconciles int
	// SecretNamespace is the one namespace whose Secrets a DatabaseServer may name: the
	// operator's own.
	SecretNamespace string
	// ClusterName names the cluster in database markers; empty means kube-system's UID.
	ClusterName string
	// StallAfter is how long a cause only a person can fix lasts before a Region or
	// DatabaseServer says Stalled; zero means DefaultStallAfter.
	StallAfter time.Duration
}

// Setup registers the operator's reconcilers with a manager. They share one set of
// connection pools, which Setup returns.
func Setup(mgr ctrl.Manager, opts Options) (*pgsql.Pools, error) {
	pools := pgsql.NewPools()
	if err := (&RegionReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder(naming.FieldManager),
		Pools:                   pools,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		SecretNamespace:         opts.SecretNamespace,
		ClusterName:             opts.ClusterName,
		StallAfter:              opts.StallAfter,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&DatabaseServerReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Pools: pools, SecretNamespace: opts.SecretNamespace,
		Recorder: mgr.GetEventRecorder(naming.FieldManager), StallAfter: opts.StallAfter,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return pools, nil
}
