package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// databaseTimeout bounds the database work of one reconcile, waiting for a connection
// included.
const databaseTimeout = 2 * time.Minute

// credential is one LOGIN role and the Secret that hands it out.
type credential struct {
	role, namespace, secret, township string
}

// credentials lists the Region's LOGIN roles with their Secrets: the hub's own role and
// the supervisor's in the hub, each township's in its namespace. Townships whose
// namespace is not in place are left out.
func credentials(s *scope) []credential {
	name := s.region.Name
	hub := naming.HubNamespace(name)
	out := []credential{
		{role: naming.CountyRole(name), namespace: hub, secret: naming.SecretDatabase},
		{role: naming.SupervisorRole(name), namespace: hub, secret: naming.SecretSupervisor},
	}
	for _, t := range s.region.Spec.Townships {
		if s.namespaceOK[t.Name] {
			out = append(out, credential{role: naming.TownshipRole(name, t.Name), namespace: naming.TownshipNamespace(name, t.Name), secret: naming.SecretDatabase, township: t.Name})
		}
	}
	return out
}

// regionDB is what the Region asks of its database.
func regionDB(s *scope) *pgsql.RegionDB {
	rg := s.region
	db := &pgsql.RegionDB{
		Region:     rg.Name,
		Database:   naming.Database(rg.Name),
		Owner:      naming.OwnerRole(rg.Name),
		County:     naming.CountyRole(rg.Name),
		Supervisor: naming.SupervisorRole(rg.Name),
		Passwords:  map[string]string{},
		Reset:      map[string]bool{},
		Policy:     string(rg.Spec.DeletionPolicy),
	}
	for _, t := range rg.Spec.Townships {
		if !s.namespaceOK[t.Name] {
			continue
		}
		db.Townships = append(db.Townships, pgsql.TownshipDB{
			Name: t.Name, Schema: naming.TownshipSchema(t.Name), Role: naming.TownshipRole(rg.Name, t.Name),
			Code: t.Code, DisplayName: t.DisplayName,
		})
		for _, b := range t.Branches {
			kind := b.Kind
			if kind == "" {
				kind = platformv1.BranchVillage
			}
			db.Branches = append(db.Branches, pgsql.BranchRow{
				TownshipCode: t.Code, Name: b.Name, DisplayName: b.DisplayName, Kind: string(kind), Code: b.Code, Members: b.Members,
			})
		}
	}
	return db
}

// rotationRequested returns the rotate-credentials annotation's value when it asks for a
// rotation not yet carried out. A rotation just done is remembered in memory too, since
// a status write that failed leaves the Region without it.
func (r *RegionReconciler) rotationRequested(rg *platformv1.Region) string {
	token := rg.Annotations[naming.AnnotationRotateCredentials]
	if token == "" || (rg.Status.Database != nil && rg.Status.Database.RotationToken == token) {
		return ""
	}
	if done, ok := r.rotated.Load(rg.UID); ok && done == token {
		return ""
	}
	return token
}

// reconcileDatabase is the database layer: the Region's database, schemas and roles on
// its DatabaseServer, the org tables, and a Secret with each role's credentials.
func (r *RegionReconciler) reconcileDatabase(ctx context.Context, s *scope) {
	rg := s.region
	if rg.Spec.Database == nil {
		return
	}
	s.dbStatus = &platformv1.DatabaseStatus{Server: rg.Spec.Database.ServerRef, Name: naming.Database(rg.Name)}
	if rg.Status.Database != nil {
		s.dbStatus.LastRotationTime = rg.Status.Database.LastRotationTime
		s.dbStatus.RotationToken = rg.Status.Database.RotationToken
		s.dbStatus.Provisioned = rg.Status.Database.Provisioned
	}
	if !s.namespaceOK[""] {
		s.fail(ConditionDatabaseReady, "", fmt.Errorf("the hub namespace %s is not in place", naming.HubNamespace(rg.Name)))
		return
	}
	pool, cfg, err := r.pool(ctx, rg.Spec.Database.ServerRef)
	if err != nil {
		s.fail(ConditionDatabaseReady, "", err)
		return
	}
	db := regionDB(s)
	token := r.rotationRequested(rg)

	// Secrets first: a password is only ever set on a role once a Secret holds it, so
	// no failure in between can lose it.
	for _, c := range credentials(s) {
		password, fresh, err := r.password(ctx, c, token != "")
		if err == nil {
			err = r.apply(ctx, rg.Name, "Secret", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: c.namespace, Name: c.secret}},
				credentialSecret(rg.Name, c, cfg, db.Database, password))
		}
		if err != nil {
			s.fail(ConditionDatabaseReady, c.township, err)
			return
		}
		db.Passwords[c.role] = password
		db.Reset[c.role] = fresh
	}

	// A database found complete for this very spec a short while ago is not checked
	// again on every event; drift made by hand is put back at the next recheck.
	sum, reset := dbFingerprint(db)
	if m, ok := r.databases.Load(rg.UID); ok && !reset && token == "" {
		if m := m.(databaseMemo); m.sum == sum && time.Since(m.checked) < databaseRecheck {
			s.retained = append(s.retained, m.retained...)
			for _, t := range db.Townships {
				s.townshipDB[t.Name] = [2]string{t.Schema, t.Role}
			}
			return
		}
	}
	r.databases.Delete(rg.UID)
	dbctx, cancel := context.WithTimeout(ctx, databaseTimeout)
	defer cancel()
	res, err := pgsql.EnsureRegion(dbctx, pool, db)
	if res != nil {
		s.dbStatus.Provisioned = s.dbStatus.Provisioned || res.Provisioned
		for _, c := range res.Conflicts {
			s.fail(ConditionDatabaseReady, "", c)
		}
		for _, k := range res.Retained {
			s.retained = append(s.retained,
				platformv1.RetainedObject{Kind: "Schema", Name: k.Schema, Township: s.nsTownship[naming.TownshipNamespace(rg.Name, k.Schema)]},
				platformv1.RetainedObject{Kind: "Role", Name: k.Role, Township: s.nsTownship[naming.TownshipNamespace(rg.Name, k.Schema)]})
		}
	}
	if err != nil {
		s.fail(ConditionDatabaseReady, "", fmt.Errorf("database %s on %s: %w", db.Database, rg.Spec.Database.ServerRef, err))
		return
	}
	if token != "" && (res == nil || len(res.Conflicts) == 0) {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		s.dbStatus.LastRotationTime, s.dbStatus.RotationToken = &now, token
		r.rotated.Store(rg.UID, token)
		r.event(rg, corev1.EventTypeNormal, "CredentialsRotated", "Rotate", "rotated the passwords of %d database roles", len(db.Passwords))
	}
	for _, t := range db.Townships {
		s.townshipDB[t.Name] = [2]string{t.Schema, t.Role}
	}
	if len(res.Conflicts) == 0 {
		var retained []platformv1.RetainedObject
		for _, o := range s.retained {
			if o.Kind == "Schema" || o.Kind == "Role" {
				retained = append(retained, o)
			}
		}
		r.databases.Store(rg.UID, databaseMemo{sum: sum, checked: time.Now(), retained: retained})
	}
}

// databaseRecheck is how long a database found complete is trusted without looking.
const databaseRecheck = 5 * time.Minute

// databaseMemo is the last database state found complete for a Region.
type databaseMemo struct {
	sum      [32]byte
	checked  time.Time
	retained []platformv1.RetainedObject
}

// dbFingerprint identifies what a Region asks of its database; reset says whether a
// password must be set now, which always needs the server.
func dbFingerprint(db *pgsql.RegionDB) ([32]byte, bool) {
	reset := false
	for _, v := range db.Reset {
		reset = reset || v
	}
	// Which passwords are being set is this reconcile's business, not the database's
	// state: after the first reconcile set them all, the next must match its memo.
	state := *db
	state.Reset = nil
	data, _ := json.Marshal(&state)
	return sha256.Sum256(data), reset
}

// pool returns the connection pool of a DatabaseServer.
func (r *RegionReconciler) pool(ctx context.Context, server string) (*pgsql.Pool, pgsql.ServerConfig, error) {
	ds := &platformv1.DatabaseServer{}
	if err := r.Get(ctx, client.ObjectKey{Name: server}, ds); err != nil {
		return nil, pgsql.ServerConfig{}, fmt.Errorf("spec.database.serverRef: DatabaseServer %s: %w", server, err)
	}
	cfg, err := serverConfig(ctx, r.APIReader, ds)
	if err != nil {
		return nil, cfg, err
	}
	return r.Pools.Get(server, cfg), cfg, nil
}

// password returns the role's password as its Secret holds it, or a new one (fresh)
// when there is no Secret yet or a rotation is asked for.
func (r *RegionReconciler) password(ctx context.Context, c credential, rotate bool) (string, bool, error) {
	if !rotate {
		// The stored Secret is used only when it is the very version the operator
		// wrote; otherwise read from the API server: a Secret written moments ago must not be
		// read stale, or an old password would be written back over the role's.
		key := client.ObjectKey{Namespace: c.namespace, Name: c.secret}
		secret := &corev1.Secret{}
		err := r.reader().Get(ctx, key, secret)
		if apierrors.IsNotFound(err) && r.freshNamespace(c.namespace) && !r.wrote("Secret", key) {
			// A namespace the operator made moments ago holds no Secret it did not write.
			return pgsql.NewPassword(), true, nil
		}
		if err != nil || !r.wroteVersion("Secret", secret) {
			secret = &corev1.Secret{}
			err = r.APIReader.Get(ctx, key, secret)
		}
		if err == nil && len(secret.Data["password"]) > 0 && string(secret.Data["user"]) == c.role {
			return string(secret.Data["password"]), false, nil
		}
		if client.IgnoreNotFound(err) != nil {
			return "", false, fmt.Errorf("reading Secret %s/%s: %w", c.namespace, c.secret, err)
		}
	}
	return pgsql.NewPassword(), true, nil
}

func credentialSecret(region string, c credential, cfg pgsql.ServerConfig, database, password string) *corev1ac.SecretApplyConfiguration {
	labels := naming.Labels(region, c.township)
	port := strconv.Itoa(cfg.Port)
	uri := url.URL{
		Scheme:   "postgresql",
		User:     url.UserPassword(c.role, password),
		Host:     cfg.Host + ":" + port,
		Path:     "/" + database,
		RawQuery: url.Values{"sslmode": {cfg.SSLMode}}.Encode(),
	}
	return corev1ac.Secret(c.secret, c.namespace).
		WithLabels(labels).
		WithType(corev1.SecretTypeOpaque).
		WithData(map[string][]byte{
			"host":     []byte(cfg.Host),
			"port":     []byte(port),
			"dbname":   []byte(database),
			"user":     []byte(c.role),
			"password": []byte(password),
			"sslmode":  []byte(cfg.SSLMode),
			"uri":      []byte(uri.String()),
		})
}

// retireDatabase carries out the Region's deletion policy on its database.
func (r *RegionReconciler) retireDatabase(ctx context.Context, rg *platformv1.Region) error {
	r.databases.Delete(rg.UID)
	if rg.Spec.Database == nil || rg.Status.Database == nil || !rg.Status.Database.Provisioned {
		return nil // nothing was ever made on the server
	}
	pool, _, err := r.pool(ctx, rg.Spec.Database.ServerRef)
	if err != nil {
		return err
	}
	dbctx, cancel := context.WithTimeout(ctx, databaseTimeout)
	defer cancel()
	roles, err := pgsql.RetireRegion(dbctx, pool, rg.Name, naming.Database(rg.Name), string(rg.Spec.DeletionPolicy))
	if err != nil {
		return fmt.Errorf("database %s: %w", naming.Database(rg.Name), err)
	}
	if rg.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete {
		r.event(rg, corev1.EventTypeNormal, "Deleted", "Delete", "dropped database %s and %d roles (deletionPolicy Delete)", naming.Database(rg.Name), len(roles))
	} else {
		r.event(rg, corev1.EventTypeNormal, "Retained", "Retain", "kept database %s; login disabled for its %d roles (deletionPolicy Retain)", naming.Database(rg.Name), len(roles))
	}
	return nil
}
