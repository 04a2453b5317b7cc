package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
	"github.com/jiceng-io/region-operator/internal/render"
)

// Actions on Kubernetes objects, as a plan lists them.
const (
	ActionCreate = "create"
	ActionChange = "change"
	ActionRetain = "retain"
	ActionDelete = "delete"
	ActionPrune  = "prune"
)

// ObjectChange is one Kubernetes object a plan creates, changes, retains, deletes or
// prunes.
type ObjectChange struct {
	Action    string `json:"action"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Township  string `json:"township,omitempty"`
	// Fields are the paths that change, for a change.
	Fields      []string `json:"fields,omitempty"`
	Destructive bool     `json:"destructive,omitempty"`
	Note        string   `json:"note,omitempty"`
}

func (c ObjectChange) key() string { return c.Kind + " " + c.Namespace + "/" + c.Name }

// Plan is what applying a Region would do.
type Plan struct {
	Region string `json:"region"`
	// New says the Region does not exist yet.
	New bool `json:"new"`
	// Local says the plan was made from the file alone, with no cluster.
	Local bool `json:"local,omitempty"`
	// DryRun is the API server's verdict on the file.
	DryRun  string         `json:"dryRun"`
	Objects []ObjectChange `json:"objects"`
	// Database names the database and server the statements run on.
	Database   string              `json:"database,omitempty"`
	Statements []desired.Statement `json:"statements"`
	// Withheld says why the plan leaves destruction out, when it does.
	Withheld string `json:"withheld,omitempty"`
	// Destroys are the townships whose data the change destroys (or would, once
	// confirmed), as the spec names them.
	Destroys []string `json:"destroys,omitempty"`
	// heldSchemas are the schemas the database layer holds for confirmation.
	heldSchemas []string
	// Confirmation is the confirm-destruction annotation the change waits for, ""
	// when it waits for none.
	Confirmation string `json:"confirmation,omitempty"`
}

// Changes says whether applying the file changes anything.
func (p *Plan) Changes() bool { return len(p.Objects) > 0 || len(p.Statements) > 0 }

// PlanOptions say where a plan is made.
type PlanOptions struct {
	// Local plans from the file alone: everything is made anew, on a server holding
	// nothing of the Region.
	Local bool
	// ClusterName is the cluster's identity in the database markers; by default the
	// kube-system namespace's UID, as the operator takes it.
	ClusterName string
	// OperatorNamespace is where the DatabaseServers' Secrets are.
	OperatorNamespace string
}

// newRegionUID stands for the UID a Region not yet created will get.
const newRegionUID = "<uid of the new Region>"

// ReadRegion reads a Region from a YAML or JSON file.
func ReadRegion(path string) (*platformv1.Region, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rg := &platformv1.Region{}
	if err := yaml.UnmarshalStrict(data, rg); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if rg.Kind != "Region" {
		return nil, fmt.Errorf("%s holds a %s, not a Region", path, rg.Kind)
	}
	return rg, nil
}

// localDefaults fills in what the API server's defaults would, for a plan made with
// no server.
func localDefaults(rg *platformv1.Region) {
	if rg.Spec.DeletionPolicy == "" {
		rg.Spec.DeletionPolicy = platformv1.DeletionPolicyRetain
	}
	if p := rg.Spec.Platform; p != nil {
		if len(p.Modules) == 0 {
			p.Modules = []string{"portal", "services", "deliberation", "emergency", "supervision"}
		}
		if p.Replicas == nil {
			one := int32(1)
			p.Replicas = &one
		}
	}
	for i := range rg.Spec.Townships {
		for j := range rg.Spec.Townships[i].Branches {
			if b := &rg.Spec.Townships[i].Branches[j]; b.Kind == "" {
				b.Kind = platformv1.BranchVillage
			}
		}
	}
}

// dryRunError is the API server refusing the file.
type dryRunError struct{ err error }

func (e *dryRunError) Error() string { return "the API server refuses the file: " + e.err.Error() }

// MakePlan plans applying file. c is nil for a local plan.
func MakePlan(ctx context.Context, c client.Client, file *platformv1.Region, opts PlanOptions) (*Plan, error) {
	p := &Plan{Region: file.Name, Local: opts.Local || c == nil}
	rg := file.DeepCopy()
	var live *platformv1.Region
	if p.Local {
		localDefaults(rg)
		rg.UID = newRegionUID
		p.New = true
		p.DryRun = "not asked (--local)"
	} else {
		live = &platformv1.Region{}
		switch err := c.Get(ctx, client.ObjectKey{Name: file.Name}, live); {
		case apierrors.IsNotFound(err):
			live, p.New = nil, true
		case err != nil:
			return nil, err
		}
		dry, err := dryRun(ctx, c, file, live)
		if err != nil {
			return p, &dryRunError{err}
		}
		p.DryRun = "accepted (server-side dry run)"
		rg = dry
		if p.New {
			rg.UID = newRegionUID
		}
		if live != nil {
			rg.Status = live.Status
		}
	}

	srv, cfg, err := databaseServer(ctx, c, rg, opts)
	if err != nil {
		return p, err
	}
	cluster := opts.ClusterName
	if cluster == "" && c != nil {
		ns := &corev1.Namespace{}
		if err := c.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, ns); err != nil {
			return p, fmt.Errorf("reading the cluster's identity (namespace kube-system): %w", err)
		}
		cluster = string(ns.UID)
	}
	if cluster == "" {
		cluster = "<cluster>"
	}
	if err := planDatabase(ctx, p, c, rg, cfg, cluster); err != nil {
		return p, err
	}
	if err := planObjects(ctx, p, c, rg, live, srv); err != nil {
		return p, err
	}
	return p, nil
}

// dryRun is the Region as the API server would store the file in the live one's
// place (or as a new one): validated and defaulted. The file's spec replaces the live
// spec whole, as a pipeline that owns the Region applies it; the live Region's
// annotations stay unless the file sets them, and so do its finalizers.
func dryRun(ctx context.Context, c client.Client, file, live *platformv1.Region) (*platformv1.Region, error) {
	obj := file.DeepCopy()
	obj.APIVersion, obj.Kind = platformv1.GroupVersion.String(), "Region"
	obj.UID, obj.ManagedFields, obj.Status = "", nil, platformv1.RegionStatus{}
	if live == nil {
		obj.ResourceVersion = ""
		return obj, c.Create(ctx, obj, client.DryRunAll)
	}
	obj.ResourceVersion, obj.Finalizers = live.ResourceVersion, live.Finalizers
	annotations := map[string]string{}
	for k, v := range live.Annotations {
		annotations[k] = v
	}
	for k, v := range file.Annotations {
		annotations[k] = v
	}
	obj.Annotations = annotations
	if len(obj.Labels) == 0 {
		obj.Labels = live.Labels
	}
	return obj, c.Update(ctx, obj, client.DryRunAll)
}

// databaseServer is where the Region's database is, as its credential Secrets say,
// and how to read its catalog (nil for a local plan or a Region without a database).
func databaseServer(ctx context.Context, c client.Client, rg *platformv1.Region, opts PlanOptions) (desired.Server, *pgsql.ServerConfig, error) {
	if rg.Spec.Database == nil {
		return desired.Server{}, nil, nil
	}
	if c == nil {
		return desired.Server{Host: "<host of DatabaseServer " + rg.Spec.Database.ServerRef + ">", Port: 5432, SSLMode: "require"}, nil, nil
	}
	ds := &platformv1.DatabaseServer{}
	if err := c.Get(ctx, client.ObjectKey{Name: rg.Spec.Database.ServerRef}, ds); err != nil {
		return desired.Server{}, nil, fmt.Errorf("spec.database.serverRef: DatabaseServer %s: %w", rg.Spec.Database.ServerRef, err)
	}
	ns := opts.OperatorNamespace
	if ns == "" {
		ns = controllers.DefaultSecretNamespace
	}
	cfg, err := controllers.ServerConfig(ctx, c, ds, ns)
	if err != nil {
		return desired.Server{}, nil, fmt.Errorf("reading the catalog of DatabaseServer %s needs its Secrets (with your own access): %w", ds.Name, err)
	}
	return desired.Server{Host: cfg.Host, Port: cfg.Port, SSLMode: cfg.SSLMode, CACert: cfg.CACert}, &cfg, nil
}

// rotationAsked says whether the Region asks for a rotation not yet carried out.
func rotationAsked(rg *platformv1.Region) bool {
	token := rg.Annotations[naming.AnnotationRotateCredentials]
	return token != "" && (rg.Status.Database == nil || rg.Status.Database.RotationToken != token)
}

// planDatabase is the SQL part: the same plan the operator makes, from the catalog as
// the server holds it now (or an empty one for a local plan).
func planDatabase(ctx context.Context, p *Plan, c client.Client, rg *platformv1.Region, cfg *pgsql.ServerConfig, cluster string) error {
	if rg.Spec.Database == nil {
		return nil
	}
	db := desired.Database(rg, cluster, func(string) bool { return true })
	if rotationAsked(rg) {
		// As the operator decides it, Secret by Secret: one that has the token's
		// password already is not made new again.
		token := rg.Annotations[naming.AnnotationRotateCredentials]
		for _, cred := range desired.Credentials(rg) {
			s := &corev1.Secret{}
			if c != nil && c.Get(ctx, client.ObjectKey{Namespace: cred.Namespace, Name: cred.Secret}, s) == nil &&
				s.Annotations[naming.AnnotationRotation] == token {
				continue
			}
			db.Reset[cred.Role] = true
		}
	}
	p.Database = db.Database + " on DatabaseServer " + rg.Spec.Database.ServerRef
	cat := &desired.Catalog{}
	if cfg != nil {
		pool := pgsql.NewPool(*cfg)
		defer pool.Close()
		var err error
		if cat, err = pgsql.Snapshot(ctx, pool, db); err != nil {
			return fmt.Errorf("reading the catalog of %s: %w", p.Database, err)
		}
	}
	plan := desired.PlanDatabase(db, cat)
	if plan.Blocked {
		return fmt.Errorf("the database cannot be planned: %w", errors.Join(plan.Conflicts...))
	}
	p.Statements = plan.Statements
	p.Withheld = plan.Withheld
	for _, schema := range append(plan.Dropped, plan.Held...) {
		p.Destroys = append(p.Destroys, townshipOf(rg, schema))
	}
	p.heldSchemas = plan.Held
	return nil
}

// townshipOf names a schema's township as the spec (and the confirmation annotation)
// does: the live Region's township whose schema it is, else the schema's own name.
func townshipOf(rg *platformv1.Region, schema string) string {
	if rg.Status.Townships != nil {
		for _, t := range rg.Status.Townships {
			if naming.TownshipSchema(t.Name) == schema {
				return t.Name
			}
		}
	}
	for _, r := range rg.Status.Retained {
		if r.Township != "" && naming.TownshipSchema(r.Township) == schema {
			return r.Township
		}
	}
	return schema
}

// planObjects is the Kubernetes part: every object the Region becomes, compared with
// the live one, and what leaves.
func planObjects(ctx context.Context, p *Plan, c client.Client, rg, live *platformv1.Region, srv desired.Server) error {
	rotation := rotationAsked(rg)
	passwords := map[string]string{}
	objs, err := desired.Objects(rg, desired.Options{Server: srv, Password: func(role string) string {
		if pw, ok := passwords[role]; ok {
			return pw
		}
		return desired.PasswordPlaceholder
	}})
	if err != nil {
		return err
	}
	want := map[string]bool{}
	found := make([]*ObjectChange, len(objs))
	var g errgroup.Group
	g.SetLimit(8)
	for i, o := range objs {
		u, err := toUnstructured(o.Config)
		if err != nil {
			return err
		}
		ch := ObjectChange{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Township: o.Township}
		want[ch.key()] = true
		g.Go(func() error {
			if c == nil {
				ch.Action = ActionCreate
				found[i] = &ch
				return nil
			}
			current := &unstructured.Unstructured{}
			current.SetGroupVersionKind(u.GroupVersionKind())
			switch err := c.Get(ctx, client.ObjectKey{Namespace: ch.Namespace, Name: ch.Name}, current); {
			case apierrors.IsNotFound(err):
				ch.Action = ActionCreate
				found[i] = &ch
				return nil
			case apierrors.IsForbidden(err):
				ch.Action, ch.Note = ActionChange, "not compared: "+err.Error()
				found[i] = &ch
				return nil
			case err != nil:
				return err
			}
			if u.GetKind() == "Secret" {
				// Compared with the live password in place, never shown; a rotation
				// changes it.
				u, ch.Fields = secretAsLive(u, current, rotation)
			}
			applied, err := dryRunApply(ctx, c, u, o.Layer)
			if err != nil {
				return fmt.Errorf("%s: %w", ch.key(), err)
			}
			ch.Fields = append(ch.Fields, diffPaths("", content(current), content(applied))...)
			if len(ch.Fields) > 0 {
				ch.Action = ActionChange
				sort.Strings(ch.Fields)
				ch.Fields = slices.Compact(ch.Fields)
				found[i] = &ch
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	var changes []ObjectChange
	for _, ch := range found {
		if ch != nil {
			changes = append(changes, *ch)
		}
	}
	if live != nil && c != nil {
		gone, err := leaving(ctx, c, rg, want)
		if err != nil {
			return err
		}
		changes = append(changes, gone...)
	}
	// Each layer decides on its own, as the operator's do: the namespace layer over the
	// namespaces it deletes, the database layer over the schemas it drops.
	confirm := rg.Annotations[naming.AnnotationConfirmDestruction]
	var deleted []string
	for _, ch := range changes {
		if ch.Kind == "Namespace" && ch.Action == ActionDelete {
			deleted = append(deleted, ch.Township)
		}
	}
	nsHeld := policy(rg) == platformv1.DeletionPolicyDelete && desired.NeedsConfirmation(confirm, deleted)
	inSpec := map[string]bool{}
	for _, t := range rg.Spec.Townships {
		inSpec[t.Name] = true
	}
	if nsHeld {
		// The namespace layer changes none of the namespaces that leave until then.
		kept := changes[:0]
		for _, ch := range changes {
			switch {
			case ch.Kind == "Namespace" && ch.Action == ActionDelete:
				ch.Note += "; waits for confirmation"
			case ch.Kind == "Namespace" && ch.Action == ActionRetain,
				ch.Kind == "RoleBinding" && ch.Name == naming.RoleBindingTownshipAdmins && !inSpec[ch.Township]:
				continue
			}
			kept = append(kept, ch)
		}
		changes = kept
	}
	p.Objects = changes
	for _, t := range deleted {
		if !slices.Contains(p.Destroys, t) {
			p.Destroys = append(p.Destroys, t)
		}
	}
	sort.Strings(p.Destroys)
	if nsHeld || len(p.heldSchemas) > 0 {
		p.Confirmation = naming.AnnotationConfirmDestruction + "=" + strings.Join(p.Destroys, ",")
	}
	return nil
}

// toUnstructured turns an apply configuration into an object.
func toUnstructured(ac any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(ac)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return u, nil
}

// secretAsLive puts the live Secret's password (and the URI that holds it) into the
// desired Secret, so that only what else changes is seen; a rotation changes both.
func secretAsLive(want, live *unstructured.Unstructured, rotation bool) (*unstructured.Unstructured, []string) {
	data, _, _ := unstructured.NestedMap(want.Object, "data")
	liveData, _, _ := unstructured.NestedMap(live.Object, "data")
	for _, k := range []string{"password", "uri"} {
		if v, ok := liveData[k]; ok {
			data[k] = v
		}
	}
	_ = unstructured.SetNestedMap(want.Object, data, "data")
	// The password-set annotation records the digest of the live password.
	if a := live.GetAnnotations()[naming.AnnotationPasswordSet]; a != "" {
		ann := want.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[naming.AnnotationPasswordSet] = a
		want.SetAnnotations(ann)
	}
	if rotation {
		return want, []string{"data.password", "data.uri", "metadata.annotations." + naming.AnnotationRotation}
	}
	return want, nil
}

// dryRunApply is what the operator's apply of u would leave, as the API server says
// (server-side apply, dry run, the layer's field manager).
func dryRunApply(ctx context.Context, c client.Client, u *unstructured.Unstructured, layer string) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	out := &unstructured.Unstructured{}
	out.SetGroupVersionKind(u.GroupVersionKind())
	out.SetNamespace(u.GetNamespace())
	out.SetName(u.GetName())
	err = c.Patch(ctx, out, client.RawPatch(types.ApplyPatchType, data), client.DryRunAll,
		client.FieldOwner(naming.LayerManager(layer)), client.ForceOwnership)
	return out, err
}

// content is the part of an object a plan compares: everything but the server's own
// bookkeeping and what the operator records of its applies.
func content(u *unstructured.Unstructured) map[string]any {
	obj := u.DeepCopy().Object
	delete(obj, "status")
	meta, _ := obj["metadata"].(map[string]any)
	for _, k := range []string{"resourceVersion", "managedFields", "generation", "uid", "creationTimestamp"} {
		delete(meta, k)
	}
	if ann, ok := meta["annotations"].(map[string]any); ok {
		delete(ann, naming.AnnotationApplied)
		if len(ann) == 0 {
			delete(meta, "annotations")
		}
	}
	return obj
}

// diffPaths are the paths where a and b differ, down to leaves.
func diffPaths(prefix string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, diffPaths(p, am[k], bm[k])...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{prefix}
}

// leaving are the objects of the Region that the new spec no longer names: township
// namespaces whose township left (now or earlier: retained, or deleted under Delete;
// retained when a township names them as formerly its own), the township admins'
// binding of a namespace retained now, and the platform's and access objects that
// drop out (pruned, deleted).
func leaving(ctx context.Context, c client.Client, rg *platformv1.Region, want map[string]bool) ([]ObjectChange, error) {
	inSpec, successor := map[string]bool{}, map[string]string{}
	for _, t := range rg.Spec.Townships {
		inSpec[t.Name] = true
		for _, f := range t.Formerly {
			if f.Name != t.Name {
				successor[f.Name] = t.Name
			}
		}
	}
	var out []ObjectChange
	leavingNS := map[string]string{} // namespace: retain or delete
	owned := map[string]bool{naming.HubNamespace(rg.Name): true}
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss, client.MatchingLabels{naming.LabelRegion: rg.Name, naming.LabelLevel: naming.LevelTownship}); err != nil {
		return nil, fmt.Errorf("listing the Region's namespaces: %w", err)
	}
	for _, ns := range nss.Items {
		t := ns.Labels[naming.LabelTownship]
		if !desired.OwnsNamespace(rg, &ns) {
			continue
		}
		owned[ns.Name] = true
		if inSpec[t] {
			continue
		}
		if ns.DeletionTimestamp != nil {
			leavingNS[ns.Name] = "terminating" // on its way out, with everything in it
			continue
		}
		ch := ObjectChange{Kind: "Namespace", Name: ns.Name, Township: t}
		switch {
		case successor[t] != "":
			ch.Action, ch.Note = ActionRetain, "formerly of "+successor[t]+": retained, labelled with its successor"
		case policy(rg) == platformv1.DeletionPolicyDelete:
			ch.Action, ch.Destructive, ch.Note = ActionDelete, true, "township removed, deletionPolicy Delete: the namespace and everything in it"
		default:
			ch.Action, ch.Note = ActionRetain, "township removed, deletionPolicy Retain: labelled retained"
		}
		leavingNS[ns.Name] = ch.Action
		if ch.Action == ActionRetain && ns.Labels[naming.LabelRetained] == "true" && ns.Labels[naming.LabelSuccessor] == successor[t] {
			leavingNS[ns.Name] = "retained"
			continue // retained already, as it should be
		}
		out = append(out, ch)
		if ch.Action == ActionRetain {
			rb := ObjectChange{Action: ActionDelete, Kind: "RoleBinding", Namespace: ns.Name, Name: naming.RoleBindingTownshipAdmins, Township: t,
				Destructive: true, Note: "the township's admins lose their access to the retained namespace"}
			if exists(ctx, c, &unstructured.Unstructured{}, "rbac.authorization.k8s.io/v1", "RoleBinding", ns.Name, rb.Name) {
				out = append(out, rb)
			}
		}
	}
	for _, kind := range []struct{ apiVersion, kind string }{
		{"apps/v1", "Deployment"}, {"v1", "Service"}, {"v1", "ConfigMap"},
		{"rbac.authorization.k8s.io/v1", "RoleBinding"}, {"v1", "ResourceQuota"},
	} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(kind.apiVersion)
		list.SetKind(kind.kind + "List")
		if err := c.List(ctx, list, client.MatchingLabels{naming.LabelRegion: rg.Name}); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", kind.kind, err)
		}
		for _, o := range list.Items {
			ch := ObjectChange{Kind: kind.kind, Namespace: o.GetNamespace(), Name: o.GetName(), Township: o.GetLabels()[naming.LabelTownship]}
			if !owned[ch.Namespace] {
				continue // another Region's, or one retained for an earlier Region of the name
			}
			_, platform := o.GetLabels()[render.LabelModule]
			if want[ch.key()] || leavingNS[ch.Namespace] == "terminating" || o.GetDeletionTimestamp() != nil ||
				(leavingNS[ch.Namespace] == ActionDelete && !platform) {
				continue // kept, or goes with its namespace (the platform's objects are pruned first)
			}
			if ch.Kind == "RoleBinding" && ch.Name == naming.RoleBindingTownshipAdmins && leavingNS[ch.Namespace] == ActionRetain {
				continue // listed with its namespace
			}
			switch {
			case platform:
				ch.Action, ch.Note = ActionPrune, "no longer in the platform's render"
			case leavingNS[ch.Namespace] != "":
				continue // stays in the retained namespace
			default:
				ch.Action, ch.Note = ActionDelete, "the spec no longer asks for it"
			}
			ch.Destructive = true
			out = append(out, ch)
		}
	}
	return out, nil
}

func exists(ctx context.Context, c client.Client, u *unstructured.Unstructured, apiVersion, kind, ns, name string) bool {
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u) == nil
}

// WritePlan writes a plan as a person reviews it.
func WritePlan(w io.Writer, p *Plan, colour bool) {
	what := "changes to the live Region"
	if p.New {
		what = "a new county"
	}
	if p.Local {
		what += ", planned from the file alone"
	}
	fmt.Fprintf(w, "Plan for Region %s (%s)\n", p.Region, what)
	fmt.Fprintf(w, "API server: %s\n", p.DryRun)

	counts := map[string]int{}
	for _, ch := range p.Objects {
		counts[ch.Action]++
	}
	fmt.Fprintf(w, "\nKubernetes objects: %d to create, %d to change, %d to retain, %d to delete, %d to prune\n",
		counts[ActionCreate], counts[ActionChange], counts[ActionRetain], counts[ActionDelete], counts[ActionPrune])
	signs := map[string]string{ActionCreate: "+", ActionChange: "~", ActionRetain: "=", ActionDelete: "-", ActionPrune: "-"}
	for _, ch := range p.Objects {
		name := ch.Name
		if ch.Namespace != "" {
			name = ch.Namespace + "/" + ch.Name
		}
		line := fmt.Sprintf("  %s %s %s", signs[ch.Action], ch.Kind, name)
		if ch.Action == ActionPrune {
			line += " (prune)"
		}
		if len(ch.Fields) > 0 {
			line += ": " + strings.Join(ch.Fields, ", ")
		}
		if ch.Note != "" {
			line += " — " + ch.Note
		}
		if ch.Destructive {
			line = paint(colour, "red", line+"  [destructive]")
		}
		fmt.Fprintln(w, line)
	}

	if p.Database != "" {
		fmt.Fprintf(w, "\nSQL on database %s: %d statements\n", p.Database, len(p.Statements))
		tx := -1
		for _, st := range p.Statements {
			if st.Tx != tx || st.Tx == 0 {
				where := "the server's maintenance database"
				if st.Database != "" {
					where = "database " + st.Database
				}
				if st.Tx == 0 {
					fmt.Fprintf(w, "  -- on its own, in %s\n", where)
				} else {
					fmt.Fprintf(w, "  -- transaction %d, in %s\n", st.Tx, where)
				}
				tx = st.Tx
			}
			line := "  " + strings.ReplaceAll(st.SQL, "\n", "\n  ") + ";"
			if len(st.Args) > 0 {
				line += fmt.Sprintf("  -- %v", st.Args)
			}
			if st.Kind.Destructive() {
				line = paint(colour, "red", line+"  -- DESTRUCTIVE ("+string(st.Kind)+")")
			}
			fmt.Fprintln(w, line)
		}
		if p.Withheld != "" {
			fmt.Fprintf(w, "  -- withheld: %s\n", p.Withheld)
		}
	}

	fmt.Fprintln(w)
	switch {
	case p.Confirmation != "":
		fmt.Fprintf(w, "%s the change destroys the data of %d townships (%s): nothing of it is destroyed until the Region carries %s (kubectl region confirm %s %s)\n",
			paint(colour, "red", "Confirmation needed:"), len(p.Destroys), strings.Join(p.Destroys, ", "), p.Confirmation, p.Region, strings.Join(p.Destroys, " "))
	case len(p.Destroys) > 0:
		fmt.Fprintf(w, "Destroys the data of %s; no confirmation needed (up to %d townships at once)\n", strings.Join(p.Destroys, ", "), desired.MaxUnconfirmedDestruction)
	default:
		fmt.Fprintln(w, "Destroys nothing.")
	}
	if !p.Changes() {
		fmt.Fprintln(w, "No changes.")
	}
}

func newPlanCommand(o *Options) *cobra.Command {
	var (
		file   string
		output string
		popts  PlanOptions
	)
	cmd := &cobra.Command{
		Use:   "plan -f FILE [NAME]",
		Short: "Show what applying FILE would do: the API server's verdict, every object and every SQL statement, in order",
		Long: `Plan shows what applying a Region file would do to the live Region (or to nothing, for
a new county): the API server's own verdict on the file (server-side dry run), then
every Kubernetes object created, changed (the fields), retained, deleted or pruned, and
every SQL statement the operator would run, in order, with real identifiers and never a
password. Destructive steps are marked, and so is the confirmation a change waits for.

Exit codes: 0 no changes, 1 changes, 2 an error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("-f FILE is required")
			}
			rg, err := ReadRegion(file)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				rg.Name = args[0]
			}
			var c client.Client
			if !popts.Local {
				if c, err = o.Client(); err != nil {
					return err
				}
			}
			p, err := MakePlan(cmd.Context(), c, rg, popts)
			var refused *dryRunError
			if errors.As(err, &refused) {
				if output == "" {
					fmt.Fprintf(o.Out, "Plan for Region %s\nAPI server: %s\n", rg.Name, refused.Error())
				}
				return &exitError{code: ExitError, err: refused}
			}
			if err != nil {
				return err
			}
			if output != "" {
				if err := printOutput(o.Out, output, p); err != nil {
					return err
				}
			} else {
				WritePlan(o.Out, p, o.colour())
			}
			if p.Changes() {
				return &exitError{code: ExitChanges}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "the Region file")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml")
	cmd.Flags().BoolVar(&popts.Local, "local", false, "plan from the file alone, with no cluster (a new county on an empty server)")
	cmd.Flags().StringVar(&popts.ClusterName, "cluster-name", "", "the cluster's identity in database markers (default: as the operator takes it)")
	cmd.Flags().StringVar(&popts.OperatorNamespace, "operator-namespace", controllers.DefaultSecretNamespace, "the namespace of the DatabaseServers' Secrets")
	return cmd
}
