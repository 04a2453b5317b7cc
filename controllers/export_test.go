package controllers

import (
	"context"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// RetireDatabase lets the tests carry out a Region's deletion policy on its database
// from a Region as they give it (a status behind, a server out of reach).
func (r *RegionReconciler) RetireDatabase(ctx context.Context, rg *platformv1.Region) error {
	return r.retireDatabase(ctx, rg)
}

// AwaitConfirmation lets the tests write a Region's status awaiting confirmation.
func (r *RegionReconciler) AwaitConfirmation(ctx context.Context, rg *platformv1.Region, held []string) error {
	return r.awaitConfirmation(ctx, rg, held)
}

// Made has the reconciler remember that it made something of the Region on a server.
func (r *RegionReconciler) Made(rg *platformv1.Region, server string) {
	r.made.Store(rg.UID, server)
}
