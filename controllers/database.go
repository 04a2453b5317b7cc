package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
)

// databaseTimeout bounds the database work of one reconcile, waiting for a connection
// included.
const databaseTimeout = 2 * time.Minute

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
	}
	// A reconcile that trusts its memo of the database does not learn it again, and a
	// status held back may not say it yet.
	s.dbStatus.Provisioned = r.knownMade(rg)
	if !s.namespaceOK[""] {
		s.fail(ConditionDatabaseReady, "", fmt.Errorf("the hub namespace %s is not in place", naming.HubNamespace(rg.Name)))
		return
	}
	pool, cfg, err := r.pool(ctx, rg.Spec.Database.ServerRef)
	if err != nil {
		s.fail(ConditionDatabaseReady, "", err)
		return
	}
	cluster, err := r.cluster(ctx)
	if err != nil {
		s.fail(ConditionDatabaseReady, "", err)
		return
	}
	token := r.rotationRequested(rg)
	srv := desired.Server{Host: cfg.Host, Port: cfg.Port, SSLMode: cfg.SSLMode, CACert: cfg.CACert}

	// Secrets first: a password is only ever set on a role once a Secret holds it, so
	// no failure in between can lose it. A credential that cannot be written is that
	// township's failure alone; the rest go on.
	type pending struct {
		c    desired.Credential
		cred credential
	}
	var creds []pending
	placed := map[string]bool{"": true}
	clean := true
	fresh := false
	for _, c := range desired.Credentials(rg) {
		if c.Township != "" && naming.TownshipSchema(c.Township) == cfg.User {
			// Its schema would be the provisioning login's own "$user" schema.
			s.fail(ConditionDatabaseReady, c.Township, fmt.Errorf("spec.townships: township %s is named like the DatabaseServer %s's provisioning login, which is reserved; rename the township",
				c.Township, rg.Spec.Database.ServerRef))
			clean, placed[c.Township] = false, false
			continue
		}
		if !s.namespaceOK[c.Township] {
			// Its namespace is not in place (the namespace layer says why): the
			// township is not ready, and nothing of it is removed.
			clean, placed[c.Township] = false, false
			continue
		}
		cred, err := r.password(ctx, rg, c, token, renamedFrom(rg, c))
		if err != nil {
			s.fail(ConditionDatabaseReady, c.Township, err)
			clean, placed[c.Township] = false, false
			continue
		}
		creds = append(creds, pending{c, cred})
		fresh = fresh || cred.fresh
	}
	names := desired.Database(rg, cluster, func(string) bool { return true })
	dbctx, cancel := context.WithTimeout(ctx, databaseTimeout)
	defer cancel()
	// A password about to change needs the server anyway: what it holds says which
	// roles exist. A role that does not exist yet is made with its Secret's password,
	// so that Secret says so from its first write; one that exists is marked as having
	// its new password only once the server took it.
	var cat *desired.Catalog
	var catErr error
	if fresh {
		cat, catErr = pgsql.Snapshot(dbctx, pool, names)
	}
	for i := range creds {
		// A former township's password goes to the township only when its role is
		// about to be renamed to the township's, as the catalog says now.
		if p := &creds[i]; p.cred.carried && (catErr != nil || cat == nil || !desired.RenamePending(names, cat, p.c.Township)) {
			p.cred = credential{password: pgsql.NewPassword(), state: desired.SecretState{Rotation: token}, fresh: true}
		}
	}
	passwords := map[string]string{}
	reset := map[string]bool{}
	var later []pending
	for i := range creds {
		if p := &creds[i]; p.cred.fresh && catErr == nil && cat != nil && !hasRole(cat, p.c.Role) {
			p.cred.state.PasswordSet = desired.PasswordDigest(p.c.Role, p.cred.password)
		}
	}
	// The Secrets go out side by side; what each write means is taken in order below.
	written := make([]error, len(creds))
	s.each(len(creds), func(i int) {
		c, cred := creds[i].c, creds[i].cred
		written[i] = r.apply(ctx, rg.Name, "Secret", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Secret}},
			desired.CredentialSecret(rg.Name, c, srv, naming.Database(rg.Name), cred.password, cred.state))
	})
	for i, p := range creds {
		c, cred := p.c, p.cred
		if err := written[i]; err != nil {
			s.fail(ConditionDatabaseReady, c.Township, err)
			clean, placed[c.Township] = false, false
			continue
		}
		if c.Township != "" {
			placed[c.Township] = true
		}
		passwords[c.Role] = cred.password
		reset[c.Role] = cred.fresh
		if cred.fresh && cred.state.PasswordSet != desired.PasswordDigest(c.Role, cred.password) {
			later = append(later, pending{c, cred})
		}
		if cred.drifted {
			r.event(rg, corev1.EventTypeWarning, "CredentialDrift", "Reconcile",
				"Secret %s/%s held a password its role did not have; the role now has the Secret's password", c.Namespace, c.Secret)
		}
	}
	db := desired.Database(rg, cluster, func(township string) bool { return placed[township] })
	db.Reset = reset
	db.Clean = clean

	// A database found complete for this very spec a short while ago is not checked
	// again on every event; drift made by hand is put back at the next recheck.
	sum, anyReset := dbFingerprint(db, passwords)
	if m, ok := r.databases.Load(rg.UID); ok && !anyReset && token == "" {
		if m := m.(databaseMemo); m.sum == sum && time.Since(m.checked) < databaseRecheck {
			s.retained = append(s.retained, m.retained...)
			s.setTownshipDB(db)
			return
		}
	}
	r.databases.Delete(rg.UID)
	err = catErr
	if err == nil && cat == nil {
		cat, err = pgsql.Snapshot(dbctx, pool, db)
	}
	var plan *desired.DatabasePlan
	var set []string
	if err == nil {
		plan = desired.PlanDatabase(db, cat)
		set, err = pgsql.Execute(dbctx, pool, rg.Name, plan.Statements, passwords)
		if err == nil && plan.Blocked {
			err = errors.Join(plan.Conflicts...)
		}
	}
	// The roles that took their new passwords: their Secrets say so now, so that a
	// Secret whose password later differs (edited by hand, or written by a reconcile
	// that stopped before the server took it) is noticed and set again.
	for _, p := range later {
		if !slices.Contains(set, p.c.Role) {
			continue
		}
		state := p.cred.state
		state.PasswordSet = desired.PasswordDigest(p.c.Role, p.cred.password)
		if aerr := r.apply(ctx, rg.Name, "Secret", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: p.c.Namespace, Name: p.c.Secret}},
			desired.CredentialSecret(rg.Name, p.c, srv, naming.Database(rg.Name), p.cred.password, state)); aerr != nil {
			s.fail(ConditionDatabaseReady, p.c.Township, aerr)
		}
	}
	if plan != nil {
		s.dbStatus.Provisioned = s.dbStatus.Provisioned || plan.Provisioned
		if plan.Provisioned {
			r.made.Store(rg.UID, rg.Spec.Database.ServerRef)
		}
		if !plan.Blocked {
			for _, c := range plan.Conflicts {
				s.fail(ConditionDatabaseReady, "", c)
			}
		}
		for _, m := range plan.Merged {
			// A merged township's login, disabled; its schema is its successor's.
			s.retained = append(s.retained, platformv1.RetainedObject{Kind: "Role", Name: m.Role, Township: s.townshipOfSchema(m.Schema)})
		}
		if err == nil {
			for _, c := range plan.Carried {
				r.event(rg, corev1.EventTypeNormal, "Carried", "Adjust", "%s: its schema, role and data carried over (spec.townships[].formerly)", c)
			}
		}
		for _, k := range plan.Retained {
			township := s.townshipOfSchema(k.Schema)
			s.retained = append(s.retained,
				platformv1.RetainedObject{Kind: "Schema", Name: k.Schema, Township: township},
				platformv1.RetainedObject{Kind: "Role", Name: k.Role, Township: township})
		}
		for _, schema := range plan.Held {
			// Named as in the spec (and the annotation), not as a schema.
			s.hold(s.townshipOfSchema(schema))
		}
		if err == nil {
			for _, schema := range plan.Dropped {
				destroyed("Schema")
				destroyed("Role")
				r.event(rg, corev1.EventTypeNormal, "Dropped", "Delete", "dropped schema %s and role %s (township removed from spec, deletionPolicy Delete)",
					schema, db.TownshipRolePrefix+schema)
			}
		}
	}
	if err != nil {
		s.fail(ConditionDatabaseReady, "", fmt.Errorf("database %s on %s: %w", db.Database, rg.Spec.Database.ServerRef, err))
		return
	}
	if token != "" && clean && len(plan.Conflicts) == 0 {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		s.dbStatus.LastRotationTime, s.dbStatus.RotationToken = &now, token
		r.rotated.Store(rg.UID, token)
		r.event(rg, corev1.EventTypeNormal, "CredentialsRotated", "Rotate", "rotated the passwords of %d database roles", len(passwords))
	}
	s.setTownshipDB(db)
	if len(plan.Conflicts) == 0 && clean && len(plan.Held) == 0 {
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

// dbFingerprint identifies what a Region asks of its database, the passwords its
// Secrets hold included; reset says whether a password must be set now, which always
// needs the server.
func dbFingerprint(db *desired.RegionDB, passwords map[string]string) ([32]byte, bool) {
	reset := false
	for _, v := range db.Reset {
		reset = reset || v
	}
	// Which passwords are being set is this reconcile's business, not the database's
	// state: after the first reconcile set them all, the next must match its memo.
	state := struct {
		DB        desired.RegionDB
		Passwords map[string]string
	}{*db, passwords}
	state.DB.Reset = nil
	data, _ := json.Marshal(&state)
	return sha256.Sum256(data), reset
}

// pool returns the connection pool of a DatabaseServer.
func (r *RegionReconciler) pool(ctx context.Context, server string) (*pgsql.Pool, pgsql.ServerConfig, error) {
	ds := &platformv1.DatabaseServer{}
	if err := r.Get(ctx, client.ObjectKey{Name: server}, ds); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, pgsql.ServerConfig{}, withCause(ReasonServerNotFound, fmt.Errorf("spec.database.serverRef: DatabaseServer %s does not exist", server))
		}
		return nil, pgsql.ServerConfig{}, fmt.Errorf("spec.database.serverRef: DatabaseServer %s: %w", server, err)
	}
	cfg, err := serverConfig(ctx, r.APIReader, ds, r.SecretNamespace)
	if err != nil {
		return nil, cfg, err
	}
	return r.Pools.Get(server, cfg), cfg, nil
}

// credential is the password a role's Secret is to hold, and what the Secret records.
type credential struct {
	password string
	state    desired.SecretState
	// fresh says the role's password must be set now: the Secret is new, a rotation
	// made a new password, or the Secret's password is not the one last set.
	fresh bool
	// drifted says the Secret held a password other than the one last set on the role.
	drifted bool
	// carried says the password is a renamed township's former one.
	carried bool
}

// renamedFrom is the credential of the township a township of the spec was renamed
// from, whose password its Secret takes over (desired's rename rule); nil for none.
func renamedFrom(rg *platformv1.Region, c desired.Credential) *desired.Credential {
	f, ok := desired.RenamedFrom(rg, c.Township)
	if !ok {
		return nil
	}
	return &desired.Credential{Role: f.Role, Namespace: naming.TownshipNamespace(rg.Name, f.Name), Secret: c.Secret, Township: f.Name}
}

// password returns the password a role's Secret is to hold: a new one when there is no
// Secret yet or the rotation token asks for one it has not had, else the Secret's own;
// fresh when the role must be given it. A renamed township's first Secret takes the
// password of the township it was (former), whose role is renamed to it.
func (r *RegionReconciler) password(ctx context.Context, rg *platformv1.Region, c desired.Credential, token string, former *desired.Credential) (credential, error) {
	// The stored Secret is used only when it is the very version the operator wrote;
	// otherwise read from the API server: a Secret written moments ago must not be read
	// stale, or an old password would be written back over the role's.
	key := client.ObjectKey{Namespace: c.Namespace, Name: c.Secret}
	secret := &corev1.Secret{}
	err := r.reader().Get(ctx, key, secret)
	if apierrors.IsNotFound(err) && former != nil && apierrors.IsNotFound(r.APIReader.Get(ctx, key, &corev1.Secret{})) {
		if carried, ok, ferr := r.formerPassword(ctx, rg, *former, token); ferr != nil {
			return credential{}, ferr
		} else if ok {
			return carried, nil
		}
	}
	if apierrors.IsNotFound(err) && r.freshNamespace(c.Namespace) && !r.wrote("Secret", key) {
		// A namespace the operator made moments ago holds no Secret it did not write.
		return credential{password: pgsql.NewPassword(), state: desired.SecretState{Rotation: token}, fresh: true}, nil
	}
	if err != nil || !r.wroteVersion("Secret", secret) {
		secret = &corev1.Secret{}
		err = r.APIReader.Get(ctx, key, secret)
	}
	if client.IgnoreNotFound(err) != nil {
		return credential{}, fmt.Errorf("reading Secret %s/%s: %w", c.Namespace, c.Secret, err)
	}
	state := desired.SecretState{Rotation: secret.Annotations[naming.AnnotationRotation], PasswordSet: secret.Annotations[naming.AnnotationPasswordSet]}
	password := string(secret.Data["password"])
	switch {
	case err != nil || password == "" || string(secret.Data["user"]) != c.Role:
		return credential{password: pgsql.NewPassword(), state: desired.SecretState{Rotation: token, PasswordSet: state.PasswordSet}, fresh: true}, nil
	case token != "" && state.Rotation != token:
		return credential{password: pgsql.NewPassword(), state: desired.SecretState{Rotation: token, PasswordSet: state.PasswordSet}, fresh: true}, nil
	case state.PasswordSet != desired.PasswordDigest(c.Role, password):
		// Edited by hand, or written by a reconcile that stopped before it set the
		// role's password: the role is given the Secret's.
		return credential{password: password, state: state, fresh: true, drifted: state.PasswordSet != ""}, nil
	}
	return credential{password: password, state: state}, nil
}

// formerPassword is the password of a renamed township's former login, from the former
// namespace's Secret (retained there), when it holds one for that login and no rotation
// asks for a new one. It is set on the renamed role again (fresh): the role has it
// already, unless the Secret was edited, and then the Secret's is the one handed out.
func (r *RegionReconciler) formerPassword(ctx context.Context, rg *platformv1.Region, former desired.Credential, token string) (credential, bool, error) {
	// Only from a namespace of this very Region, made for that township: derived names
	// meet (Region foo's township a-b and Region foo-a's township b share foo-a-b).
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: former.Namespace}, ns); err != nil {
		return credential{}, false, client.IgnoreNotFound(err)
	}
	if !desired.OwnsNamespace(rg, ns) || ns.Labels[naming.LabelRegion] != rg.Name || ns.Labels[naming.LabelTownship] != former.Township {
		return credential{}, false, nil
	}
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: former.Namespace, Name: former.Secret}, secret)
	if apierrors.IsNotFound(err) {
		return credential{}, false, nil
	}
	if err != nil {
		return credential{}, false, fmt.Errorf("reading Secret %s/%s of the former township %s: %w", former.Namespace, former.Secret, former.Township, err)
	}
	password := string(secret.Data["password"])
	if secret.Labels[naming.LabelRegion] != rg.Name || password == "" || string(secret.Data["user"]) != former.Role ||
		(token != "" && secret.Annotations[naming.AnnotationRotation] != token) {
		return credential{}, false, nil
	}
	return credential{password: password, state: desired.SecretState{Rotation: secret.Annotations[naming.AnnotationRotation]}, fresh: true, carried: true}, true, nil
}

// retireDatabase carries out the Region's deletion policy on its database. What it
// acts on is what the server's catalog marks as the Region's, not what the status says:
// a status can be behind what was made (it is written after the reconcile that made
// it). Only when the server cannot be asked does the record decide: a Region whose
// status never said anything was made there, and whose database this process never
// found made, lets go without the server (one on a DatabaseServer that never existed
// or was never reached must not be stuck in deletion); any other waits for the server.
func (r *RegionReconciler) retireDatabase(ctx context.Context, rg *platformv1.Region) error {
	r.databases.Delete(rg.UID)
	if rg.Spec.Database == nil {
		return nil
	}
	recorded := r.knownMade(rg)
	dbctx, cancel := context.WithTimeout(ctx, databaseTimeout)
	defer cancel()
	pool, cat, err := r.retireCatalog(ctx, dbctx, rg)
	if err != nil {
		if !recorded {
			return nil // nothing was made on the server as far as anything here knows
		}
		return err
	}
	if !cat.DatabaseOurs && len(cat.Roles) == 0 {
		return nil // nothing of the Region's on the server
	}
	// Spec change: the Region was deleted (under Delete, confirmed: reconcileDelete).
	policy := string(rg.Spec.DeletionPolicy)
	if _, err := pgsql.Execute(dbctx, pool, rg.Name, desired.PlanRetire(rg.Name, naming.Database(rg.Name), policy, cat), nil); err != nil {
		return fmt.Errorf("database %s: %w", naming.Database(rg.Name), err)
	}
	if rg.Spec.DeletionPolicy == platformv1.DeletionPolicyDelete {
		if cat.DatabaseOurs {
			destroyed("Database")
		}
		for range cat.Roles {
			destroyed("Role")
		}
		r.event(rg, corev1.EventTypeNormal, "Deleted", "Delete", "dropped database %s and %d roles (Region deleted, deletionPolicy Delete, confirmed)", naming.Database(rg.Name), len(cat.Roles))
	} else {
		r.event(rg, corev1.EventTypeNormal, "Retained", "Retain", "kept database %s; login disabled for its %d roles (deletionPolicy Retain)", naming.Database(rg.Name), len(cat.Roles))
	}
	return nil
}

// madeOn says whether this process found or made something of the Region on the
// server its spec names.
func (r *RegionReconciler) madeOn(rg *platformv1.Region) bool {
	server, ok := r.made.Load(rg.UID)
	return ok && rg.Spec.Database != nil && server == rg.Spec.Database.ServerRef
}

// knownMade says whether something of the Region is known to have been made on the
// server its spec names: its status says so of that very server (a Region moved to
// another says so of the new one once something is found or made there), or this
// process found or made it.
func (r *RegionReconciler) knownMade(rg *platformv1.Region) bool {
	st := rg.Status.Database
	return r.madeOn(rg) || (st != nil && st.Provisioned && rg.Spec.Database != nil && st.Server == rg.Spec.Database.ServerRef)
}

// retireCatalog asks the Region's server what is marked as the Region's there.
func (r *RegionReconciler) retireCatalog(ctx, dbctx context.Context, rg *platformv1.Region) (*pgsql.Pool, *desired.RetireCatalog, error) {
	pool, _, err := r.pool(ctx, rg.Spec.Database.ServerRef)
	if err != nil {
		return nil, nil, err
	}
	cluster, err := r.cluster(ctx)
	if err != nil {
		return nil, nil, err
	}
	cat, err := pgsql.SnapshotRetire(dbctx, pool, rg.Name, string(rg.UID), cluster, naming.Database(rg.Name))
	if err != nil {
		return nil, nil, fmt.Errorf("database %s: %w", naming.Database(rg.Name), err)
	}
	return pool, cat, nil
}

// hasRole says whether the catalog holds a role.
func hasRole(cat *desired.Catalog, role string) bool {
	_, ok := cat.Roles[role]
	return ok
}
