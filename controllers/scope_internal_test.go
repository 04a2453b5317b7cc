package controllers

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// inFlight runs calls side by side, each sending n requests through s.eachUpTo(limit),
// and returns the most that were in flight at once.
func inFlight(s *scope, calls, limit, n int) int64 {
	var now, most atomic.Int64
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			s.eachUpTo(limit, n, func(int) {
				v := now.Add(1)
				for m := most.Load(); v > m && !most.CompareAndSwap(m, v); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				now.Add(-1)
			})
		})
	}
	wg.Wait()
	return most.Load()
}

// TestEachBoundsRequestsInFlight: one part of a reconcile has at most fanOut requests in
// flight (its Services serviceFanOut); parts side by side go wider, up to the places
// all the reconciles share.
func TestEachBoundsRequestsInFlight(t *testing.T) {
	region := &platformv1.Region{}
	if got := inFlight(newScope(region, make(chan struct{}, 64)), 1, fanOut, 40); got != fanOut {
		t.Errorf("one part alone: %d requests in flight at most, want %d", got, fanOut)
	}
	if got := inFlight(newScope(region, make(chan struct{}, 64)), 4, fanOut, 40); got != 4*fanOut {
		t.Errorf("four parts side by side, 64 places: %d requests in flight at most, want %d", got, 4*fanOut)
	}
	if got := inFlight(newScope(region, make(chan struct{}, 12)), 4, fanOut, 40); got != 12 {
		t.Errorf("four parts side by side, 12 places: %d requests in flight at most, want 12", got)
	}
	// A county's Services go out wider, still within the places.
	if got := inFlight(newScope(region, make(chan struct{}, 64)), 1, serviceFanOut, 40); got != serviceFanOut {
		t.Errorf("the Services: %d requests in flight at most, want %d", got, serviceFanOut)
	}
	if got := inFlight(newScope(region, make(chan struct{}, 12)), 1, serviceFanOut, 40); got != 12 {
		t.Errorf("the Services, 12 places: %d requests in flight at most, want 12", got)
	}
}

// The status of a Region waiting only for its roll-out is held for the rest of
// progressHold from when it began waiting, spec changes or not, and only while its
// status says nothing yet or says Ready; anything else to tell is written at once.
func TestHoldProgressOnlyForARollOut(t *testing.T) {
	r := &RegionReconciler{}
	rg := &platformv1.Region{}
	rg.UID, rg.Generation = "u1", 3
	rolling := summary{waiting: map[string]string{ConditionPlatformReady: "0 of 2 Deployments available"}}
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d <= 0 || d > progressHold {
		t.Fatalf("a new Region only rolling out is not held: %s", d)
	}
	failing := rolling
	failing.layerErrs = map[string][]error{ConditionAccessReady: {errors.New("forbidden")}}
	if d := r.holdProgress(rg, failing, platformv1.RegionStatus{}); d != 0 {
		t.Errorf("a failing layer is held for %s", d)
	}
	pending := rolling
	pending.held = []string{"t001"}
	if d := r.holdProgress(rg, pending, platformv1.RegionStatus{}); d != 0 {
		t.Errorf("destruction to confirm is held for %s", d)
	}
	// A Region whose status tells a failure: its recovery is told at once.
	rg.Status.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonFailed}}
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d != 0 {
		t.Errorf("a recovery from a failure is held for %s", d)
	}
	// A Ready Region beginning a roll-out is held.
	rg.Status.Conditions[0].Status = metav1.ConditionTrue
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d <= 0 {
		t.Errorf("a Ready Region beginning a roll-out is not held")
	}
	// A resumption is told at once: a suspended Region's status still says Ready.
	rg.Status.Conditions = append(rg.Status.Conditions, metav1.Condition{Type: ConditionSuspended, Status: metav1.ConditionTrue, Reason: ReasonSuspended})
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d != 0 {
		t.Errorf("a resumption is held for %s", d)
	}
	rg.Status.Conditions = rg.Status.Conditions[:1]
	// Unless the status carries a rotation out: a process started again within the
	// hold would not know it was done.
	rotated := platformv1.RegionStatus{Database: &platformv1.DatabaseStatus{RotationToken: "2026-q4"}}
	if d := r.holdProgress(rg, rolling, rotated); d != 0 {
		t.Errorf("a rotation carried out is held for %s", d)
	}
	// Waiting since before the hold: written now, a new generation or not.
	r.waitingSince.Store(rg.UID, time.Now().Add(-progressHold-time.Second))
	rg.Generation = 4
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d != 0 {
		t.Errorf("a roll-out waited on past the hold is held for %s more after a spec change", d)
	}
	// A wait that ended without a write (the roll-out done, the status as it was) ends
	// the hold: the next roll-out is held again.
	r.holdProgress(rg, summary{}, platformv1.RegionStatus{})
	if d := r.holdProgress(rg, rolling, platformv1.RegionStatus{}); d <= progressHold-time.Second {
		t.Errorf("the next roll-out is held for only %s", d)
	}
}
