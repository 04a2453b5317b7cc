package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/render"
)

// children keeps, of every object the operator made, the little its reconciles read:
// name, version, generation, the labels they read (all of them and the annotations for
// namespaces and Deployments), whether it is being deleted, and per kind a few fields
// (a Deployment's replicas and roll-out, a RoleBinding's roleRef, the deny-all
// NetworkPolicy's ingress rules, a credential Secret's user and password). A province
// has hundreds of thousands of such objects, and an informer's cache would hold each
// whole. A watch of each kind, limited to the operator's label, keeps it current and
// tells the Region of every change someone else made; it is the controller's source
// for the child kinds and a client.Reader for them.
type children struct {
	c       client.WithWatch
	stores  map[reflect.Type]*childStore // by object type and by list type
	byKind  map[string]*childStore
	all     []*childStore
	started bool

	mu       sync.Mutex
	queue    workqueue.TypedRateLimitingInterface[reconcile.Request]
	unsynced int
	synced   chan struct{}
	// rollouts counts, by Region, the changes of status alone (a roll-out's steps);
	// followed is the count the Region's last reconcile had seen. gathering marks the
	// Regions whose changes are being gathered, reconciling those being reconciled.
	rollouts, followed     map[string]uint64
	gathering, reconciling map[string]bool
}

// childKind is one kind the operator makes, as the store knows it.
type childKind struct {
	kind     string
	resource schema.GroupResource
	object   func() client.Object
	list     func() client.ObjectList
	// keep takes from an object what the reconciles read beyond its metadata; restore
	// puts it back.
	keep    func(client.Object) any
	restore func(client.Object, any)
	// gathersStatus: a change of status alone waits rolloutBatch before its Region is
	// looked at, so that a roll-out's burst of them makes one reconcile.
	gathersStatus bool
	// byRegion: the kind's objects are listed by Region, so the store indexes them.
	byRegion bool
	// labels are the labels kept, when not all of them and the annotations are: those
	// the reconciles read. Fewer labels make fewer distinct sets to keep.
	labels []string
}

// record is what the store keeps of one object: as the API server last reported it, and
// what the operator last applied to it.
type record struct {
	resourceVersion string
	generation      int64
	// meta is the object's labels and annotations; region its Region's name.
	meta     unique.Handle[string]
	region   unique.Handle[string]
	deleting *metav1.Time
	extra    any
	applied  appliedMemo
}

type childStore struct {
	childKind
	owner *children

	mu sync.RWMutex
	// records are pointers: a map's slots are kept at twice the entries at times, and
	// a pointer is small.
	records map[string]*record
	// pending holds what the operator applied to objects the watch has not brought yet;
	// inFlight the objects it is applying at this moment.
	pending  map[string]appliedMemo
	inFlight map[string]int
	// byRegion holds the keys of each Region's objects.
	byRegion map[string]map[string]struct{}
	synced   bool
}

// deploymentState is what readiness reads of a Deployment.
type deploymentState struct {
	replicas           *int32
	observedGeneration int64
	updated, available int32
	// availableCondition is the status of the Available condition, when there is one.
	availableCondition corev1.ConditionStatus
}

func childKinds(scheme *runtime.Scheme) ([]childKind, error) {
	var kinds []childKind
	for _, obj := range childTypes() {
		t := reflect.TypeOf(obj).Elem()
		k := childKind{object: func() client.Object { return reflect.New(t).Interface().(client.Object) }}
		// A namespace's labels say its township, code and whether it is retained; a
		// Deployment's labels and annotations tell drift from a roll-out. Of the others
		// the reconciles read whose they are and which module they belong to.
		switch obj.(type) {
		case *corev1.Namespace, *appsv1.Deployment:
		default:
			k.labels = []string{naming.LabelManagedBy, naming.LabelRegion, render.LabelModule}
		}
		switch obj.(type) {
		case *corev1.Namespace, *corev1.Service, *corev1.ConfigMap:
			k.byRegion = true
		case *rbacv1.RoleBinding:
			// Bindings refer to a handful of roles: one copy of each reference.
			k.keep = func(o client.Object) any { return unique.Make(o.(*rbacv1.RoleBinding).RoleRef) }
			k.restore = func(o client.Object, v any) {
				o.(*rbacv1.RoleBinding).RoleRef = v.(unique.Handle[rbacv1.RoleRef]).Value()
			}
		case *networkingv1.NetworkPolicy:
			// Ingress rules added by hand to the deny-all policy are the operator's to clear;
			// those of its other policies are what it applied.
			k.keep = func(o client.Object) any {
				if in := o.(*networkingv1.NetworkPolicy).Spec.Ingress; len(in) > 0 && o.GetName() == naming.NetworkPolicyDefaultDeny {
					return in
				}
				return nil
			}
			k.restore = func(o client.Object, v any) {
				o.(*networkingv1.NetworkPolicy).Spec.Ingress, _ = v.([]networkingv1.NetworkPolicyIngressRule)
			}
		case *corev1.Secret:
			// The credential's user and password, and the annotations that say which
			// rotation made the password and which password its role has.
			k.keep = func(o client.Object) any {
				kept := secretState{data: map[string][]byte{}}
				for _, key := range []string{"user", "password"} {
					if v, ok := o.(*corev1.Secret).Data[key]; ok {
						kept.data[key] = v
					}
				}
				kept.rotation, kept.passwordSet = o.GetAnnotations()[naming.AnnotationRotation], o.GetAnnotations()[naming.AnnotationPasswordSet]
				return kept
			}
			k.restore = func(o client.Object, v any) {
				kept := v.(secretState)
				o.(*corev1.Secret).Data = kept.data
				a := o.GetAnnotations()
				if a == nil {
					a = map[string]string{}
				}
				if kept.rotation != "" {
					a[naming.AnnotationRotation] = kept.rotation
				}
				if kept.passwordSet != "" {
					a[naming.AnnotationPasswordSet] = kept.passwordSet
				}
				o.SetAnnotations(a)
			}
		case *appsv1.Deployment:
			k.gathersStatus, k.byRegion = true, true
			k.keep = func(o client.Object) any {
				d := o.(*appsv1.Deployment)
				s := deploymentState{replicas: d.Spec.Replicas, observedGeneration: d.Status.ObservedGeneration,
					updated: d.Status.UpdatedReplicas, available: d.Status.AvailableReplicas}
				for _, c := range d.Status.Conditions {
					if c.Type == appsv1.DeploymentAvailable {
						s.availableCondition = corev1.ConditionStatus(intern(string(c.Status)))
					}
				}
				return s
			}
			k.restore = func(o client.Object, v any) {
				d, s := o.(*appsv1.Deployment), v.(deploymentState)
				d.Spec.Replicas = s.replicas
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: s.observedGeneration, UpdatedReplicas: s.updated, AvailableReplicas: s.available}
				if s.availableCondition != "" {
					d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: s.availableCondition}}
				}
			}
		}
		kinds = append(kinds, k)
	}
	for i := range kinds {
		k := &kinds[i]
		gvk, err := apiutil.GVKForObject(k.object(), scheme)
		if err != nil {
			return nil, err
		}
		listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
		if _, err := scheme.New(listGVK); err != nil {
			return nil, err
		}
		k.kind = gvk.Kind
		k.list = func() client.ObjectList {
			l, _ := scheme.New(listGVK)
			return l.(client.ObjectList)
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		k.resource = plural.GroupResource()
	}
	return kinds, nil
}

func newChildren(c client.WithWatch, scheme *runtime.Scheme) (*children, error) {
	kinds, err := childKinds(scheme)
	if err != nil {
		return nil, err
	}
	ch := &children{c: c, stores: map[reflect.Type]*childStore{}, byKind: map[string]*childStore{}, synced: make(chan struct{}),
		rollouts: map[string]uint64{}, followed: map[string]uint64{}, gathering: map[string]bool{}, reconciling: map[string]bool{}}
	for _, k := range kinds {
		s := &childStore{childKind: k, owner: ch, records: map[string]*record{}, pending: map[string]appliedMemo{}, inFlight: map[string]int{}, byRegion: map[string]map[string]struct{}{}}
		ch.stores[reflect.TypeOf(k.object())] = s
		ch.stores[reflect.TypeOf(k.list())] = s
		ch.byKind[k.kind] = s
		ch.all = append(ch.all, s)
	}
	ch.unsynced = len(ch.all)
	return ch, nil
}

// Start watches every child kind, labelled as the operator's, into the store; a change
// reaches the queue as a request for its Region.
func (ch *children) Start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	ch.mu.Lock()
	ch.queue, ch.started = q, true
	ch.mu.Unlock()
	sel := labels.SelectorFromSet(labels.Set{naming.LabelManagedBy: naming.ManagedByValue}).String()
	for _, s := range ch.all {
		lw := &toolscache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = sel
				list := s.list()
				return list, ch.c.List(ctx, list, &client.ListOptions{Raw: &o})
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.LabelSelector = sel
				return ch.c.Watch(ctx, s.list(), &client.ListOptions{Raw: &o})
			},
		}
		rf := toolscache.NewReflectorWithOptions(lw, s.object(), s, toolscache.ReflectorOptions{Name: "children/" + s.kind})
		go rf.RunWithContext(ctx)
	}
	return nil
}

// WaitForSync returns once every kind was listed.
func (ch *children) WaitForSync(ctx context.Context) error {
	select {
	case <-ch.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ch *children) enqueue(region string) {
	ch.mu.Lock()
	q := ch.queue
	ch.mu.Unlock()
	if region == "" || q == nil {
		return
	}
	q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: region}})
}

func (ch *children) store(obj any) (*childStore, error) {
	s, ok := ch.stores[reflect.TypeOf(obj)]
	if !ok {
		return nil, fmt.Errorf("%T is not a kind the operator makes", obj)
	}
	return s, nil
}

// Get fills obj with what the store keeps of the object named by key.
func (ch *children) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s, err := ch.store(obj)
	if err != nil {
		return err
	}
	s.mu.RLock()
	p, ok := s.records[key.String()]
	var rec record
	if ok {
		rec = *p
	}
	s.mu.RUnlock()
	if !ok {
		return apierrors.NewNotFound(s.resource, key.Name)
	}
	s.fill(obj, key, rec)
	return nil
}

// List lists the kept objects that match the options' labels and namespace. A
// selector that names a Region looks at that Region's objects only.
func (ch *children) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	s, err := ch.store(list)
	if err != nil {
		return err
	}
	o := (&client.ListOptions{}).ApplyOptions(opts)
	if o.FieldSelector != nil && !o.FieldSelector.Empty() {
		return fmt.Errorf("the operator's store of %ss has no field selectors", s.kind)
	}
	sel := o.LabelSelector
	if sel == nil {
		sel = labels.Everything()
	}
	s.mu.RLock()
	var keys []string
	if region, ok := sel.RequiresExactMatch(naming.LabelRegion); ok && s.childKind.byRegion {
		for k := range s.byRegion[region] {
			keys = append(keys, k)
		}
	} else {
		for k := range s.records {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	recs := make([]record, len(keys))
	for i, k := range keys {
		recs[i] = *s.records[k]
	}
	s.mu.RUnlock()
	var objs []runtime.Object
	for i, k := range keys {
		namespace, name, err := toolscache.SplitMetaNamespaceKey(k)
		if err != nil {
			return err
		}
		if o.Namespace != "" && namespace != o.Namespace {
			continue
		}
		if l, _ := decodeMeta(recs[i].meta); !sel.Matches(labels.Set(l)) {
			continue
		}
		obj := s.object()
		s.fill(obj, client.ObjectKey{Namespace: namespace, Name: name}, recs[i])
		objs = append(objs, obj)
	}
	return meta.SetList(list, objs)
}

// fill makes obj the object the record describes.
func (s *childStore) fill(obj client.Object, key client.ObjectKey, rec record) {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	obj.SetResourceVersion(rec.resourceVersion)
	obj.SetGeneration(rec.generation)
	l, a := decodeMeta(rec.meta)
	obj.SetLabels(l)
	obj.SetAnnotations(a)
	obj.SetDeletionTimestamp(rec.deleting)
	if s.restore != nil && rec.extra != nil {
		s.restore(obj, rec.extra)
	}
}

// metaOf is an object's labels and annotations, one copy of each distinct set shared
// by all the objects that carry it.
func metaOf(obj metav1.Object) unique.Handle[string] {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	if len(l) == 0 && len(a) == 0 {
		return unique.Make("")
	}
	data, _ := json.Marshal([2]map[string]string{l, a}) // keys sorted: one encoding per set
	return unique.Make(string(data))
}

// metaOf is what the store keeps of an object's labels and annotations.
func (k *childKind) metaOf(obj metav1.Object) unique.Handle[string] {
	if k.labels == nil {
		return metaOf(obj)
	}
	kept := map[string]string{}
	for _, key := range k.labels {
		if v, ok := obj.GetLabels()[key]; ok {
			kept[key] = v
		}
	}
	return metaOf(&metav1.ObjectMeta{Labels: kept})
}

func decodeMeta(h unique.Handle[string]) (labels, annotations map[string]string) {
	if h.Value() == "" {
		return nil, nil
	}
	var m [2]map[string]string
	_ = json.Unmarshal([]byte(h.Value()), &m)
	return m[0], m[1]
}

// memo returns what the operator last applied to an object.
func (ch *children) memo(kind string, key client.ObjectKey) (appliedMemo, bool) {
	s := ch.byKind[kind]
	if s == nil {
		return appliedMemo{}, false
	}
	k := key.String()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if rec, ok := s.records[k]; ok && rec.applied.resourceVersion != "" {
		return rec.applied, true
	}
	m, ok := s.pending[k]
	return m, ok
}

// applying marks an object as being applied until the returned func is called: the
// watch may bring its creation before the apply's answer does.
func (ch *children) applying(kind string, key client.ObjectKey) (done func()) {
	s := ch.byKind[kind]
	if s == nil {
		return func() {}
	}
	k := key.String()
	s.mu.Lock()
	s.inFlight[k]++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.inFlight[k]--; s.inFlight[k] <= 0 {
			delete(s.inFlight, k)
		}
		s.mu.Unlock()
	}
}

// remember keeps what the operator applied to an object; a zero memo forgets it.
func (ch *children) remember(kind string, key client.ObjectKey, m appliedMemo) {
	s := ch.byKind[kind]
	if s == nil {
		return
	}
	k := key.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.records[k]; ok {
		rec.applied = m
		return
	}
	if m == (appliedMemo{}) {
		delete(s.pending, k)
		return
	}
	s.pending[k] = m
}

// Add, Update, Delete, Replace and Resync make the store what a Reflector fills.

func (s *childStore) Add(obj any) error    { s.observe(obj); return nil }
func (s *childStore) Update(obj any) error { s.observe(obj); return nil }
func (s *childStore) Resync() error        { return nil }

func (s *childStore) Delete(obj any) error {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if o, ok := obj.(client.Object); ok {
		s.forget(client.ObjectKeyFromObject(o).String())
	}
	return nil
}

// Replace takes a fresh list: what is in it is observed, what is not was deleted.
func (s *childStore) Replace(list []any, _ string) error {
	seen := make(map[string]bool, len(list))
	for _, obj := range list {
		if o, ok := obj.(client.Object); ok {
			seen[client.ObjectKeyFromObject(o).String()] = true
			s.observe(o)
		}
	}
	s.mu.Lock()
	var gone []string
	for k := range s.records {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	first := !s.synced
	s.synced = true
	s.mu.Unlock()
	for _, k := range gone {
		s.forget(k)
	}
	if first {
		s.owner.mu.Lock()
		if s.owner.unsynced--; s.owner.unsynced == 0 {
			close(s.owner.synced)
		}
		s.owner.mu.Unlock()
	}
	return nil
}

// observe keeps the new state of an object and tells its Region, unless the change is
// the operator's own apply or nothing changed at all.
func (s *childStore) observe(obj any) {
	o, ok := obj.(client.Object)
	if !ok {
		return
	}
	key := client.ObjectKeyFromObject(o)
	rec := record{
		resourceVersion: o.GetResourceVersion(), generation: o.GetGeneration(),
		meta: s.metaOf(o), region: unique.Make(o.GetLabels()[naming.LabelRegion]), deleting: o.GetDeletionTimestamp(),
	}
	if s.keep != nil {
		rec.extra = s.keep(o)
	}
	region, k := o.GetLabels()[naming.LabelRegion], key.String()
	s.mu.Lock()
	var old record
	p, had := s.records[k]
	if had {
		old = *p
		rec.applied = old.applied
	} else if m, ok := s.pending[k]; ok {
		rec.applied = m
		delete(s.pending, k)
	}
	echo, applying := rec.applied.resourceVersion == rec.resourceVersion, s.inFlight[k] > 0
	if echo {
		rec.resourceVersion = rec.applied.resourceVersion // one copy
	}
	s.records[k] = &rec // an existing entry keeps its key: one copy of each name
	oldRegion := ""
	if had {
		oldRegion = old.region.Value()
	}
	if !had || oldRegion != region {
		s.unindex(oldRegion, k)
		s.index(region, k)
	}
	s.mu.Unlock()

	switch {
	case had && old.resourceVersion == rec.resourceVersion:
		return // listed again, unchanged
	case echo:
		return // the operator's own apply
	case !had && applying:
		return // the watch brought the creation before the apply's answer did
	}
	if had && oldRegion != region {
		s.owner.enqueue(oldRegion)
	}
	if had && old.generation == rec.generation && old.meta == rec.meta && s.gathersStatus {
		s.owner.rolledOn(region)
		return
	}
	s.owner.enqueue(region)
}

// rolledOn notes a change of status alone. After a moment, in which a roll-out's other
// steps come too, the Region is queued, unless a reconcile has read its Deployments
// since the last of those changes: it wrote what they say. While a reconcile of the
// Region runs, its end decides.
func (ch *children) rolledOn(region string) {
	if region == "" {
		return
	}
	ch.mu.Lock()
	ch.rollouts[region]++
	ch.mu.Unlock()
	ch.gather(region)
}

// gather queues the Region after a moment if by then a change of status alone is still
// unseen and no reconcile of it runs.
func (ch *children) gather(region string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.gathering[region] || ch.reconciling[region] {
		return
	}
	ch.gathering[region] = true
	time.AfterFunc(rolloutBatch, func() {
		ch.mu.Lock()
		delete(ch.gathering, region)
		unseen := ch.rollouts[region] != ch.followed[region] && !ch.reconciling[region]
		ch.mu.Unlock()
		if unseen {
			ch.enqueue(region)
		}
	})
}

// rolloutsNow is how many changes of status alone the Region's objects have had.
func (ch *children) rolloutsNow(region string) uint64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.rollouts[region]
}

// reconcileStarts marks a reconcile of the Region as running. The func it returns ends
// it with the count of changes it saw (rolloutsNow when it read the Deployments): those
// after are gathered into the next reconcile.
func (ch *children) reconcileStarts(region string) (ends func(seen uint64)) {
	ch.mu.Lock()
	ch.reconciling[region] = true
	ch.mu.Unlock()
	return func(seen uint64) {
		ch.mu.Lock()
		delete(ch.reconciling, region)
		ch.followed[region] = seen
		unseen := ch.rollouts[region] != seen
		ch.mu.Unlock()
		if unseen {
			ch.gather(region)
		}
	}
}

// forgetRegion drops what the store counts of a Region that is gone.
func (ch *children) forgetRegion(region string) {
	ch.mu.Lock()
	delete(ch.rollouts, region)
	delete(ch.followed, region)
	ch.mu.Unlock()
}

// forget drops an object that is gone (or no longer labelled as the operator's) and
// tells its Region.
func (s *childStore) forget(key string) {
	s.mu.Lock()
	p, had := s.records[key]
	delete(s.records, key)
	delete(s.pending, key)
	region := ""
	if had {
		region = p.region.Value()
		s.unindex(region, key)
	}
	s.mu.Unlock()
	if had {
		s.owner.enqueue(region)
	}
}

// index and unindex keep byRegion; the caller holds s.mu.
func (s *childStore) index(region, key string) {
	if region == "" || !s.childKind.byRegion {
		return
	}
	keys := s.byRegion[region]
	if keys == nil {
		keys = map[string]struct{}{}
		s.byRegion[region] = keys
	}
	keys[key] = struct{}{}
}

func (s *childStore) unindex(region, key string) {
	if keys := s.byRegion[region]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(s.byRegion, region)
		}
	}
}

// running says whether the watches fill the store.
func (ch *children) running() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.started
}

// secretState is what the store keeps of a credential Secret.
type secretState struct {
	data                  map[string][]byte
	rotation, passwordSet string
}
