// Package childstore keeps, of every object the operator made, the little its
// reconciles read, and tells each Region of every change someone else made to its
// objects.
//
// A province has hundreds of thousands of such objects, and an informer's cache would
// hold each whole. The store keeps per object its name, version, generation, the labels
// (and annotations) its Kind says, whether it is being deleted, and what the Kind's Keep
// takes; objects with the same labels share one copy of them. A watch per kind, limited
// by a label selector, keeps it current: the reflector lists in pages, and its
// transform turns every object, as it arrives, into the few words the store keeps of
// it, so an initial list (streamed or paged) never holds the objects themselves, not
// even shrunk: a restart's lists of every kind at once weigh little more than the
// store. Readers get copies, never the store's own maps and slices.
//
// The store is a controller-runtime source (changes queue their Region), a
// client.Reader for its kinds, and the memory of what the operator applied to each
// object (Applied, Remember, Applying). Changes of status alone (a Deployment rolling
// out) are batched: the Region is queued once per batch, and not at all when a
// reconcile read them (StatusChanges, ReconcileStarts).
package childstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unique"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/consistencydetector"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Kind is one kind the store keeps.
type Kind struct {
	// Type is an empty object of the kind.
	Type client.Object
	// Keep takes from an object what readers need beyond its metadata; Restore puts a
	// copy of it into an object handed out (never the kept value itself).
	Keep    func(client.Object) any
	Restore func(client.Object, any)
	// BatchStatus: a change of status alone (same generation, labels and annotations)
	// waits Options.Batch before its Region is queued, so that a roll-out's burst of
	// them makes one reconcile.
	BatchStatus bool
	// Settled says of an object of a BatchStatus kind (as the store hands it out)
	// that its status has arrived where it is going (a roll-out done). When a change
	// of status alone settles an object and leaves every object of the kind in its
	// Region settled, the Region is queued at once instead of after the batch:
	// nothing more is coming. It needs BatchStatus and ByRegion.
	Settled func(client.Object) bool
	// ByRegion: the kind's objects are listed by Region, so the store indexes them.
	ByRegion bool
	// Labels are the labels kept; nil keeps all labels and the annotations.
	Labels []string
}

// Options say what the store watches and how it tells Regions.
type Options struct {
	// Selector limits the watches to the operator's objects.
	Selector labels.Selector
	// RegionLabel names an object's Region.
	RegionLabel string
	// Batch is how long a change of status alone waits before its Region is queued.
	Batch time.Duration
	// PageSize is the size of the pages the watches list in (initial lists and
	// relists); zero means 500.
	PageSize int64
	// AppliedAnnotation names the annotation in which the operator writes, on each
	// object it applies, the hex digest of what it applied; OwnManager says which field
	// managers are the operator's. An object the store first meets (after a restart)
	// whose annotation is set, and on which no other manager owns anything but status,
	// is remembered as applied with that digest, at its current version.
	AppliedAnnotation string
	OwnManager        func(manager string) bool
}

// Applied is what the operator last applied to an object: a digest of the applied
// configuration and the version the apply made; for a kind whose status moves on by
// itself, also that version's generation and labels and annotations (MetaOf).
type Applied struct {
	Digest          [16]byte
	ResourceVersion string
	Generation      int64
	Meta            unique.Handle[string]
}

// record is what the store keeps of one object: as the API server last reported it,
// and what the operator last applied to it.
type record struct {
	resourceVersion string
	generation      int64
	// meta is the object's kept labels and annotations; region its Region's name.
	meta     unique.Handle[string]
	region   unique.Handle[string]
	deleting *metav1.Time
	extra    any
	applied  Applied
}

// Store is the store of every kind; see the package comment.
type Store struct {
	c      client.WithWatch
	opts   Options
	byType map[reflect.Type]*KindStore // by object type and by list type
	byKind map[string]*KindStore
	all    []*KindStore

	mu      sync.Mutex
	started bool
	// standingBy: the watches run and no queue is given yet (Watch before Start).
	standingBy atomic.Bool
	queue      workqueue.TypedRateLimitingInterface[reconcile.Request]
	unsynced   int
	synced     chan struct{}
	// statusChanges counts, by Region, the changes of status alone its objects had;
	// seen is the count the Region's last reconcile read. batching marks the Regions
	// whose changes wait for the batch to end, reconciling those being reconciled,
	// settled those whose last change left every object settled (Kind.Settled).
	statusChanges, seen            map[string]uint64
	batching, reconciling, settled map[string]bool
}

// KindStore keeps the objects of one kind; a Reflector fills it (Add, Update, Delete,
// Replace), with objects or with what its Transformer made of them.
type KindStore struct {
	Kind
	kind     string
	resource schema.GroupResource
	object   func() client.Object
	list     func() client.ObjectList
	owner    *Store

	mu sync.RWMutex
	// records are pointers: a map's slots are kept at twice the entries at times, and
	// a pointer is small.
	records map[string]*record
	// pending holds what the operator applied to objects the watch has not brought yet;
	// inFlight the objects it is applying at this moment.
	pending  map[string]Applied
	inFlight map[string]int
	// byRegion holds the keys of each Region's objects.
	byRegion map[string]map[string]struct{}
	synced   bool
}

// A reflector gives a TransformingStore's transform to the store it streams an initial
// list into.
var _ toolscache.TransformingStore = &KindStore{}

// New makes a store of kinds whose watches go through c; nothing is watched until
// Start. A store with a nil client is only filled by hand (tests).
func New(c client.WithWatch, scheme *runtime.Scheme, kinds []Kind, opts Options) (*Store, error) {
	if opts.Selector == nil {
		opts.Selector = labels.Everything()
	}
	if opts.PageSize == 0 {
		opts.PageSize = 500
	}
	s := &Store{c: c, opts: opts, byType: map[reflect.Type]*KindStore{}, byKind: map[string]*KindStore{}, synced: make(chan struct{}),
		statusChanges: map[string]uint64{}, seen: map[string]uint64{}, batching: map[string]bool{}, reconciling: map[string]bool{}, settled: map[string]bool{}}
	for _, k := range kinds {
		if k.Settled != nil && (!k.BatchStatus || !k.ByRegion) {
			return nil, fmt.Errorf("%T: Settled needs BatchStatus and ByRegion", k.Type)
		}
		t := reflect.TypeOf(k.Type).Elem()
		gvk, err := apiutil.GVKForObject(k.Type, scheme)
		if err != nil {
			return nil, err
		}
		listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
		if _, err := scheme.New(listGVK); err != nil {
			return nil, err
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		ks := &KindStore{Kind: k, kind: gvk.Kind, resource: plural.GroupResource(), owner: s,
			object: func() client.Object { return reflect.New(t).Interface().(client.Object) },
			list: func() client.ObjectList {
				l, _ := scheme.New(listGVK)
				return l.(client.ObjectList)
			},
			records: map[string]*record{}, pending: map[string]Applied{}, inFlight: map[string]int{}, byRegion: map[string]map[string]struct{}{}}
		s.byType[reflect.TypeOf(k.Type)] = ks
		s.byType[reflect.TypeOf(ks.list())] = ks
		s.byKind[gvk.Kind] = ks
		s.all = append(s.all, ks)
	}
	s.unsynced = len(s.all)
	return s, nil
}

// Start makes changes reach q as requests for their Region, and watches every kind into
// the store unless Watch already does. It makes the store a controller-runtime source.
func (s *Store) Start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	s.mu.Lock()
	s.queue = q
	s.standingBy.Store(false)
	s.mu.Unlock()
	s.Watch(ctx)
	return nil
}

// Watch fills the store before it has a queue: a replica standing by for leadership
// keeps it synced, so that on taking over it only reconciles. Until Start, no Region is
// told anything, and what an object says of the operator's last apply (its digest
// annotation, nobody else's fields) is taken at every change, as at a restart: another
// replica is the one applying.
func (s *Store) Watch(ctx context.Context) {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	if s.queue == nil {
		s.standingBy.Store(true)
	}
	s.mu.Unlock()
	sel := s.opts.Selector.String()
	for _, ks := range s.all {
		lw := &toolscache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = sel
				list := ks.list()
				if err := s.c.List(ctx, list, &client.ListOptions{Raw: &o}); err != nil {
					return nil, err
				}
				// The pager gathers the pages into one list: each page becomes
				// arrivals as it comes, so the list holds no more than the store will.
				return ks.arrivals(list)
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.LabelSelector = sel
				return s.c.Watch(ctx, ks.list(), &client.ListOptions{Raw: &o})
			},
		}
		rf := toolscache.NewReflectorWithOptions(lw, ks.object(), ks, toolscache.ReflectorOptions{Name: "childstore/" + ks.kind})
		// Lists come in pages, relists too: a page is all that is held at once before
		// it becomes arrivals.
		rf.WatchListPageSize = s.opts.PageSize
		go rf.RunWithContext(ctx)
	}
}

// UseQueue makes changes reach q without starting the watches (tests feed the store
// as a Reflector would).
func (s *Store) UseQueue(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	s.mu.Lock()
	s.queue = q
	s.mu.Unlock()
}

// WaitForSync returns once every kind was listed.
func (s *Store) WaitForSync(ctx context.Context) error {
	select {
	case <-s.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Synced says whether every kind was listed.
func (s *Store) Synced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// Running says whether the watches fill the store.
func (s *Store) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *Store) enqueue(region string) { s.enqueueWith(region, nil) }

// settledPriority is the priority of a Region queued because its roll-out settled. It
// goes before the Regions queued at the usual priority: those wait for whole
// reconciles (a province's roll-out queues a thousand at once), where its own finds its
// objects as it applied them and writes the status that says it is Ready.
const settledPriority = 10

// enqueueSettled queues a Region whose roll-out settled, first when the queue orders by
// priority.
func (s *Store) enqueueSettled(region string) {
	p := settledPriority
	s.enqueueWith(region, &p)
}

func (s *Store) enqueueWith(region string, priority *int) {
	s.mu.Lock()
	q := s.queue
	s.mu.Unlock()
	if region == "" || q == nil {
		return
	}
	req := reconcile.Request{NamespacedName: client.ObjectKey{Name: region}}
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok && priority != nil {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: priority}, req)
		return
	}
	q.Add(req)
}

// For is the store of obj's kind (an object or a list of it).
func (s *Store) For(obj any) (*KindStore, error) {
	ks, ok := s.byType[reflect.TypeOf(obj)]
	if !ok {
		return nil, fmt.Errorf("%T is not a kind the operator makes", obj)
	}
	return ks, nil
}

// Get fills obj with what the store keeps of the object named by key.
func (s *Store) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	ks, err := s.For(obj)
	if err != nil {
		return err
	}
	ks.mu.RLock()
	p, ok := ks.records[key.String()]
	var rec record
	if ok {
		rec = *p
	}
	ks.mu.RUnlock()
	if !ok {
		return apierrors.NewNotFound(ks.resource, key.Name)
	}
	ks.fill(obj, key, rec)
	return nil
}

// List lists the kept objects that match the options' labels and namespace. A
// selector that names a Region looks at that Region's objects only.
func (s *Store) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	ks, err := s.For(list)
	if err != nil {
		return err
	}
	o := (&client.ListOptions{}).ApplyOptions(opts)
	if o.FieldSelector != nil && !o.FieldSelector.Empty() {
		return fmt.Errorf("the operator's store of %ss has no field selectors", ks.kind)
	}
	sel := o.LabelSelector
	if sel == nil {
		sel = labels.Everything()
	}
	ks.mu.RLock()
	var keys []string
	if region, ok := sel.RequiresExactMatch(s.opts.RegionLabel); ok && ks.ByRegion {
		for k := range ks.byRegion[region] {
			keys = append(keys, k)
		}
	} else {
		for k := range ks.records {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	recs := make([]record, len(keys))
	for i, k := range keys {
		recs[i] = *ks.records[k]
	}
	ks.mu.RUnlock()
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
		obj := ks.object()
		ks.fill(obj, client.ObjectKey{Namespace: namespace, Name: name}, recs[i])
		objs = append(objs, obj)
	}
	return meta.SetList(list, objs)
}

// recordOf is what the store keeps of an object.
func (ks *KindStore) recordOf(o client.Object) record {
	rec := record{
		resourceVersion: o.GetResourceVersion(), generation: o.GetGeneration(),
		meta: ks.metaOf(o), region: unique.Make(o.GetLabels()[ks.owner.opts.RegionLabel]), deleting: o.GetDeletionTimestamp(),
	}
	if ks.Keep != nil {
		rec.extra = ks.Keep(o)
	}
	return rec
}

// fill makes obj the object the record describes: fresh maps and copies throughout.
func (ks *KindStore) fill(obj client.Object, key client.ObjectKey, rec record) {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
	obj.SetNamespace(key.Namespace)
	obj.SetName(key.Name)
	obj.SetResourceVersion(rec.resourceVersion)
	obj.SetGeneration(rec.generation)
	l, a := decodeMeta(rec.meta)
	obj.SetLabels(l)
	obj.SetAnnotations(a)
	if rec.deleting != nil {
		obj.SetDeletionTimestamp(rec.deleting.DeepCopy())
	}
	if ks.Restore != nil && rec.extra != nil {
		ks.Restore(obj, rec.extra)
	}
}

// arrival is what the store takes of an object as it arrives: its key and record,
// and what it says of the operator's last apply. The reflector's temporary store (an
// initial list, streamed) and a paged list hold arrivals in place of the objects, a
// few words each where even a shrunk object keeps its metadata's maps and struct: with
// every kind listed at once after a restart, that difference is the province again.
type arrival struct {
	key string // namespace/name, as client.ObjectKey.String gives it
	// uid is kept only for client-go's watch-list consistency detector (which sorts
	// by it), when it is on.
	uid types.UID
	rec record
	// asApplied is the object's word of what was applied to it (appliedBy), taken
	// when the store meets it first, or while it stands by (observe).
	asApplied *Applied
}

var _ metav1.ObjectMetaAccessor = &arrival{}

func (a *arrival) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

func (a *arrival) DeepCopyObject() runtime.Object {
	c := *a
	return &c
}

// GetObjectMeta serves the reflector's temporary store (which reads the version) and
// its consistency detector (which sorts by UID and compares with a list, transformed).
func (a *arrival) GetObjectMeta() metav1.Object {
	ns, name, _ := toolscache.SplitMetaNamespaceKey(a.key)
	return &metav1.ObjectMeta{Namespace: ns, Name: name, UID: a.uid, ResourceVersion: a.rec.resourceVersion}
}

// arrive is what the store takes of an object.
func (ks *KindStore) arrive(o client.Object) *arrival {
	a := &arrival{key: client.ObjectKeyFromObject(o).String(), rec: ks.recordOf(o)}
	if consistencydetector.IsDataConsistencyDetectionForWatchListEnabled() {
		a.uid = o.GetUID()
	}
	a.asApplied = ks.asApplied(o, a.rec)
	return a
}

// asApplied is what an object says the operator last applied to it, with nobody else
// writing since (appliedBy); nil when it does not say.
func (ks *KindStore) asApplied(o client.Object, rec record) *Applied {
	sum, ok := ks.appliedBy(o)
	if !ok {
		return nil
	}
	m := &Applied{Digest: sum, ResourceVersion: rec.resourceVersion, Generation: rec.generation}
	if ks.Labels == nil {
		// Only a kind that keeps all its labels and annotations compares them with
		// what was applied (its status moves on by itself); the record has them.
		m.Meta = rec.meta
	}
	return m
}

// Transformer turns an object, as the reflector receives it for its temporary store,
// into an arrival (the store's Add and Replace take either).
func (ks *KindStore) Transformer() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		if o, ok := obj.(client.Object); ok {
			return ks.arrive(o), nil
		}
		return obj, nil
	}
}

// Shrink makes an object of the kind holding only what the store keeps of it, and
// what tells, after a restart, an object still as applied (the digest annotation and
// the other managers' entries, without their fields): for a cache that keeps typed
// objects.
func (ks *KindStore) Shrink() toolscache.TransformFunc {
	return func(obj any) (any, error) {
		o, ok := obj.(client.Object)
		if !ok {
			return obj, nil
		}
		small := ks.object()
		ks.fill(small, client.ObjectKeyFromObject(o), ks.recordOf(o))
		if ks.Labels != nil {
			// The Region's label is read from what arrives, whatever is kept.
			l := small.GetLabels()
			if r, ok := o.GetLabels()[ks.owner.opts.RegionLabel]; ok {
				if l == nil {
					l = map[string]string{}
				}
				l[ks.owner.opts.RegionLabel] = r
				small.SetLabels(l)
			}
		}
		small.SetUID(o.GetUID())
		if a := ks.owner.opts.AppliedAnnotation; a != "" {
			if v, ok := o.GetAnnotations()[a]; ok {
				ann := small.GetAnnotations()
				if ann == nil {
					ann = map[string]string{}
				}
				ann[a] = v
				small.SetAnnotations(ann)
			}
			var others []metav1.ManagedFieldsEntry
			for _, f := range o.GetManagedFields() {
				if !ks.ownEntry(f) {
					others = append(others, metav1.ManagedFieldsEntry{Manager: f.Manager, Operation: f.Operation, Subresource: f.Subresource})
				}
			}
			small.SetManagedFields(others)
		}
		return small, nil
	}
}

// ownEntry says whether a managed-fields entry is the operator's, or a status
// subresource's (a roll-out's).
func (ks *KindStore) ownEntry(f metav1.ManagedFieldsEntry) bool {
	own := ks.owner.opts.OwnManager
	return f.Subresource == "status" || (own != nil && own(f.Manager))
}

// appliedBy is what an object says of the operator's last apply, when nobody else has
// changed it since: the digest of the applied configuration.
func (ks *KindStore) appliedBy(o client.Object) ([16]byte, bool) {
	var sum [16]byte
	a := ks.owner.opts.AppliedAnnotation
	v, ok := o.GetAnnotations()[a]
	if a == "" || !ok || hex.DecodedLen(len(v)) != len(sum) {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(v)); err != nil {
		return sum, false
	}
	for _, f := range o.GetManagedFields() {
		if !ks.ownEntry(f) {
			return sum, false
		}
	}
	return sum, true
}

// arrivals is a page of a list as arrivals, with the page's list metadata.
func (ks *KindStore) arrivals(list client.ObjectList) (runtime.Object, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := &metainternalversion.List{Items: make([]runtime.Object, 0, len(items))}
	out.ResourceVersion, out.Continue, out.RemainingItemCount = list.GetResourceVersion(), list.GetContinue(), list.GetRemainingItemCount()
	for _, it := range items {
		o, ok := it.(client.Object)
		if !ok {
			return nil, fmt.Errorf("%T in a list of %ss", it, ks.kind)
		}
		out.Items = append(out.Items, ks.arrive(o))
	}
	return out, nil
}

// MetaOf is an object's labels and annotations, one copy of each distinct set shared by
// all the objects that carry it.
func MetaOf(obj metav1.Object) unique.Handle[string] {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	if len(l) == 0 && len(a) == 0 {
		return unique.Make("")
	}
	data, _ := json.Marshal([2]map[string]string{l, a}) // keys sorted: one encoding per set
	return unique.Make(string(data))
}

// metaOf is what the store keeps of an object's labels and annotations.
func (ks *KindStore) metaOf(obj metav1.Object) unique.Handle[string] {
	if ks.Labels == nil {
		return MetaOf(obj)
	}
	kept := map[string]string{}
	for _, key := range ks.Labels {
		if v, ok := obj.GetLabels()[key]; ok {
			kept[key] = v
		}
	}
	return MetaOf(&metav1.ObjectMeta{Labels: kept})
}

// decodeMeta gives fresh maps of kept labels and annotations.
func decodeMeta(h unique.Handle[string]) (labels, annotations map[string]string) {
	if h.Value() == "" {
		return nil, nil
	}
	var m [2]map[string]string
	_ = json.Unmarshal([]byte(h.Value()), &m)
	return m[0], m[1]
}

// Applied returns what the operator last applied to an object.
func (s *Store) Applied(kind string, key client.ObjectKey) (Applied, bool) {
	ks := s.byKind[kind]
	if ks == nil {
		return Applied{}, false
	}
	k := key.String()
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if rec, ok := ks.records[k]; ok && rec.applied.ResourceVersion != "" {
		return rec.applied, true
	}
	m, ok := ks.pending[k]
	return m, ok
}

// Applying marks an object as being applied until the returned func is called: the
// watch may bring its creation before the apply's answer does.
func (s *Store) Applying(kind string, key client.ObjectKey) (done func()) {
	ks := s.byKind[kind]
	if ks == nil {
		return func() {}
	}
	k := key.String()
	ks.mu.Lock()
	ks.inFlight[k]++
	ks.mu.Unlock()
	return func() {
		ks.mu.Lock()
		if ks.inFlight[k]--; ks.inFlight[k] <= 0 {
			delete(ks.inFlight, k)
		}
		ks.mu.Unlock()
	}
}

// Remember keeps what the operator applied to an object; a zero Applied forgets it.
func (s *Store) Remember(kind string, key client.ObjectKey, m Applied) {
	ks := s.byKind[kind]
	if ks == nil {
		return
	}
	k := key.String()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if rec, ok := ks.records[k]; ok {
		rec.applied = m
		return
	}
	if m == (Applied{}) {
		delete(ks.pending, k)
		return
	}
	ks.pending[k] = m
}

// Add, Update, Delete, Replace and Resync make the store what a Reflector fills; each
// takes objects or arrivals.

func (ks *KindStore) Add(obj any) error    { ks.observe(obj); return nil }
func (ks *KindStore) Update(obj any) error { ks.observe(obj); return nil }
func (ks *KindStore) Resync() error        { return nil }

func (ks *KindStore) Delete(obj any) error {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	switch o := obj.(type) {
	case *arrival:
		ks.forget(o.key)
	case client.Object:
		ks.forget(client.ObjectKeyFromObject(o).String())
	}
	return nil
}

// Replace takes a fresh list: what is in it is observed, what is not was deleted.
func (ks *KindStore) Replace(list []any, _ string) error {
	seen := make(map[string]bool, len(list))
	for _, obj := range list {
		if a := ks.observe(obj); a != nil {
			seen[a.key] = true
		}
	}
	ks.mu.Lock()
	var gone []string
	for k := range ks.records {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	first := !ks.synced
	ks.synced = true
	ks.mu.Unlock()
	for _, k := range gone {
		ks.forget(k)
	}
	if first {
		s := ks.owner
		s.mu.Lock()
		if s.unsynced--; s.unsynced == 0 {
			close(s.synced)
		}
		s.mu.Unlock()
	}
	return nil
}

// observe keeps the new state of an object (or of an arrival) and tells its Region,
// unless the change is the operator's own apply or nothing changed at all. It returns
// what it took, nil for what is neither.
func (ks *KindStore) observe(obj any) *arrival {
	var a *arrival
	var asApplied func() *Applied
	switch o := obj.(type) {
	case *arrival:
		a = o
		asApplied = func() *Applied { return o.asApplied }
	case client.Object:
		// A watch event: what the object says of an apply is read only when the
		// store meets it first, or while it stands by.
		a = &arrival{key: client.ObjectKeyFromObject(o).String(), rec: ks.recordOf(o)}
		asApplied = func() *Applied { return ks.asApplied(o, a.rec) }
	default:
		return nil
	}
	rec, k := a.rec, a.key
	region := rec.region.Value()
	ks.mu.Lock()
	var old record
	p, had := ks.records[k]
	if had {
		old = *p
	}
	switch m, pending := ks.pending[k]; {
	case had && ks.owner.standingBy.Load():
		// Another replica applies. A new digest on the object, with nobody else's
		// fields, is its apply: what the object says is what was applied. Anything
		// else keeps what was known, so that after taking over the object is applied
		// again: a hand edit that only removes something leaves no field manager
		// behind, and must not pass for an apply (a re-apply by the other replica of
		// the same configuration costs one more apply, no more).
		rec.applied = old.applied
		if m := asApplied(); m != nil && m.Digest != old.applied.Digest {
			rec.applied = *m
		}
	case had:
		rec.applied = old.applied
	case pending:
		rec.applied = m
		delete(ks.pending, k)
	default:
		// First met (the store starts again): the object says what was applied and
		// that nobody else changed it since.
		if m := asApplied(); m != nil {
			rec.applied = *m
		}
	}
	echo, applying := rec.applied.ResourceVersion == rec.resourceVersion, ks.inFlight[k] > 0
	if echo {
		rec.resourceVersion = rec.applied.ResourceVersion // one copy
	}
	ks.records[k] = &rec // an existing entry keeps its key: one copy of each name
	oldRegion := ""
	if had {
		oldRegion = old.region.Value()
	}
	if !had || oldRegion != region {
		ks.unindex(oldRegion, k)
		ks.index(region, k)
	}
	ks.mu.Unlock()

	switch {
	case had && old.resourceVersion == rec.resourceVersion:
		return a // listed again, unchanged
	case echo:
		return a // the operator's own apply
	case !had && applying:
		return a // the watch brought the creation before the apply's answer did
	}
	if had && oldRegion != region {
		ks.owner.enqueue(oldRegion)
	}
	if had && old.generation == rec.generation && old.meta == rec.meta && ks.BatchStatus {
		// Told at once only on the step that settles the object, when it leaves the
		// Region's all settled; steps of a settled object move with the batch.
		settles := ks.Settled != nil && !ks.settled(k, old) && ks.settled(k, rec) && ks.regionSettled(region)
		ks.owner.statusChanged(region, settles)
		return a
	}
	ks.owner.enqueue(region)
	return a
}

// settled says whether the object of key, as rec describes it, is settled.
func (ks *KindStore) settled(key string, rec record) bool {
	ns, name, _ := toolscache.SplitMetaNamespaceKey(key)
	obj := ks.object()
	ks.fill(obj, client.ObjectKey{Namespace: ns, Name: name}, rec)
	return ks.Settled(obj)
}

// regionSettled says whether every object of the kind in the Region is settled. The
// records are copied under the lock and looked at outside it.
func (ks *KindStore) regionSettled(region string) bool {
	ks.mu.RLock()
	keys := make([]string, 0, len(ks.byRegion[region]))
	recs := make([]record, 0, len(ks.byRegion[region]))
	for key := range ks.byRegion[region] {
		if p, ok := ks.records[key]; ok {
			keys, recs = append(keys, key), append(recs, *p)
		}
	}
	ks.mu.RUnlock()
	for i := range keys {
		if !ks.settled(keys[i], recs[i]) {
			return false
		}
	}
	return true
}

// statusChanged notes a change of status alone. After the batch, in which a roll-out's
// other steps come too, the Region is queued, unless a reconcile has read its objects
// since the last of those changes: it wrote what they say. A change that leaves every
// object settled queues it at once. While a reconcile of the Region runs, its end
// decides.
func (s *Store) statusChanged(region string, settled bool) {
	if region == "" {
		return
	}
	s.mu.Lock()
	s.statusChanges[region]++
	if settled {
		s.settled[region] = true
	} else {
		delete(s.settled, region)
	}
	s.mu.Unlock()
	s.batch(region)
}

// batch queues the Region once the batch ends if by then a change of status alone is
// still unseen and no reconcile of it runs; at once when the last change left every
// object settled.
func (s *Store) batch(region string) {
	s.mu.Lock()
	if s.reconciling[region] {
		s.mu.Unlock()
		return
	}
	if s.settled[region] {
		delete(s.settled, region)
		s.mu.Unlock()
		s.enqueueSettled(region)
		return
	}
	defer s.mu.Unlock()
	if s.batching[region] {
		return
	}
	s.batching[region] = true
	time.AfterFunc(s.opts.Batch, func() {
		s.mu.Lock()
		delete(s.batching, region)
		unseen := s.statusChanges[region] != s.seen[region] && !s.reconciling[region]
		s.mu.Unlock()
		if unseen {
			s.enqueue(region)
		}
	})
}

// StatusChanges is how many changes of status alone the Region's objects have had; a
// reconcile reads it when it reads those objects.
func (s *Store) StatusChanges(region string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusChanges[region]
}

// ReconcileStarts marks a reconcile of the Region as running. The func it returns ends
// it with the count of status changes it saw (StatusChanges when it read them): those
// after are batched into the next reconcile.
func (s *Store) ReconcileStarts(region string) (done func(seen uint64)) {
	s.mu.Lock()
	s.reconciling[region] = true
	s.mu.Unlock()
	return func(seen uint64) {
		s.mu.Lock()
		delete(s.reconciling, region)
		s.seen[region] = seen
		unseen := s.statusChanges[region] != seen
		if !unseen {
			delete(s.settled, region) // read by the reconcile
		}
		s.mu.Unlock()
		if unseen {
			s.batch(region)
		}
	}
}

// ForgetRegion drops what the store counts of a Region that is gone.
func (s *Store) ForgetRegion(region string) {
	s.mu.Lock()
	delete(s.statusChanges, region)
	delete(s.seen, region)
	delete(s.settled, region)
	s.mu.Unlock()
}

// forget drops an object that is gone (or no longer matches the selector) and tells
// its Region.
func (ks *KindStore) forget(key string) {
	ks.mu.Lock()
	p, had := ks.records[key]
	delete(ks.records, key)
	delete(ks.pending, key)
	region := ""
	if had {
		region = p.region.Value()
		ks.unindex(region, key)
	}
	ks.mu.Unlock()
	if had {
		ks.owner.enqueue(region)
	}
}

// index and unindex keep byRegion; the caller holds ks.mu.
func (ks *KindStore) index(region, key string) {
	if region == "" || !ks.ByRegion {
		return
	}
	keys := ks.byRegion[region]
	if keys == nil {
		keys = map[string]struct{}{}
		ks.byRegion[region] = keys
	}
	keys[key] = struct{}{}
}

func (ks *KindStore) unindex(region, key string) {
	if keys := ks.byRegion[region]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(ks.byRegion, region)
		}
	}
}
