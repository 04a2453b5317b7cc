package controllers

import (
	"maps"
	"slices"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/jiceng-io/region-operator/internal/childstore"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/render"
)

// storeKinds says what the operator's store keeps of each kind it makes: what the
// reconciles read, and no more.
func storeKinds() []childstore.Kind {
	var kinds []childstore.Kind
	for _, obj := range childTypes() {
		k := childstore.Kind{Type: obj}
		// A namespace's labels say its township, code and whether it is retained; a
		// Deployment's labels and annotations tell drift from a roll-out. Of the others
		// the reconciles read whose they are and which module they belong to.
		switch obj.(type) {
		case *corev1.Namespace, *appsv1.Deployment:
		default:
			k.Labels = []string{naming.LabelManagedBy, naming.LabelRegion, render.LabelModule}
		}
		switch obj.(type) {
		case *corev1.Namespace, *corev1.Service, *corev1.ConfigMap:
			k.ByRegion = true
		case *rbacv1.RoleBinding:
			// Bindings refer to a handful of roles: one copy of each reference.
			k.Keep = func(o client.Object) any { return unique.Make(o.(*rbacv1.RoleBinding).RoleRef) }
			k.Restore = func(o client.Object, v any) {
				o.(*rbacv1.RoleBinding).RoleRef = v.(unique.Handle[rbacv1.RoleRef]).Value()
			}
		case *networkingv1.NetworkPolicy:
			// Ingress rules added by hand to the deny-all policy are the operator's to clear;
			// those of its other policies are what it applied.
			k.Keep = func(o client.Object) any {
				if in := o.(*networkingv1.NetworkPolicy).Spec.Ingress; len(in) > 0 && o.GetName() == naming.NetworkPolicyDefaultDeny {
					return slices.Clone(in)
				}
				return nil
			}
			k.Restore = func(o client.Object, v any) {
				rules, _ := v.([]networkingv1.NetworkPolicyIngressRule)
				out := make([]networkingv1.NetworkPolicyIngressRule, len(rules))
				for i := range rules {
					rules[i].DeepCopyInto(&out[i])
				}
				o.(*networkingv1.NetworkPolicy).Spec.Ingress = out
			}
		case *corev1.Secret:
			// The credential's user and password, and the annotations that say which
			// rotation made the password and which password its role has.
			k.Keep = func(o client.Object) any {
				kept := secretState{data: map[string][]byte{}}
				for _, key := range []string{"user", "password"} {
					if v, ok := o.(*corev1.Secret).Data[key]; ok {
						kept.data[key] = slices.Clone(v)
					}
				}
				kept.rotation, kept.passwordSet = o.GetAnnotations()[naming.AnnotationRotation], o.GetAnnotations()[naming.AnnotationPasswordSet]
				return kept
			}
			k.Restore = func(o client.Object, v any) {
				kept := v.(secretState)
				data := make(map[string][]byte, len(kept.data))
				for key, val := range kept.data {
					data[key] = slices.Clone(val)
				}
				o.(*corev1.Secret).Data = data
				a := maps.Clone(o.GetAnnotations())
				if a == nil {
					a = map[string]string{}
				}
				if kept.rotation != "" {
					a[naming.AnnotationRotation] = kept.rotation
				}
				if kept.passwordSet != "" {
					a[naming.AnnotationPasswordSet] = kept.passwordSet
				}
				o.SetAnnotations(a)
			}
		case *appsv1.Deployment:
			k.BatchStatus, k.ByRegion = true, true
			// A Region whose Deployments have all rolled out is looked at at once: it
			// is Ready now, and no more steps of the roll-out are coming to gather.
			k.Settled = func(o client.Object) bool {
				ok, _ := deploymentAvailable(o.(*appsv1.Deployment))
				return ok
			}
			k.Keep = func(o client.Object) any {
				d := o.(*appsv1.Deployment)
				s := deploymentState{observedGeneration: d.Status.ObservedGeneration,
					current: d.Status.Replicas, updated: d.Status.UpdatedReplicas, available: d.Status.AvailableReplicas}
				if d.Spec.Replicas != nil {
					n := *d.Spec.Replicas
					s.replicas = &n
				}
				for _, c := range d.Status.Conditions {
					if c.Type == appsv1.DeploymentAvailable {
						s.availableCondition = corev1.ConditionStatus(intern(string(c.Status)))
					}
				}
				return s
			}
			k.Restore = func(o client.Object, v any) {
				d, s := o.(*appsv1.Deployment), v.(deploymentState)
				if s.replicas != nil {
					n := *s.replicas
					d.Spec.Replicas = &n
				}
				d.Status = appsv1.DeploymentStatus{ObservedGeneration: s.observedGeneration, Replicas: s.current, UpdatedReplicas: s.updated, AvailableReplicas: s.available}
				if s.availableCondition != "" {
					d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: s.availableCondition}}
				}
			}
		}
		kinds = append(kinds, k)
	}
	return kinds
}

// newStore is the operator's store of what it made, watched through c: only objects
// labelled as the operator's.
func newStore(c client.WithWatch, scheme *runtime.Scheme) (*childstore.Store, error) {
	return childstore.New(c, scheme, storeKinds(), childstore.Options{
		Selector:          ChildSelector(),
		RegionLabel:       naming.LabelRegion,
		Batch:             rolloutBatch,
		AppliedAnnotation: naming.AnnotationApplied,
		OwnManager:        naming.IsOperatorManager,
	})
}

// deploymentState is what readiness reads of a Deployment.
type deploymentState struct {
	replicas           *int32
	observedGeneration int64
	// current counts the pods of every revision (status.replicas): old ones still
	// terminating are among them.
	current, updated, available int32
	// availableCondition is the status of the Available condition, when there is one.
	availableCondition corev1.ConditionStatus
}

// secretState is what the store keeps of a credential Secret.
type secretState struct {
	data                  map[string][]byte
	rotation, passwordSet string
}

// NewChildStore is the operator's store of what it made, as the operator builds it, for
// measurements beside other ways of keeping the same objects.
func NewChildStore(c client.WithWatch, scheme *runtime.Scheme) (*childstore.Store, error) {
	return newStore(c, scheme)
}

// ChildTypes are the kinds the operator makes, as empty objects.
func ChildTypes() []client.Object { return childTypes() }

// ChildSelector selects the objects the operator made.
func ChildSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{naming.LabelManagedBy: naming.ManagedByValue})
}
