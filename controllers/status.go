package controllers

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// maxMessage bounds condition and row messages; the rest is summarised.
const maxMessage = 1024

// joinMessages joins error texts into one bounded message.
func joinMessages(errs []error) string {
	var b strings.Builder
	for i, err := range errs {
		text := err.Error()
		if b.Len()+len(text)+2 > maxMessage {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(text)
	}
	return b.String()
}

func anyConflict(errs []error) bool {
	for _, err := range errs {
		if isConflict(err) {
			return true
		}
	}
	return false
}

// summary is what one reconcile found, as the status functions need it.
type summary struct {
	layerErrs    map[string][]error
	townshipErrs map[string][]error
	regionErrs   map[string][]error
	retained     []platformv1.RetainedObject
	suspended    bool
	database     *platformv1.DatabaseStatus
	townshipDB   map[string]townshipDB
	platform     *platformv1.PlatformStatus
	waiting      map[string]string
	held         []string
	warnings     map[string][]string
	// stallAfter is how long a cause only a person can fix may last before the Region
	// says Stalled; zero means DefaultStallAfter.
	stallAfter time.Duration
}

func (s *scope) summary() summary {
	return summary{layerErrs: s.layerErrs, townshipErrs: s.townshipErrs, regionErrs: s.regionErrs, retained: s.retained,
		database: s.dbStatus, townshipDB: s.townshipDB, platform: s.platform, waiting: s.waiting, held: s.held, warnings: s.warnings}
}

// computeStatus derives a Region's status from its spec, its previous conditions and
// what the reconcile found. It does no I/O; LastTransitionTime moves only when a
// condition's status changes.
func computeStatus(region *platformv1.Region, sum summary, now metav1.Time) platformv1.RegionStatus {
	out := platformv1.RegionStatus{
		ObservedGeneration: region.Generation,
		Conditions:         append([]metav1.Condition(nil), region.Status.Conditions...),
		TownshipCount:      int32(len(region.Spec.Townships)),
	}
	set := func(t string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		setCondition(&out.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: region.Generation, LastTransitionTime: now,
		})
	}
	for _, t := range region.Spec.Townships {
		out.BranchCount += int32(len(t.Branches))
	}

	if sum.suspended {
		// Nothing was looked at: the rows and layers keep what they last said.
		out.Townships = region.Status.Townships
		out.Retained = region.Status.Retained
		out.Database = region.Status.Database
		out.Platform = region.Status.Platform
		set(ConditionSuspended, true, ReasonSuspended, "spec.suspend is true: the operator makes no changes for this Region")
		set(ConditionReconciling, false, ReasonSuspended, "suspended")
		return out
	}
	set(ConditionSuspended, false, ReasonResumed, "")

	out.Retained = sum.retained
	out.Database = sum.database
	out.Platform = sum.platform
	// What keeps every township from being in place: a layer failing for the Region as
	// a whole (the database server unreachable, say), or the platform still rolling out.
	var notInPlace []string
	if region.Spec.Database != nil && len(sum.regionErrs[ConditionDatabaseReady]) > 0 {
		notInPlace = append(notInPlace, "the database layer is failing")
	}
	if region.Spec.Platform != nil && (len(sum.regionErrs[ConditionPlatformReady]) > 0 || sum.waiting[ConditionPlatformReady] != "") {
		notInPlace = append(notInPlace, "the platform is not in place")
	}
	for _, t := range region.Spec.Townships {
		errs := sum.townshipErrs[t.Name]
		row := platformv1.TownshipStatus{
			Name:      t.Name,
			Namespace: naming.TownshipNamespace(region.Name, t.Name),
			Branches:  int32(len(t.Branches)),
			// Everything made for the township is in place: its own objects, and
			// the layers it depends on.
			Ready: len(errs) == 0 && len(notInPlace) == 0,
		}
		if db, ok := sum.townshipDB[t.Name]; ok {
			row.Schema, row.Role = db.schema, db.role
		}
		switch {
		case len(errs) > 0:
			row.Message = joinMessages(errs)
		case len(notInPlace) > 0:
			row.Message = strings.Join(notInPlace, "; ") + " (see the Region's conditions)"
		default:
			w := append(desired.ClassWarnings(t), desired.BranchWarnings(t)...)
			if w = append(w, sum.warnings[t.Name]...); len(w) > 0 {
				row.Message = truncate(strings.Join(w, "; "))
			}
		}
		out.Townships = append(out.Townships, row)
	}

	var failing, waiting []string
	var all []error
	conflict := false
	// cause is the first failing layer's reason; stalled says it needs a person and
	// has lasted stallAfter.
	cause, stalled, stalledLayer := "", false, ""
	for _, l := range layers {
		errs := sum.layerErrs[l]
		all = append(all, errs...)
		switch {
		case l == ConditionDatabaseReady && region.Spec.Database == nil:
			set(l, true, ReasonNotConfigured, "spec.database is not set: the Region has no database")
		case l == ConditionPlatformReady && region.Spec.Platform == nil && len(errs) == 0:
			set(l, true, ReasonNotConfigured, "spec.platform is not set: the Region runs no platform services")
		case len(errs) == 0 && sum.waiting[l] != "":
			waiting = append(waiting, l)
			set(l, false, ReasonProgressing, sum.waiting[l])
		case len(errs) == 0:
			set(l, true, ReasonReconciled, layerWarning(region, l))
		case anyConflict(errs):
			conflict = true
			failing = append(failing, l)
			set(l, false, ReasonConflict, joinMessages(errs))
		default:
			failing = append(failing, l)
			reason := firstCause(errs)
			if reason == "" {
				reason = ReasonFailed
			}
			set(l, false, reason, joinMessages(errs))
			if cause == "" {
				cause = reason
			}
			if !stalled && stalls(out.Conditions, l, now, sum.stallAfter) {
				stalled, stalledLayer, cause = true, l, reason
			}
		}
	}
	if cause == "" {
		cause = ReasonFailed
	}

	out.PendingDestruction = sum.held
	if len(sum.held) > 0 {
		msg := confirmationMessage(region, sum.held)
		set(ConditionConfirmationRequired, true, ReasonConfirmationRequired, msg)
	} else {
		set(ConditionConfirmationRequired, false, ReasonNothingToConfirm, "")
	}

	switch {
	case len(failing) == 0 && len(sum.held) > 0:
		// Everything else is in place; what the spec asks to destroy waits for a person.
		msg := confirmationMessage(region, sum.held)
		set(ConditionReady, false, ReasonConfirmationRequired, msg)
		set(ConditionReconciling, false, ReasonConfirmationRequired, "")
		set(ConditionStalled, true, ReasonConfirmationRequired, msg)
	case len(failing) == 0 && len(waiting) > 0:
		msg := make([]string, len(waiting))
		for i, l := range waiting {
			msg[i] = l + ": " + sum.waiting[l]
		}
		set(ConditionReady, false, ReasonProgressing, truncate(strings.Join(msg, "; ")))
		set(ConditionReconciling, true, ReasonProgressing, truncate(strings.Join(msg, "; ")))
		set(ConditionStalled, false, ReasonProgressing, "")
	case len(failing) == 0:
		set(ConditionReady, true, ReasonReconciled, fmt.Sprintf("%s and %s in place", plural(int(out.TownshipCount), "township"), plural(int(out.BranchCount), "branch")))
		set(ConditionReconciling, false, ReasonReconciled, "")
		set(ConditionStalled, false, ReasonReconciled, "")
	case conflict:
		set(ConditionReady, false, ReasonConflict, fmt.Sprintf("%s not ready: %s", strings.Join(failing, ", "), joinMessages(all)))
		set(ConditionReconciling, false, ReasonConflict, "")
		set(ConditionStalled, true, ReasonConflict, "objects the Region would make belong to someone else; remove or relabel them: "+joinMessages(conflicts(all)))
	case stalled:
		// Retrying goes on (a fix is seen at once), but only a person can make it.
		msg := fmt.Sprintf("%s has failed on a cause only a person can fix (%s) since %s: %s",
			stalledLayer, cause, meta.FindStatusCondition(out.Conditions, stalledLayer).LastTransitionTime.UTC().Format(time.RFC3339), joinMessages(sum.layerErrs[stalledLayer]))
		set(ConditionReady, false, cause, fmt.Sprintf("%s not ready: %s", strings.Join(failing, ", "), joinMessages(all)))
		set(ConditionReconciling, false, cause, "")
		set(ConditionStalled, true, cause, truncate(msg))
	default:
		set(ConditionReady, false, cause, fmt.Sprintf("%s not ready: %s", strings.Join(failing, ", "), joinMessages(all)))
		set(ConditionReconciling, true, ReasonRetrying, joinMessages(all))
		set(ConditionStalled, false, ReasonRetrying, "")
	}
	return out
}

// plural says n things, with an s when n is not 1.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "ch") {
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// layerWarning is what a layer in good order still warns of.
func layerWarning(region *platformv1.Region, layer string) string {
	if t := region.Spec.Access.TownshipAdmins; layer == ConditionAccessReady && t != "" && !strings.Contains(t, "{region}") {
		return fmt.Sprintf("warning: spec.access.townshipAdmins %q has no {region}: a township of the same name in another Region shares its admin group", t)
	}
	return ""
}

func conflicts(errs []error) []error {
	var out []error
	for _, err := range errs {
		if isConflict(err) {
			out = append(out, err)
		}
	}
	return out
}

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
