package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// KeepHeld and ReadRegion let the tests keep a Region as a reconcile that held its
// status would, and read it as the next reconcile does.
func (r *RegionReconciler) KeepHeld(rg *platformv1.Region) { r.keepHeld(rg) }

func (r *RegionReconciler) ReadRegion(ctx context.Context, key client.ObjectKey) (*platformv1.Region, error) {
	return r.readRegion(ctx, key)
}

// MaxHeldRegions is maxHeldRegions.
const MaxHeldRegions = maxHeldRegions

// Create lets the tests make an object as the reconciler makes a namespace it does not
// have: only when there is none.
func (r *RegionReconciler) Create(ctx context.Context, kind string, obj client.Object, ac runtime.ApplyConfiguration) (bool, error) {
	return r.create(ctx, kind, obj, ac)
}
