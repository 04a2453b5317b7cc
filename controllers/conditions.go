package controllers

// Every condition type and reason of a Region's status, in one place.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// Condition types of a Region, one per layer beside the kstatus ones.
const (
	ConditionReady           = "Ready"
	ConditionReconciling     = "Reconciling"
	ConditionStalled         = "Stalled"
	ConditionSuspended       = "Suspended"
	ConditionNamespacesReady = "NamespacesReady"
	ConditionAccessReady     = "AccessReady"
	ConditionDatabaseReady   = "DatabaseReady"
	ConditionPlatformReady   = "PlatformReady"
	ConditionDirectoryReady  = "DirectoryReady"
	// ConditionConfirmationRequired is True while destruction the spec asked for
	// waits for the confirm-destruction annotation.
	ConditionConfirmationRequired = "ConfirmationRequired"
)

// layers lists the per-layer conditions in the order the phases run.
var layers = []string{ConditionNamespacesReady, ConditionAccessReady, ConditionDatabaseReady, ConditionDirectoryReady, ConditionPlatformReady}

// Condition reasons.
const (
	ReasonReconciled    = "Reconciled"
	ReasonConflict      = "Conflict"
	ReasonFailed        = "Failed"
	ReasonRetrying      = "RetryingAfterError"
	ReasonSuspended     = "Suspended"
	ReasonResumed       = "NotSuspended"
	ReasonNotConfigured = "NotConfigured"
	ReasonProgressing   = "Progressing"
	// ReasonConfirmationRequired: destruction waits for the confirm-destruction
	// annotation.
	ReasonConfirmationRequired = "ConfirmationRequired"
	ReasonNothingToConfirm     = "NothingToConfirm"
	// ReasonRecovered: a layer that was failing is in place again (an event).
	ReasonRecovered = "Recovered"
)

// Causes: why a layer (or a DatabaseServer) fails, each its own reason. Those that
// only a person can fix turn into Stalled after StallAfter without progress.
const (
	// ReasonServerNotFound: spec.database.serverRef names no DatabaseServer.
	ReasonServerNotFound = "ServerNotFound"
	// ReasonSecretNotFound: a Secret a DatabaseServer names does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonSecretInvalid: a Secret a DatabaseServer names lacks a key, holds what is
	// not a certificate, or is outside the operator's namespace.
	ReasonSecretInvalid = "SecretInvalid"
	// ReasonAuthenticationFailed: the server refused the administrator's login.
	ReasonAuthenticationFailed = "AuthenticationFailed"
	// ReasonCertificateInvalid: the server's certificate does not verify with the CA
	// and host name given.
	ReasonCertificateInvalid = "CertificateInvalid"
	// ReasonUnreachable: the server did not answer (down, or the network between).
	ReasonUnreachable = "Unreachable"
)

// DefaultStallAfter is how long a layer fails on a cause only a person can fix before
// the Region (or DatabaseServer) says Stalled.
const DefaultStallAfter = 3 * time.Minute

// setCondition sets a condition. Its transition time says since when it has said what
// it says: a new reason is a transition too, so a cause's age can be told.
func setCondition(conds *[]metav1.Condition, c metav1.Condition) {
	if old := meta.FindStatusCondition(*conds, c.Type); old != nil && old.Reason != c.Reason {
		meta.RemoveStatusCondition(conds, c.Type)
	}
	meta.SetStatusCondition(conds, c)
}

// stalls says whether the failing condition t, with its reason, has lasted stallAfter
// (zero: DefaultStallAfter) on a cause only a person can fix.
func stalls(conds []metav1.Condition, t string, now metav1.Time, stallAfter time.Duration) bool {
	if stallAfter <= 0 {
		stallAfter = DefaultStallAfter
	}
	c := meta.FindStatusCondition(conds, t)
	return c != nil && c.Status == metav1.ConditionFalse && needsAPerson(c.Reason) && now.Sub(c.LastTransitionTime.Time) >= stallAfter
}

// eventType is the type of event a condition's change calls for.
func (e conditionEvent) eventType() string {
	if e.warning {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}

// needsAPerson says whether a cause is one that retrying cannot fix.
func needsAPerson(reason string) bool {
	switch reason {
	case ReasonServerNotFound, ReasonSecretNotFound, ReasonSecretInvalid, ReasonAuthenticationFailed, ReasonCertificateInvalid:
		return true
	}
	return false
}

// causeError is an error with the reason the status gives it.
type causeError struct {
	reason string
	err    error
}

func (e *causeError) Error() string { return e.err.Error() }
func (e *causeError) Unwrap() error { return e.err }

// withCause gives err a reason; nil stays nil.
func withCause(reason string, err error) error {
	if err == nil {
		return nil
	}
	return &causeError{reason: reason, err: err}
}

// causeOf is the reason of an error: its own, or the kind of connection failure it
// wraps; "" when it has none.
func causeOf(err error) string {
	var c *causeError
	if errors.As(err, &c) {
		return c.reason
	}
	var ce *pgsql.ConnectError
	if errors.As(err, &ce) {
		switch ce.Kind {
		case pgsql.FailedAuthentication:
			return ReasonAuthenticationFailed
		case pgsql.FailedCertificate:
			return ReasonCertificateInvalid
		case pgsql.FailedSettings:
			return ReasonSecretInvalid
		default:
			return ReasonUnreachable
		}
	}
	return ""
}

// firstCause is the reason of the first error that has one.
func firstCause(errs []error) string {
	for _, err := range errs {
		if r := causeOf(err); r != "" {
			return r
		}
	}
	return ""
}

// confirmationMessage says what waits and the exact annotation that releases it.
func confirmationMessage(region *platformv1.Region, held []string) string {
	if len(held) == 1 && held[0] == region.Name {
		return fmt.Sprintf("deleting Region %s under deletionPolicy Delete destroys its namespaces, database and data; to go ahead, annotate it %s=%s, or set spec.deletionPolicy to Retain to keep everything",
			region.Name, naming.AnnotationConfirmDestruction, region.Name)
	}
	return fmt.Sprintf("removing %d townships at once under deletionPolicy Delete destroys their data (%s); to go ahead, annotate the Region %s=%s",
		len(held), strings.Join(held, ", "), naming.AnnotationConfirmDestruction, strings.Join(held, ","))
}

// conditionEvent is an event a condition's change calls for.
type conditionEvent struct {
	warning         bool
	reason, message string
}

// failingCondition says whether a condition reports a failure (not a roll-out, nor a
// layer the Region does not have).
func failingCondition(c *metav1.Condition) bool {
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason != ReasonProgressing && c.Reason != ReasonNotConfigured
}

// transitionEvents are the events between two sets of conditions, for the given types:
// a Warning when one turns failing or fails for a new cause, a Normal one when a
// failing one is true again. Retries that fail the same way change nothing, so a
// cause is told once. Conflicts have events of their own, one per object.
func transitionEvents(old, cur []metav1.Condition, types ...string) []conditionEvent {
	var out []conditionEvent
	for _, t := range types {
		o, c := meta.FindStatusCondition(old, t), meta.FindStatusCondition(cur, t)
		switch {
		case c == nil:
		case failingCondition(c) && c.Reason != ReasonConflict && (!failingCondition(o) || o.Reason != c.Reason):
			out = append(out, conditionEvent{warning: true, reason: c.Reason, message: t + ": " + c.Message})
		case c.Status == metav1.ConditionTrue && failingCondition(o):
			msg := t + " is true again"
			if c.Message != "" {
				msg += ": " + c.Message
			}
			out = append(out, conditionEvent{reason: ReasonRecovered, message: msg})
		}
	}
	return out
}
