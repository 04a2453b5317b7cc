package controllers

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
