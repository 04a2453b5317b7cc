package controllers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
)

func testRegion() *platformv1.Region {
	return &platformv1.Region{
		ObjectMeta: metav1.ObjectMeta{Name: "anxi", Generation: 3},
		Spec: platformv1.RegionSpec{Code: "350524", Townships: []platformv1.Township{
			{Name: "fengcheng", Code: "350524100", Branches: []platformv1.Branch{{Name: "a", Members: 10}, {Name: "b", Members: 1}}},
			{Name: "hutou", Code: "350524102"},
		}},
	}
}

func status(t *testing.T, st platformv1.RegionStatus, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, st.Conditions)
	}
	return *c
}

func TestComputeStatus(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	conflict := &conflictError{kind: "Namespace", name: "anxi-hutou"}
	cases := []struct {
		name                        string
		sum                         summary
		ready, reconciling, stalled metav1.ConditionStatus
		readyReason                 string
	}{
		{"all in place", summary{}, metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionFalse, ReasonReconciled},
		{"a transient error", summary{
			layerErrs:    map[string][]error{ConditionAccessReady: {errors.New("applying RoleBinding: timeout")}},
			townshipErrs: map[string][]error{"hutou": {errors.New("applying RoleBinding: timeout")}},
		}, metav1.ConditionFalse, metav1.ConditionTrue, metav1.ConditionFalse, ReasonFailed},
		{"a conflict", summary{
			layerErrs:    map[string][]error{ConditionNamespacesReady: {conflict}, ConditionAccessReady: {errors.New("x")}},
			townshipErrs: map[string][]error{"hutou": {conflict}},
		}, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue, ReasonConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := computeStatus(testRegion(), tc.sum, now)
			if st.ObservedGeneration != 3 || st.TownshipCount != 2 || st.BranchCount != 2 {
				t.Errorf("generation/counts = %d/%d/%d", st.ObservedGeneration, st.TownshipCount, st.BranchCount)
			}
			ready := status(t, st, ConditionReady)
			if ready.Status != tc.ready || ready.Reason != tc.readyReason || ready.ObservedGeneration != 3 {
				t.Errorf("Ready = %s/%s (gen %d)", ready.Status, ready.Reason, ready.ObservedGeneration)
			}
			if c := status(t, st, ConditionReconciling); c.Status != tc.reconciling {
				t.Errorf("Reconciling = %s", c.Status)
			}
			if c := status(t, st, ConditionStalled); c.Status != tc.stalled {
				t.Errorf("Stalled = %s", c.Status)
			}
			hutouReady := len(tc.sum.townshipErrs["hutou"]) == 0
			if st.Townships[1].Ready != hutouReady {
				t.Errorf("hutou row ready = %v, want %v", st.Townships[1].Ready, hutouReady)
			}
			if !strings.Contains(st.Townships[0].Message, "branch b has 1 members") {
				t.Errorf("fengcheng row message %q misses the standardisation warning", st.Townships[0].Message)
			}
		})
	}
}

func TestComputeStatusKeepsTransitionTimesWhenNothingChanges(t *testing.T) {
	rg := testRegion()
	first := metav1.NewTime(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	rg.Status = computeStatus(rg, summary{}, first)
	again := computeStatus(rg, summary{}, metav1.NewTime(first.Add(time.Hour)))
	if got := status(t, again, ConditionReady).LastTransitionTime; !got.Equal(&first) {
		t.Errorf("Ready moved to %v although nothing changed", got)
	}
	failed := computeStatus(rg, summary{layerErrs: map[string][]error{ConditionDirectoryReady: {errors.New("x")}}}, metav1.NewTime(first.Add(time.Hour)))
	if got := status(t, failed, ConditionReady).LastTransitionTime; got.Equal(&first) {
		t.Error("Ready did not move when it became False")
	}
}

func TestComputeStatusWhileSuspended(t *testing.T) {
	rg := testRegion()
	rg.Status.Townships = []platformv1.TownshipStatus{{Name: "fengcheng", Ready: true}}
	rg.Status.Database = &platformv1.DatabaseStatus{Server: "pg", Name: "region_yongchun", Provisioned: true}
	st := computeStatus(rg, summary{suspended: true}, metav1.Now())
	if c := status(t, st, ConditionSuspended); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "spec.suspend") {
		t.Errorf("Suspended = %+v", c)
	}
	if len(st.Townships) != 1 {
		t.Errorf("rows changed while suspended: %+v", st.Townships)
	}
	// What the deletion policy falls back on when the server cannot be asked.
	if st.Database == nil || !st.Database.Provisioned {
		t.Errorf("a suspended Region's status forgets its database was made: %+v", st.Database)
	}
}

func TestJoinMessagesIsBounded(t *testing.T) {
	var errs []error
	for range 200 {
		errs = append(errs, errors.New(strings.Repeat("很长的错误 ", 10)))
	}
	msg := joinMessages(errs)
	if len(msg) > maxMessage+40 || !strings.Contains(msg, "more") {
		t.Errorf("message of %d bytes: %q", len(msg), msg[len(msg)-40:])
	}
	if got := truncate(strings.Repeat("镇", 1000)); len(got) > maxMessage || !strings.HasSuffix(got, "...") {
		t.Errorf("truncate gave %d bytes", len(got))
	}
}

func TestBranchFormAndQuota(t *testing.T) {
	for members, want := range map[int32]string{0: desired.FormBelowMinimum, 2: desired.FormBelowMinimum, 3: desired.FormBranch, 49: desired.FormBranch, 50: desired.FormGeneralBranch, 99: desired.FormGeneralBranch, 100: desired.FormCommittee} {
		if got := desired.BranchForm(members); got != want {
			t.Errorf("BranchForm(%d) = %s, want %s", members, got, want)
		}
	}
}

func TestTownshipAdminsWithoutRegionIsAWarning(t *testing.T) {
	rg := testRegion()
	rg.Spec.Access.TownshipAdmins = "{township}-admins"
	st := computeStatus(rg, summary{}, metav1.Now())
	c := meta.FindStatusCondition(st.Conditions, ConditionAccessReady)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "has no {region}") {
		t.Errorf("AccessReady = %+v", c)
	}
	rg.Spec.Access.TownshipAdmins = "{region}-{township}-admins"
	st = computeStatus(rg, summary{}, metav1.Now())
	if c := meta.FindStatusCondition(st.Conditions, ConditionAccessReady); c.Message != "" {
		t.Errorf("no warning expected: %q", c.Message)
	}
}

// A township row is ready only when everything made for it is in place: not while the
// Region's database layer fails or its platform is still rolling out.
func TestTownshipRowsAreReadyOnlyWhenEverythingIsInPlace(t *testing.T) {
	rg := testRegion()
	rg.Spec.Database = &platformv1.Database{ServerRef: "pg"}
	refused := errors.New("connecting: refused")
	down := summary{layerErrs: map[string][]error{ConditionDatabaseReady: {refused}}, regionErrs: map[string][]error{ConditionDatabaseReady: {refused}}}
	if rows := computeStatus(rg, down, metav1.Now()).Townships; len(rows) != 2 {
		t.Fatalf("%d rows for two townships", len(rows))
	}
	for _, row := range computeStatus(rg, down, metav1.Now()).Townships {
		if row.Ready || !strings.Contains(row.Message, "the database layer is failing") {
			t.Errorf("row %s while the database is down: ready %v, %q", row.Name, row.Ready, row.Message)
		}
	}
	for _, row := range computeStatus(rg, summary{}, metav1.Now()).Townships {
		if !row.Ready {
			t.Errorf("row %s not ready with everything in place: %q", row.Name, row.Message)
		}
	}
	// A failure of one township's own credential is that township's alone.
	secret := errors.New("applying Secret anxi-hutou/database: immutable")
	own := summary{layerErrs: map[string][]error{ConditionDatabaseReady: {secret}}, townshipErrs: map[string][]error{"hutou": {secret}}}
	for _, row := range computeStatus(rg, own, metav1.Now()).Townships {
		if row.Ready != (row.Name == "fengcheng") {
			t.Errorf("row %s: ready %v with only hutou's credential failing", row.Name, row.Ready)
		}
	}
	rg.Spec.Platform = &platformv1.Platform{}
	rolling := summary{waiting: map[string]string{ConditionPlatformReady: "1 of 2 Deployments available"}}
	for _, row := range computeStatus(rg, rolling, metav1.Now()).Townships {
		if row.Ready {
			t.Errorf("row %s ready while the platform rolls out", row.Name)
		}
	}
}

// A cause only a person can fix turns into Stalled once it has lasted the bound, and
// not before; a server that is down never does, however long; a new cause starts the
// clock again.
func TestStalledOnlyAfterTheBoundAndOnlyForAPerson(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(t0.Add(d)) }
	failing := func(err error) summary {
		return summary{layerErrs: map[string][]error{ConditionDatabaseReady: {err}}, regionErrs: map[string][]error{ConditionDatabaseReady: {err}}, stallAfter: time.Minute}
	}
	missing := failing(withCause(ReasonServerNotFound, errors.New("spec.database.serverRef: DatabaseServer pg does not exist")))
	rg := testRegion()
	rg.Spec.Database = &platformv1.Database{ServerRef: "pg"}
	rg.Status = computeStatus(rg, missing, at(0))
	if c := status(t, rg.Status, ConditionDatabaseReady); c.Reason != ReasonServerNotFound {
		t.Errorf("DatabaseReady reason %q, want ServerNotFound", c.Reason)
	}
	if c := status(t, rg.Status, ConditionReady); c.Reason != ReasonServerNotFound {
		t.Errorf("Ready reason %q, want the cause", c.Reason)
	}
	rg.Status = computeStatus(rg, missing, at(59*time.Second))
	if status(t, rg.Status, ConditionStalled).Status != metav1.ConditionFalse || status(t, rg.Status, ConditionReconciling).Status != metav1.ConditionTrue {
		t.Error("Stalled before the bound")
	}
	rg.Status = computeStatus(rg, missing, at(61*time.Second))
	if c := status(t, rg.Status, ConditionStalled); c.Status != metav1.ConditionTrue || c.Reason != ReasonServerNotFound {
		t.Errorf("Stalled after the bound = %+v", c)
	}
	if status(t, rg.Status, ConditionReconciling).Status != metav1.ConditionFalse {
		t.Error("Reconciling while Stalled")
	}

	// Another cause: the clock starts again.
	auth := failing(withCause(ReasonAuthenticationFailed, errors.New("password authentication failed")))
	rg.Status = computeStatus(rg, auth, at(62*time.Second))
	if status(t, rg.Status, ConditionStalled).Status != metav1.ConditionFalse {
		t.Error("a new cause was Stalled at once")
	}

	down := testRegion()
	down.Spec.Database = rg.Spec.Database
	unreachable := failing(withCause(ReasonUnreachable, errors.New("connection refused")))
	down.Status = computeStatus(down, unreachable, at(0))
	down.Status = computeStatus(down, unreachable, at(time.Hour))
	if status(t, down.Status, ConditionStalled).Status != metav1.ConditionFalse {
		t.Error("a server that is down was called Stalled: retrying fixes it")
	}

	events := transitionEvents(nil, rg.Status.Conditions, layers...)
	if len(events) != 1 || !events[0].warning || events[0].reason != ReasonAuthenticationFailed {
		t.Errorf("events %+v, want one Warning AuthenticationFailed", events)
	}
	if again := transitionEvents(rg.Status.Conditions, rg.Status.Conditions, layers...); len(again) != 0 {
		t.Errorf("the same cause told again: %+v", again)
	}
	fixed := computeStatus(rg, summary{}, at(2*time.Minute))
	if ev := transitionEvents(rg.Status.Conditions, fixed.Conditions, layers...); len(ev) != 1 || ev[0].warning || ev[0].reason != ReasonRecovered {
		t.Errorf("recovery events %+v", ev)
	}
}
