package plugin

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
)

// layerConditions are the conditions status shows, in the order the layers run.
var layerConditions = []string{
	controllers.ConditionReady, controllers.ConditionReconciling, controllers.ConditionStalled,
	controllers.ConditionNamespacesReady, controllers.ConditionAccessReady, controllers.ConditionDatabaseReady,
	controllers.ConditionDirectoryReady, controllers.ConditionPlatformReady, controllers.ConditionConfirmationRequired,
	controllers.ConditionSuspended,
}

// WriteStatus writes what `kubectl region status` shows: the conditions layer by
// layer, the database server and its version, the last rotation, what is retained,
// what waits for confirmation and the Region's recent events.
func WriteStatus(w io.Writer, rg *platformv1.Region, server *platformv1.DatabaseServer, events []corev1.Event, colour bool) {
	fmt.Fprintf(w, "Region %s: %s (code %s), %d townships, %d branches, generation %d (observed %d)\n",
		rg.Name, rg.Spec.DisplayName, rg.Spec.Code, rg.Status.TownshipCount, rg.Status.BranchCount, rg.Generation, rg.Status.ObservedGeneration)
	fmt.Fprintf(w, "Deletion policy: %s", policy(rg))
	if rg.Spec.Suspend {
		fmt.Fprint(w, " · suspended")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nConditions:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range layerConditions {
		c := meta.FindStatusCondition(rg.Status.Conditions, t)
		if c == nil {
			continue
		}
		status := string(c.Status)
		good := (c.Status == "True") != slices.Contains([]string{controllers.ConditionReconciling, controllers.ConditionStalled,
			controllers.ConditionConfirmationRequired, controllers.ConditionSuspended}, t)
		if good {
			status = paint(colour, "green", status)
		} else {
			status = paint(colour, "red", status)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\tsince %s\t%s\n", t, status, c.Reason, c.LastTransitionTime.UTC().Format(time.RFC3339), c.Message)
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nDatabase:")
	if rg.Spec.Database == nil {
		fmt.Fprintln(w, "  none (spec.database is not set)")
	} else {
		name := ""
		if rg.Status.Database != nil {
			name = rg.Status.Database.Name
		}
		fmt.Fprintf(w, "  %s on DatabaseServer %s", name, rg.Spec.Database.ServerRef)
		if server != nil {
			ready := "not ready"
			if c := meta.FindStatusCondition(server.Status.Conditions, "Ready"); c != nil && c.Status == "True" {
				ready = "ready"
			}
			fmt.Fprintf(w, " (%s:%d, PostgreSQL %s, %s)", server.Spec.Host, server.Spec.Port, orNone(server.Status.ServerVersion), ready)
		} else {
			fmt.Fprint(w, " (not readable)")
		}
		fmt.Fprintln(w)
		if d := rg.Status.Database; d != nil && d.LastRotationTime != nil {
			fmt.Fprintf(w, "  last rotation: %s (token %q)\n", d.LastRotationTime.UTC().Format(time.RFC3339), d.RotationToken)
		} else {
			fmt.Fprintln(w, "  last rotation: never")
		}
	}
	if p := rg.Status.Platform; p != nil {
		fmt.Fprintf(w, "\nPlatform: %d/%d Deployments available, %d objects\n", p.Available, p.Deployments, p.Objects)
	}

	fmt.Fprintln(w, "\nRetained:")
	if len(rg.Status.Retained) == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	for _, r := range rg.Status.Retained {
		fmt.Fprintf(w, "  %s %s (township %s)\n", r.Kind, r.Name, r.Township)
	}
	fmt.Fprintln(w, "\nWaiting for confirmation:")
	if len(rg.Status.PendingDestruction) == 0 {
		fmt.Fprintln(w, "  nothing")
	} else {
		fmt.Fprintf(w, "  %s — kubectl region confirm %s %s\n", paint(colour, "red", strings.Join(rg.Status.PendingDestruction, ", ")), rg.Name, strings.Join(rg.Status.PendingDestruction, " "))
	}

	fmt.Fprintln(w, "\nEvents:")
	if len(events) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", eventTime(e).UTC().Format(time.RFC3339), e.Type, e.Reason, e.Message)
	}
	_ = tw.Flush()
}

func policy(rg *platformv1.Region) platformv1.DeletionPolicy {
	if rg.Spec.DeletionPolicy == "" {
		return platformv1.DeletionPolicyRetain
	}
	return rg.Spec.DeletionPolicy
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.FirstTimestamp.Time
}

// maxEvents is how many of the Region's events status shows, the newest.
const maxEvents = 15

func newStatusCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: "Show a Region's conditions layer by layer, its database server, last rotation, what is retained or waits, and its recent events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := o.Client()
			if err != nil {
				return err
			}
			rg := &platformv1.Region{}
			if err := c.Get(ctx, client.ObjectKey{Name: args[0]}, rg); err != nil {
				return err
			}
			var server *platformv1.DatabaseServer
			if rg.Spec.Database != nil {
				server = &platformv1.DatabaseServer{}
				if err := c.Get(ctx, client.ObjectKey{Name: rg.Spec.Database.ServerRef}, server); err != nil {
					server = nil
				}
			}
			events, err := regionEvents(cmd, c, rg)
			if err != nil {
				return err
			}
			WriteStatus(o.Out, rg, server, events, o.colour())
			return nil
		},
	}
}

// regionEvents are the Region's newest events, oldest first. A cluster-scoped
// object's events are in the default namespace.
func regionEvents(cmd *cobra.Command, c client.Client, rg *platformv1.Region) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := c.List(cmd.Context(), &list, client.InNamespace(corev1.NamespaceDefault)); err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == "Region" && e.InvolvedObject.Name == rg.Name && e.InvolvedObject.UID == rg.UID {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b corev1.Event) int { return eventTime(a).Compare(eventTime(b)) })
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out, nil
}
