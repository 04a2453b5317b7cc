package controllers

import (
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
	"github.com/jiceng-io/region-operator/internal/render"
)

// Blueprint is every Kubernetes object a Region in good order consists of, built by the
// same functions the reconcile phases apply them with. The benchmark creates exactly
// these with a bare client to measure what the machine can do without an operator.
func Blueprint(rg *platformv1.Region, cfg pgsql.ServerConfig, password func(role string) string) ([]runtime.ApplyConfiguration, error) {
	s := placedScope(rg)
	hub := naming.HubNamespace(rg.Name)
	townships := s.townshipNamespaces()
	out := []runtime.ApplyConfiguration{hubNamespace(rg)}
	quotas := map[string]*platformv1.Quota{}
	for _, t := range rg.Spec.Townships {
		out = append(out, townshipNamespace(rg.Name, t.Name, t.Code))
		quotas[t.Name] = t.Quota
	}
	access := rg.Spec.Access
	for _, ns := range s.activeNamespaces() {
		township := s.nsTownship[ns]
		labels := naming.Labels(rg.Name, township)
		peers := []string{hub}
		if township == "" {
			peers = townships
		}
		if len(access.Admins) > 0 {
			out = append(out, roleBinding(ns, naming.RoleBindingAdmins, clusterRoleAdmin, labels, access.Admins))
		}
		if len(access.Supervisors) > 0 {
			out = append(out, roleBinding(ns, naming.RoleBindingSupervisors, clusterRoleView, labels, access.Supervisors))
		}
		out = append(out, defaultDenyPolicy(ns, labels), allowRegionPolicy(ns, labels, peers, rg.Spec.Network.IngressFrom))
		if township == "" {
			continue
		}
		if access.TownshipAdmins != "" {
			out = append(out, roleBinding(ns, naming.RoleBindingTownshipAdmins, clusterRoleAdmin, labels,
				[]string{naming.TownshipAdminsGroup(access.TownshipAdmins, rg.Name, township)}))
		}
		if hard := quotaHard(effectiveQuota(rg.Spec.Defaults.Quota, quotas[township])); len(hard) > 0 {
			out = append(out, quotaConfig(ns, labels, hard))
		}
		out = append(out, limitRangeConfig(ns, labels))
	}
	if rg.Spec.Database != nil {
		for _, c := range credentials(s) {
			out = append(out, credentialSecret(rg.Name, c, cfg, naming.Database(rg.Name), password(c.role)))
		}
	}
	dir := BuildDirectory(rg)
	cm, err := directoryConfigMap(rg.Name, "", hub, dir)
	if err != nil {
		return nil, err
	}
	out = append(out, cm)
	for _, t := range rg.Spec.Townships {
		cm, err := directoryConfigMap(rg.Name, t.Name, naming.TownshipNamespace(rg.Name, t.Name), townshipDirectory(dir, t.Name))
		if err != nil {
			return nil, err
		}
		out = append(out, cm)
	}
	objs, err := render.Render(rg)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		out = append(out, client.ApplyConfigurationFromUnstructured(o))
	}
	return out, nil
}

// RegionDB is what the Region asks of its database, with the given passwords, for the
// benchmark's floor.
func RegionDB(rg *platformv1.Region, password func(role string) string) *pgsql.RegionDB {
	s := placedScope(rg)
	db := regionDB(s)
	for _, c := range credentials(s) {
		db.Passwords[c.role] = password(c.role)
	}
	return db
}

// placedScope is a scope in which every namespace of the Region is in place.
func placedScope(rg *platformv1.Region) *scope {
	s := newScope(rg)
	s.namespaceOK[""] = true
	for _, t := range rg.Spec.Townships {
		s.namespaceOK[t.Name] = true
		s.nsTownship[naming.TownshipNamespace(rg.Name, t.Name)] = t.Name
	}
	return s
}
