package controllers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/jiceng-io/region-operator/internal/childstore"
	desiredpkg "github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// claim decides whether the Region may write the object named by obj (an empty object
// of the right type with only its name and namespace set). It reads the operator's store
// of its objects first; an object missing there is looked up on the API server, since
// the store holds only what carries the operator's label. An object that belongs to another Region, or
// to nobody, is a conflict. On return obj holds the current object, if there is one.
func (r *RegionReconciler) claim(ctx context.Context, region, kind string, obj client.Object) (exists bool, err error) {
	key := client.ObjectKeyFromObject(obj)
	err = r.reader().Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && r.freshNamespace(key.Namespace) {
		// The operator made this namespace moments ago, so nobody else has had the
		// time to put an object of this name into it: no need to ask the API server.
		return false, nil
	}
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
	}
	return true, judge(region, kind, obj)
}

// judge is claim's verdict on an object that exists: nil when the Region may write it.
func judge(region, kind string, obj client.Object) error {
	if obj.GetNamespace() != "" {
		// The operator writes only into namespaces it verified as the Region's, and
		// only objects of the names it derives: there, such an object is its own, even
		// one someone replaced with their own labels and contents. It is taken back.
		return nil
	}
	if ours, owner := ownership(obj.GetLabels(), region, managedBy(obj)); !ours {
		return &conflictError{kind: kind, namespace: obj.GetNamespace(), name: obj.GetName(), owner: owner}
	}
	return nil
}

// ownership decides from an object's labels, and whether the operator's field manager
// wrote it, whether it is the Region's; when not, owner names the Region it belongs to,
// if any. An object the operator wrote whose labels were taken off by hand, all or
// some, is still the Region's: applying puts the labels back.
func ownership(labels map[string]string, region string, operatorWrote bool) (ours bool, owner string) {
	owner = labels[naming.LabelRegion]
	switch {
	case owner == region && labels[naming.LabelManagedBy] == naming.ManagedByValue:
		return true, ""
	case (owner == "" || owner == region) && operatorWrote:
		return true, ""
	case labels[naming.LabelManagedBy] == naming.ManagedByValue && owner != "" && owner != region:
		return false, owner
	default:
		return false, ""
	}
}

// managedBy says whether one of the operator's field managers wrote obj.
func managedBy(obj client.Object) bool {
	for _, f := range obj.GetManagedFields() {
		if naming.IsOperatorManager(f.Manager) {
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
	return r.write(ctx, kind, current, ac)
}

// write applies ac to the object current names, unless the operator applied exactly ac
// and the object is still what that apply made: then the apply would change nothing, so
// no request is sent. Callers have claimed the object.
func (r *RegionReconciler) write(ctx context.Context, kind string, current client.Object, ac runtime.ApplyConfiguration) error {
	return r.send(ctx, kind, current, ac, false)
}

// noVersion is a resourceVersion no object has: the API server's resourceVersions are
// etcd's revisions, and etcd's first write is its revision 2. (A storage of other
// versions could give an object this one; a create would then be an apply.)
const noVersion = "1"

// create makes the object current names from ac when there is none, and only then: the
// apply carries a resourceVersion no object has, so the API server creates the object
// when it is absent and refuses (a conflict) when one exists, whoever made it. Nothing
// is taken over between looking and writing, and nothing is looked up first. created
// says whether it made the object; false with no error means one exists, and current
// is as before.
func (r *RegionReconciler) create(ctx context.Context, kind string, current client.Object, ac runtime.ApplyConfiguration) (created bool, err error) {
	err = r.send(ctx, kind, current, ac, true)
	if apierrors.IsConflict(err) {
		return false, nil
	}
	return err == nil, err
}

// send is write, or create when onlyCreate.
func (r *RegionReconciler) send(ctx context.Context, kind string, current client.Object, ac runtime.ApplyConfiguration, onlyCreate bool) error {
	objKey := client.ObjectKeyFromObject(current)
	desired, err := json.Marshal(ac)
	if err != nil {
		return err
	}
	sum := digest(desired)
	if m, ok := r.store().Applied(kind, objKey); !onlyCreate && ok && m.Digest == sum && r.wroteVersion(kind, current) {
		return nil
	}
	// The object carries the digest of what was applied, so that an operator started
	// again knows it as applied without writing it.
	if desired, err = withMetadata(desired, naming.AnnotationApplied, hex.EncodeToString(sum[:]), onlyCreate); err != nil {
		return err
	}
	// The watch may bring the object before the answer does: while the apply is in
	// flight its creation is known to be the operator's own.
	defer r.store().Applying(kind, objKey)()
	answer := reflect.New(reflect.TypeOf(current).Elem()).Interface().(client.Object)
	answer.SetNamespace(objKey.Namespace)
	answer.SetName(objKey.Name)
	if err := ApplyObject(ctx, r.Client, answer, desired, naming.LayerManager(desiredpkg.LayerOf(kind, objKey.Name))); err != nil {
		if !onlyCreate || !apierrors.IsConflict(err) {
			// A making refused because the object exists wrote nothing: what is
			// remembered of it stands.
			r.store().Remember(kind, objKey, childstore.Applied{})
		}
		return fmt.Errorf("applying %s %s: %w", kind, objKey, err)
	}
	if err := r.dropLegacyManager(ctx, answer); err != nil {
		// Someone wrote in between (a roll-out's status, say): the hand-over is tried
		// again at the object's next apply; what was applied stands.
		log.FromContext(ctx).V(1).Info("field manager hand-over postponed", "kind", kind, "object", objKey.String(), "reason", err.Error())
	}
	// Remember the version the apply made, and for a kind whose status moves on by
	// itself, what tells a status change from drift.
	m := childstore.Applied{Digest: sum, ResourceVersion: answer.GetResourceVersion()}
	if statusMovesOn[kind] {
		m.Generation, m.Meta = answer.GetGeneration(), childstore.MetaOf(answer)
	}
	r.store().Remember(kind, objKey, m)
	return nil
}

// withMetadata sets an annotation in an apply configuration in JSON and, when
// onlyCreate, the resourceVersion no object has.
func withMetadata(data []byte, key, value string, onlyCreate bool) ([]byte, error) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers pass as they were written
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	ann[key] = value
	if onlyCreate {
		md["resourceVersion"] = noVersion
	}
	return json.Marshal(obj)
}

// ApplyObject applies data, an apply configuration in JSON, to the object obj names (an
// object of its kind with only its name and namespace set) under the operator's field
// manager, taking over fields others changed. The API server's answer, the whole
// object, comes into obj in the client's encoding (Protobuf for the built-in kinds),
// which costs both sides less than the JSON that an apply configuration is answered in.
func ApplyObject(ctx context.Context, c client.Client, obj client.Object, data []byte, manager string) error {
	return c.Patch(ctx, obj, client.RawPatch(types.ApplyPatchType, data), client.FieldOwner(manager), client.ForceOwnership)
}

// dropLegacyManager removes the apply entry of the operator's single field manager of
// old from an object that its layer's manager has just applied in full: from then on
// only the layer's manager owns its fields, and a field the spec drops is dropped. obj
// is the apply's answer; the patch is made against its very version.
func (r *RegionReconciler) dropLegacyManager(ctx context.Context, obj client.Object) error {
	var keep []metav1.ManagedFieldsEntry
	for _, f := range obj.GetManagedFields() {
		if f.Manager == naming.FieldManager && f.Operation == metav1.ManagedFieldsOperationApply {
			continue
		}
		keep = append(keep, f)
	}
	if len(keep) == len(obj.GetManagedFields()) {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": obj.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/managedFields", "value": keep},
	})
	if err != nil {
		return err
	}
	return r.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, patch))
}

// digest is what the memo keeps of an applied configuration.
func digest(data []byte) [16]byte {
	full := sha256.Sum256(data)
	return [16]byte(full[:16])
}

// statusMovesOn are the kinds whose status changes without anyone touching what the
// operator applied, and whose generation counts every change of their spec.
var statusMovesOn = map[string]bool{"Deployment": true}

// deleteOwned deletes the object named by obj if it exists and is this Region's.
// Objects of others are never deleted.
func (r *RegionReconciler) deleteOwned(ctx context.Context, region, kind string, obj client.Object) error {
	_, err := r.deleteOwnedReport(ctx, region, kind, obj)
	return err
}

// deleteOwnedReport is deleteOwned, and says whether it deleted anything. What the
// store says is checked again on the API server, and the delete names the very object
// (UID and version) that was checked: a store running behind never deletes an object
// made since under the same name.
func (r *RegionReconciler) deleteOwnedReport(ctx context.Context, region, kind string, obj client.Object) (bool, error) {
	key := client.ObjectKeyFromObject(obj)
	if err := r.reader().Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
	}
	if obj.GetLabels()[naming.LabelRegion] != region || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	if err := r.APIReader.Get(ctx, key, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if obj.GetLabels()[naming.LabelRegion] != region || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	uid, version := obj.GetUID(), obj.GetResourceVersion()
	if err := r.Delete(ctx, obj, client.PropagationPolicy("Background"), client.Preconditions{UID: &uid, ResourceVersion: &version}); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("deleting %s %s: %w", kind, key, err)
	}
	return true, nil
}

// wroteVersion says whether obj is still what the operator's last apply made: the very
// version, or, for a Deployment, a later one with the same generation, labels and
// annotations, which differs only in status (a roll-out). Anything else is drift.
func (r *RegionReconciler) wroteVersion(kind string, obj client.Object) bool {
	m, ok := r.store().Applied(kind, client.ObjectKeyFromObject(obj))
	if !ok || obj.GetResourceVersion() == "" {
		return false
	}
	if m.ResourceVersion == obj.GetResourceVersion() {
		return true
	}
	return statusMovesOn[kind] && m.Generation != 0 && m.Generation == obj.GetGeneration() && m.Meta == childstore.MetaOf(obj)
}

// wrote says whether the operator has applied the object named by key.
func (r *RegionReconciler) wrote(kind string, key client.ObjectKey) bool {
	_, ok := r.store().Applied(kind, key)
	return ok
}

// freshWindow is how long after creating a namespace the operator takes it to hold only
// what the operator put there.
const freshWindow = 30 * time.Second

func (r *RegionReconciler) freshNamespace(ns string) bool {
	if ns == "" {
		return false
	}
	t, ok := r.fresh.Load(ns)
	if ok && time.Since(t.(time.Time)) < freshWindow {
		return true
	}
	if ok {
		r.fresh.Delete(ns)
	}
	return false
}
