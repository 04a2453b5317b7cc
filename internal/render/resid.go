package render

import (
	"sigs.k8s.io/kustomize/kyaml/resid"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

func resIDOf(kind, name string) resid.ResId {
	return resid.ResId{Gvk: resid.Gvk{Kind: kind}, Name: name}
}

func resID(t *platformv1.PatchTarget) resid.ResId {
	return resid.ResId{Gvk: resid.Gvk{Group: t.Group, Version: t.Version, Kind: t.Kind}, Name: t.Name}
}
