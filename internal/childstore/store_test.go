package childstore_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/jiceng-io/region-operator/internal/childstore"
	"github.com/jiceng-io/region-operator/internal/localenv"
)

// pages records the list requests a client makes: their limits, and the largest
// answer's size in bytes of data.
type pages struct {
	client.WithWatch
	mu     sync.Mutex
	limits []int64
}

func (p *pages) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	p.mu.Lock()
	if o.Raw != nil {
		p.limits = append(p.limits, o.Raw.Limit)
	}
	p.mu.Unlock()
	return p.WithWatch.List(ctx, list, opts...)
}

// On a real API server, with initial lists streamed (client-go's watch-list, where the
// reflector's temporary store takes the store's Transformer) and paged (where the
// server cannot stream, and relists after a watch is lost): the store asks for lists
// in pages of its page size, holds every labelled object and only them, keeps none of
// their data, and queues the Region of an object someone changes.
func TestStoreListsStreamedAndInPages(t *testing.T) {
	for _, c := range []struct {
		name     string
		streamed bool
	}{{"streamed", true}, {"paged", false}} {
		t.Run(c.name, func(t *testing.T) {
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, c.streamed)
			testStoreLists(t, c.streamed)
		})
	}
}

// cluster starts a control plane for the test, with a namespace anxi, and gives its
// client.
func cluster(t *testing.T) client.WithWatch {
	t.Helper()
	env, err := localenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.NewWithWatch(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "anxi"}}); err != nil {
		t.Fatal(err)
	}
	return c
}

func testStoreLists(t *testing.T, streamed bool) {
	c := cluster(t)
	ctx := context.Background()
	const n, pageSize = 230, 50
	big := strings.Repeat("x", 8<<10)
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: fmt.Sprintf("cm-%03d", i),
			Labels: map[string]string{"managed": "yes", "region": "anxi"}}, Data: map[string]string{"big": big}}
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "not-ours"}}); err != nil {
		t.Fatal(err)
	}
	counting := &pages{WithWatch: c}
	s, err := childstore.New(counting, scheme.Scheme, []childstore.Kind{{Type: &corev1.ConfigMap{}, ByRegion: true, Labels: []string{"region"}}},
		childstore.Options{Selector: labels.SelectorFromSet(labels.Set{"managed": "yes"}), RegionLabel: "region", Batch: time.Second, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.Start(runCtx, q); err != nil {
		t.Fatal(err)
	}
	waitCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	if err := s.WaitForSync(waitCtx); err != nil {
		t.Fatal(err)
	}

	counting.mu.Lock()
	limits := append([]int64(nil), counting.limits...)
	counting.mu.Unlock()
	// Streamed, nothing is listed. Paged, each asks for a page; the server may answer
	// a list at resourceVersion 0 from its watch cache whole, in one page.
	if streamed && len(limits) != 0 {
		t.Errorf("the initial list was not streamed: %d list requests", len(limits))
	}
	if !streamed && len(limits) == 0 {
		t.Error("no list request")
	}
	for _, l := range limits {
		if l != pageSize {
			t.Errorf("a list asked for %d objects, not a page of %d", l, pageSize)
		}
	}
	var list corev1.ConfigMapList
	if err := s.List(ctx, &list, client.MatchingLabels{"region": "anxi"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n {
		t.Fatalf("the store holds %d ConfigMaps, want the %d labelled ones", len(list.Items), n)
	}
	for _, cm := range list.Items {
		if cm.Data != nil || cm.ManagedFields != nil {
			t.Fatalf("the store kept %s's data or managed fields", cm.Name)
		}
	}

	// Someone changes one: its Region is queued.
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "anxi", Name: "cm-007"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["big"] = "changed"
	if err := c.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for q.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if q.Len() == 0 {
		t.Fatal("a change by someone else queued nothing")
	}
	req, _ := q.Get()
	if req.Name != "anxi" {
		t.Errorf("queued %v, want the Region anxi", req)
	}
}

// A replica standing by keeps the store synced (Watch, no queue). While it stands by,
// the other replica's applies are taken as applied from what the objects say, and an
// object someone else wrote is not, even by a patch that only removes and so leaves no
// field manager; on taking over (Start) it tells Regions of changes again.
func TestStandbyTakesWhatObjectsSay(t *testing.T) {
	c := cluster(t)
	ctx := context.Background()
	const annotation = "example.com/applied"
	digest := func(b byte) (sum [16]byte) {
		for i := range sum {
			sum[i] = b
		}
		return sum
	}
	apply := func(name string, sum [16]byte, value string) string {
		t.Helper()
		ac := corev1ac.ConfigMap(name, "anxi").WithLabels(map[string]string{"managed": "yes", "region": "anxi"}).
			WithAnnotations(map[string]string{annotation: hex.EncodeToString(sum[:])}).WithData(map[string]string{"v": value})
		if err := c.Apply(ctx, ac, client.FieldOwner("leader"), client.ForceOwnership); err != nil {
			t.Fatal(err)
		}
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "anxi", Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		return cm.ResourceVersion
	}
	rvA := apply("a", digest(1), "1")
	apply("b", digest(1), "1")
	apply("c", digest(1), "1")

	s, err := childstore.New(c, scheme.Scheme, []childstore.Kind{{Type: &corev1.ConfigMap{}, ByRegion: true, Labels: []string{"region"}}},
		childstore.Options{Selector: labels.SelectorFromSet(labels.Set{"managed": "yes"}), RegionLabel: "region", Batch: 50 * time.Millisecond,
			AppliedAnnotation: annotation, OwnManager: func(m string) bool { return m == "leader" }})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.Watch(runCtx)
	waitCtx, done := context.WithTimeout(ctx, 30*time.Second)
	defer done()
	if err := s.WaitForSync(waitCtx); err != nil {
		t.Fatal(err)
	}
	keyA, keyB := client.ObjectKey{Namespace: "anxi", Name: "a"}, client.ObjectKey{Namespace: "anxi", Name: "b"}
	if m, ok := s.Applied("ConfigMap", keyA); !ok || m.Digest != digest(1) || m.ResourceVersion != rvA {
		t.Fatalf("standing by, a's apply was taken as %v %+v, want digest 1 at %s", ok, m, rvA)
	}

	// The leader applies a again; someone else edits b; someone takes c's data away
	// with a patch that only removes (it leaves no field manager of its own).
	rvA = apply("a", digest(2), "2")
	b := &corev1.ConfigMap{}
	if err := c.Get(ctx, keyB, b); err != nil {
		t.Fatal(err)
	}
	b.Data["v"] = "edited"
	if err := c.Update(ctx, b, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "anxi", Name: "c"}}
	if err := c.Patch(ctx, cm, client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/data/v"}]`)), client.FieldOwner("kubectl-patch")); err != nil {
		t.Fatal(err)
	}
	if len(cm.ManagedFields) != 1 {
		t.Fatalf("the removal left managed fields %+v, want the leader's alone", cm.ManagedFields)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list corev1.ConfigMapList
		_ = s.List(ctx, &list)
		seen := 0
		for _, o := range list.Items {
			if (o.Name == "a" && o.ResourceVersion == rvA) || (o.Name == "b" && o.ResourceVersion == b.ResourceVersion) ||
				(o.Name == "c" && o.ResourceVersion == cm.ResourceVersion) {
				seen++
			}
		}
		if seen == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the store did not see the changes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m, ok := s.Applied("ConfigMap", keyA); !ok || m.Digest != digest(2) || m.ResourceVersion != rvA {
		t.Errorf("the leader's apply of a was taken as %v %+v, want digest 2 at %s", ok, m, rvA)
	}
	// What the other two became is not taken as applied: they are applied again
	// after taking over.
	if m, _ := s.Applied("ConfigMap", keyB); m.ResourceVersion == b.ResourceVersion {
		t.Errorf("b, edited by someone else, was taken as applied: %+v", m)
	}
	if m, _ := s.Applied("ConfigMap", client.ObjectKeyFromObject(cm)); m.ResourceVersion == cm.ResourceVersion {
		t.Errorf("c, its data removed by hand, was taken as applied: %+v", m)
	}

	// Taking over: nothing was queued while standing by; a change now queues its Region.
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	if err := s.Start(runCtx, q); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Errorf("%d requests queued for what happened while standing by", q.Len())
	}
	b.Data["v"] = "edited again"
	if err := c.Update(ctx, b, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for q.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if q.Len() == 0 {
		t.Fatal("after taking over, a change by someone else queued nothing")
	}
}
