package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/naming"
)

// claim decides whether the Region may write the object named by obj (an empty object
// of the right type with only its name and namespace set). It reads the filtered cache
// first; an object missing there is looked up on the API server, since the cache only
// holds what carries the operator's label. An object that belongs to another Region, or
// to nobody, is a conflict. On return obj holds the current object, if there is one.
func (r *RegionReconciler) claim(ctx context.Context, region, kind string, obj client.Object) (exists bool, err error) {
	key := client.ObjectKeyFromObject(obj)
	err = r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
	}
	labels := obj.GetLabels()
	switch owner := labels[naming.LabelRegion]; {
	case owner == region && labels[naming.LabelManagedBy] == naming.ManagedByValue:
		return true, nil
	case owner == "" && managedBy(obj, naming.FieldManager):
		// Ours, with the labels taken off by hand: applying puts them back.
		return true, nil
	case labels[naming.LabelManagedBy] == naming.ManagedByValue && owner != "":
		return true, &conflictError{kind: kind, namespace: obj.GetNamespace(), name: obj.GetName(), owner: owner}
	default:
		return true, &conflictError{kind: kind, namespace: obj.GetNamespace(), name: obj.GetName()}
	}
}

func managedBy(obj client.Object, manager string) bool {
	for _, f := range obj.GetManagedFields() {
		if f.Manager == manager {
			return true
		}
	}
	return false
}

// apply writes ac with server-side apply under the operator's field manager, after
// claim has said the object is the Region's to write. Forcing ownership puts back
// fields that someone else changed by hand.
func (r *RegionReconciler) apply(ctx context.Context, region, kind string, current client.Object, ac runtime.ApplyConfiguration) error {
	if _, err := r.claim(ctx, region, kind, current); err != nil {
		return err
	}
	return r.write(ctx, kind, client.ObjectKeyFromObject(current), ac)
}

// write applies ac without looking first; callers have claimed the object.
func (r *RegionReconciler) write(ctx context.Context, kind string, key client.ObjectKey, ac runtime.ApplyConfiguration) error {
	if err := r.Apply(ctx, ac, client.FieldOwner(naming.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, key, err)
	}
	return nil
}

// deleteOwned deletes the object named by obj if it exists and is this Region's.
// Objects of others are never deleted.
func (r *RegionReconciler) deleteOwned(ctx context.Context, region, kind string, obj client.Object) error {
	key := client.ObjectKeyFromObject(obj)
	if err := r.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading %s %s: %w", kind, key, err)
	}
	if obj.GetLabels()[naming.LabelRegion] != region || obj.GetDeletionTimestamp() != nil {
		return nil
	}
	if err := r.Delete(ctx, obj, client.PropagationPolicy("Background")); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting %s %s: %w", kind, key, err)
	}
	return nil
}
