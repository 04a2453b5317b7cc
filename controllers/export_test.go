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
