package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// serverCheckInterval is how often a reachable DatabaseServer is looked at again.
const serverCheckInterval = 5 * time.Minute

// fixRecheck is how often a DatabaseServer failing on a cause only a person can fix
// (its Secret, its login, its certificate) is looked at again.
const fixRecheck = 3 * time.Second

// DatabaseServerReconciler checks that each DatabaseServer answers, and keeps the
// operator's connection pool for it configured.
type DatabaseServerReconciler struct {
	client.Client
	APIReader client.Reader
	Pools     *pgsql.Pools
	// SecretNamespace is the one namespace whose Secrets a DatabaseServer may name.
	SecretNamespace string
	Recorder        recorder.EventRecorder
	// StallAfter is how long a cause only a person can fix lasts before Stalled.
	StallAfter time.Duration
	// checked holds the servers this process has checked.
	checked sync.Map
}

// +kubebuilder:rbac:groups=platform.jiceng.io,resources=databaseservers,verbs=get;list;watch
// +kubebuilder:rbac:groups=platform.jiceng.io,resources=databaseservers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// Reconcile reaches the server and says in status whether it answered, and which
// version did.
func (r *DatabaseServerReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ds := &platformv1.DatabaseServer{}
	if err := r.Get(ctx, req.NamespacedName, ds); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.Pools.Forget(req.Name)
			r.checked.Delete(req.Name)
			recordServer(req.Name, nil)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	status := ds.Status.DeepCopy()
	status.ObservedGeneration = ds.Generation
	now := metav1.Now()
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		setCondition(&status.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: ds.Generation, LastTransitionTime: now})
	}
	version, err := r.check(ctx, ds)
	reached := err == nil
	recordServer(ds.Name, &reached)
	_, checkedBefore := r.checked.LoadOrStore(ds.Name, true)
	if err == nil {
		status.ServerVersion = version
		set(ConditionReady, metav1.ConditionTrue, "Reachable", "PostgreSQL "+version+" answers")
		set(ConditionReconciling, metav1.ConditionFalse, ReasonReconciled, "")
		set(ConditionStalled, metav1.ConditionFalse, ReasonReconciled, "")
		// LastReachedTime moves at most once per check interval, so a healthy server
		// does not rewrite its status on every event; and not on this process's first
		// check of a server whose status says all else as it is, so an operator started
		// again, or taking over, writes nothing: it moves with the next check.
		stale := status.LastReachedTime == nil || now.Sub(status.LastReachedTime.Time) >= serverCheckInterval
		if stale && (checkedBefore || status.LastReachedTime == nil || !equality.Semantic.DeepEqual(*status, ds.Status)) {
			status.LastReachedTime = &now
		}
	} else {
		reason := causeOf(err)
		if reason == "" {
			reason = ReasonUnreachable
		}
		set(ConditionReady, metav1.ConditionFalse, reason, err.Error())
		if stalls(status.Conditions, ConditionReady, now, r.StallAfter) {
			set(ConditionReconciling, metav1.ConditionFalse, reason, "")
			set(ConditionStalled, metav1.ConditionTrue, reason, fmt.Sprintf("failing on a cause only a person can fix (%s) since %s: %s",
				reason, meta.FindStatusCondition(status.Conditions, ConditionReady).LastTransitionTime.UTC().Format(time.RFC3339), err))
		} else {
			set(ConditionReconciling, metav1.ConditionTrue, ReasonRetrying, err.Error())
			set(ConditionStalled, metav1.ConditionFalse, ReasonRetrying, "")
		}
	}
	if !equality.Semantic.DeepEqual(*status, ds.Status) {
		old := ds.Status.Conditions
		// As for a Region: the write holds only over the version read, so a transition
		// read from a cache a step behind is not told twice.
		patch := client.MergeFromWithOptions(ds.DeepCopy(), client.MergeFromWithOptimisticLock{})
		ds.Status = *status
		if perr := r.Status().Patch(ctx, ds, patch); perr != nil {
			if apierrors.IsConflict(perr) {
				return ctrl.Result{RequeueAfter: staleRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing status: %w", perr)
		}
		for _, e := range transitionEvents(old, status.Conditions, ConditionReady) {
			if r.Recorder != nil {
				r.Recorder.Eventf(ds, nil, e.eventType(), e.reason, "Check", "%s", e.message)
			}
		}
	}
	if err != nil {
		if needsAPerson(causeOf(err)) {
			// Nothing but a person fixes it (the status and an event say what): look
			// again soon, so the fix shows at once, without the retries' growing waits.
			return ctrl.Result{RequeueAfter: fixRecheck}, nil
		}
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: serverCheckInterval}, nil
}

func (r *DatabaseServerReconciler) check(ctx context.Context, ds *platformv1.DatabaseServer) (string, error) {
	cfg, err := serverConfig(ctx, r.APIReader, ds, r.SecretNamespace)
	if err != nil {
		return "", err
	}
	return pgsql.ServerVersion(ctx, r.Pools.Get(ds.Name, cfg))
}

// serverConfig reads a DatabaseServer's administrator login from its Secret, which must
// be in the operator's own namespace: a DatabaseServer's author cannot make the operator
// read any other Secret of the cluster. Nothing read from the Secret is ever put into a
// message.
func serverConfig(ctx context.Context, reader client.Reader, ds *platformv1.DatabaseServer, secretNamespace string) (pgsql.ServerConfig, error) {
	ref := ds.Spec.AdminSecretRef
	userKey, passKey := defaulted(ref.UsernameKey, "username"), defaulted(ref.PasswordKey, "password")
	data, err := readSecretKeys(ctx, reader, ds.Name, "spec.adminSecretRef", platformv1.SecretReference{Namespace: ref.Namespace, Name: ref.Name}, secretNamespace, userKey, passKey)
	if err != nil {
		return pgsql.ServerConfig{}, err
	}
	user, pass := data[0], data[1]
	cfg := pgsql.ServerConfig{
		Host: ds.Spec.Host, Port: int(defaultedInt(ds.Spec.Port, 5432)), User: user, Password: pass,
		SSLMode: defaulted(ds.Spec.SSLMode, "require"), MaxConns: int(defaultedInt(ds.Spec.MaxConnections, 4)),
	}
	if ref := ds.Spec.CASecretRef; ref != nil {
		data, err := readSecretKeys(ctx, reader, ds.Name, "spec.caSecretRef", *ref, secretNamespace, "ca.crt")
		if err != nil {
			return pgsql.ServerConfig{}, err
		}
		cfg.CACert = data[0]
	}
	if ref := ds.Spec.ClientCertSecretRef; ref != nil {
		data, err := readSecretKeys(ctx, reader, ds.Name, "spec.clientCertSecretRef", *ref, secretNamespace, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
		if err != nil {
			return pgsql.ServerConfig{}, err
		}
		cfg.ClientCert, cfg.ClientKey = data[0], data[1]
	}
	if err := pgsql.CheckTLS(cfg); err != nil {
		return pgsql.ServerConfig{}, withCause(ReasonSecretInvalid, fmt.Errorf("DatabaseServer %s: %w", ds.Name, err))
	}
	return cfg, nil
}

// readSecretKeys reads keys of a Secret a DatabaseServer names in field, which must be
// in the operator's own namespace. Errors name the DatabaseServer and the field, and
// carry the cause: SecretNotFound or SecretInvalid.
func readSecretKeys(ctx context.Context, reader client.Reader, server, field string, ref platformv1.SecretReference, secretNamespace string, keys ...string) ([]string, error) {
	if ref.Namespace != secretNamespace {
		return nil, withCause(ReasonSecretInvalid, fmt.Errorf("DatabaseServer %s: %s.namespace is %q; the operator reads Secrets only in its own namespace %q",
			server, field, ref.Namespace, secretNamespace))
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, withCause(ReasonSecretNotFound, fmt.Errorf("DatabaseServer %s: %s: reading the Secret %s/%s: it does not exist", server, field, ref.Namespace, ref.Name))
		}
		return nil, fmt.Errorf("DatabaseServer %s: %s: reading the Secret %s/%s: %w", server, field, ref.Namespace, ref.Name, err)
	}
	out := make([]string, len(keys))
	var missing []string
	for i, k := range keys {
		out[i] = string(secret.Data[k])
		if out[i] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, withCause(ReasonSecretInvalid, fmt.Errorf("DatabaseServer %s: %s: the Secret %s/%s has no key %s", server, field, ref.Namespace, ref.Name, strings.Join(missing, " nor ")))
	}
	return out, nil
}

func defaulted(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func defaultedInt(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}

// SetupWithManager registers the reconciler.
func (r *DatabaseServerReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&platformv1.DatabaseServer{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("databaseserver").
		WithOptions(controller.Options{RateLimiter: retryLimiter[reconcile.Request]()}).
		Complete(r)
}

// ServerConfig is how the operator reaches a DatabaseServer: its address and modes,
// and the administrator's login and certificates read from the Secrets it names (in
// secretNamespace only). kubectl region plan reads the catalog with it, with the
// caller's own right to read those Secrets.
func ServerConfig(ctx context.Context, reader client.Reader, ds *platformv1.DatabaseServer, secretNamespace string) (pgsql.ServerConfig, error) {
	return serverConfig(ctx, reader, ds, secretNamespace)
}
