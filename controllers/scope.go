package controllers

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// conflictError reports an object the Region would make that exists and is not the
// Region's own: it is left alone and needs a person to decide.
type conflictError struct {
	kind, namespace, name, owner string
	// detail, when set, replaces the standard explanation.
	detail string
}

func (e *conflictError) Error() string {
	where := e.name
	if e.namespace != "" {
		where = e.namespace + "/" + e.name
	}
	if e.detail != "" {
		return fmt.Sprintf("%s %s %s; left alone", e.kind, where, e.detail)
	}
	if e.owner != "" {
		return fmt.Sprintf("%s %s already exists and belongs to Region %q; left alone", e.kind, where, e.owner)
	}
	return fmt.Sprintf("%s %s already exists and is not managed by this Region; left alone", e.kind, where)
}

// Conflict marks the error as a conflict for the status functions.
func (e *conflictError) Conflict() bool { return true }

func isConflict(err error) bool {
	var c interface{ Conflict() bool }
	return errors.As(err, &c) && c.Conflict()
}

// scope carries one reconcile of one Region through its phases and collects what each
// phase found, so that status is computed once at the end.
type scope struct {
	region *platformv1.Region
	// places bounds the requests in flight of all the reconciles together (each).
	places chan struct{}
	mu     sync.Mutex

	// layerErrs holds the errors of each layer by condition type.
	layerErrs map[string][]error
	// townshipErrs holds the errors that concern one township.
	townshipErrs map[string][]error
	// regionErrs holds, by layer, the errors that concern no one township but the
	// Region as a whole (its database server unreachable, say).
	regionErrs map[string][]error
	// namespaceOK says whether a township's namespace (or "" for the hub) is in place,
	// so later phases skip what cannot be made.
	namespaceOK map[string]bool
	// retainedNamespaces are township namespaces of this Region no longer in the spec.
	retainedNamespaces []string
	// nsTownship names the township of each township namespace, active or retained.
	nsTownship map[string]string
	retained   []platformv1.RetainedObject
	// dbStatus is the database's status, when the Region has a database.
	dbStatus *platformv1.DatabaseStatus
	// townshipDB holds each township's schema and role once they are in place; the
	// database phase writes it.
	townshipDB map[string]townshipDB
	// held names the townships whose destruction waits for the confirmation
	// annotation; the namespace and database phases write it.
	held []string
	// platform is what the platform layer applied.
	platform *platformv1.PlatformStatus
	// deployments are the platform's Deployments, followed once every layer is done;
	// statusChangesSeen is how many changes of status alone the store had told of
	// then: those after are batched into the next reconcile.
	deployments       []client.ObjectKey
	statusChangesSeen uint64
	// created are the namespaces this reconcile created.
	created []string
	// waiting holds, by layer, what a layer without errors still waits for.
	waiting map[string]string
	// warnings hold, by township, what deserves attention without failing anything.
	warnings map[string][]string
	// started is when the reconcile began; timeline its steps, logged at debug level
	// at its end.
	started  time.Time
	timeline []span
}

// warn records a warning for a township's row.
func (s *scope) warn(township, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warnings == nil {
		s.warnings = map[string][]string{}
	}
	s.warnings[township] = append(s.warnings[township], msg)
}

// wait records that a layer has done its part and waits for something to happen.
func (s *scope) wait(layer, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == nil {
		s.waiting = map[string]string{}
	}
	s.waiting[layer] = msg
}

func newScope(region *platformv1.Region, places chan struct{}) *scope {
	return &scope{
		region:       region,
		places:       places,
		started:      time.Now(),
		layerErrs:    map[string][]error{},
		townshipErrs: map[string][]error{},
		regionErrs:   map[string][]error{},
		namespaceOK:  map[string]bool{},
		nsTownship:   map[string]string{},
		townshipDB:   map[string]townshipDB{},
	}
}

// fail records an error of a layer, and of a township when it concerns one. Phases that
// run side by side call it, hence the lock.
func (s *scope) fail(layer, township string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.layerErrs[layer] = append(s.layerErrs[layer], err)
	if township != "" {
		s.townshipErrs[township] = append(s.townshipErrs[township], err)
	} else {
		s.regionErrs[layer] = append(s.regionErrs[layer], err)
	}
}

// fanOut bounds how many requests one part of a reconcile has in flight at once.
const fanOut = 8

// serviceFanOut bounds a Region's new Services in flight. A Service's create waits in
// the API server for its cluster IP address, longer the more addresses are allocated
// (seconds in a cluster of 19,000 Services), more than it costs: a county's Services go
// out together.
const serviceFanOut = 32

// perReconcile is how many requests in flight the shared places allow for each
// reconcile that may run at once: a province's roll-out, every worker busy, has about
// that many per Region in flight; a Region reconciled alone may use the others' places.
const perReconcile = 8

// each runs fn for 0..n-1, fanOut at a time, and returns when all are done. Each request
// waits mostly on the API server, so one Region's objects go out side by side; fn
// records its own errors in the scope. Every request also takes one of the places all
// the reconciles share (s.places): a Region reconciled alone goes out as wide as its
// parts side by side, while a province's roll-out puts no more requests in flight than
// perReconcile for each reconcile. fn must not wait for another call's work.
func (s *scope) each(n int, fn func(i int)) { s.eachUpTo(fanOut, n, fn) }

// eachUpTo is each with a bound of its own on the part's requests in flight; the shared
// places bound them too.
func (s *scope) eachUpTo(limit, n int, fn func(i int)) {
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error {
			s.places <- struct{}{}
			defer func() { <-s.places }()
			fn(i)
			return nil
		})
	}
	_ = g.Wait()
}

// placed records that a township's namespace (or the hub's, "") is in place.
func (s *scope) placed(township string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespaceOK[township] = true
}

// errs lists every error the phases recorded, layer by layer.
func (s *scope) errs() []error { return layerErrors(s.layerErrs) }

// layerErrors are the errors of every layer, in the layers' order.
func layerErrors(byLayer map[string][]error) []error {
	var all []error
	for _, l := range layers {
		all = append(all, byLayer[l]...)
	}
	return all
}

// activeNamespaces are the hub and the namespaces of the spec's townships whose
// namespace is in place.
func (s *scope) activeNamespaces() []string {
	if s.namespaceOK[""] {
		return append([]string{naming.HubNamespace(s.region.Name)}, s.townshipNamespaces()...)
	}
	return s.townshipNamespaces()
}

// townshipNamespaces are the namespaces of the spec's townships that are in place.
func (s *scope) townshipNamespaces() []string {
	var out []string
	for _, t := range s.region.Spec.Townships {
		if s.namespaceOK[t.Name] {
			out = append(out, naming.TownshipNamespace(s.region.Name, t.Name))
		}
	}
	return out
}

// townshipDB is a township's schema and login role.
type townshipDB struct{ schema, role string }

// setTownshipDB records the schema and role of every township the database has.
func (s *scope) setTownshipDB(db *desired.RegionDB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range db.Townships {
		if t.Placed {
			s.townshipDB[t.Name] = townshipDB{schema: t.Schema, role: t.Role}
		}
	}
}

// townshipOfSchema names the township a schema of the Region's database was made for,
// as the namespaces found say, else the schema's own name.
func (s *scope) townshipOfSchema(schema string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ns, t := range s.nsTownship {
		if naming.TownshipSchema(t) == schema && ns != "" {
			return t
		}
	}
	return schema
}

// hold records townships whose destruction waits for confirmation.
func (s *scope) hold(townships ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range townships {
		if !slices.Contains(s.held, t) {
			s.held = append(s.held, t)
		}
	}
	slices.Sort(s.held)
}
