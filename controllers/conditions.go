package controllers

// Every condition type and reason of a Region's status, in one place.

import (
	"fmt"
	"strings"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
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
)

// confirmationMessage says what waits and the exact annotation that releases it.
func confirmationMessage(region *platformv1.Region, held []string) string {
	if len(held) == 1 && held[0] == region.Name {
		return fmt.Sprintf("deleting Region %s under deletionPolicy Delete destroys its namespaces, database and data; to go ahead, annotate it %s=%s, or set spec.deletionPolicy to Retain to keep everything",
			region.Name, naming.AnnotationConfirmDestruction, region.Name)
	}
	return fmt.Sprintf("removing %d townships at once under deletionPolicy Delete destroys their data (%s); to go ahead, annotate the Region %s=%s",
		len(held), strings.Join(held, ", "), naming.AnnotationConfirmDestruction, strings.Join(held, ","))
}
