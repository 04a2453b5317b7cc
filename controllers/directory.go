package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
)

// Directory is the hierarchy of a Region as the platform's services read it from the
// region-directory ConfigMap.
type Directory struct {
	Region      string              `json:"region"`
	DisplayName string              `json:"displayName"`
	Code        string              `json:"code"`
	Namespace   string              `json:"namespace"`
	Townships   []DirectoryTownship `json:"townships"`
}

// DirectoryTownship is one township in the directory.
type DirectoryTownship struct {
	Name        string            `json:"name"`
	DisplayName string            `json:"displayName"`
	Code        string            `json:"code"`
	Namespace   string            `json:"namespace"`
	Branches    []DirectoryBranch `json:"branches"`
}

// DirectoryBranch is one Party branch in the directory.
type DirectoryBranch struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Kind        string `json:"kind"`
	Code        string `json:"code,omitempty"`
	Members     int32  `json:"members"`
	// Form is the organisational form the branch's membership calls for.
	Form string `json:"form"`
}

// Organisational forms by membership, after the rules of Party branch standardisation.
const (
	FormBelowMinimum  = "below-minimum"  // fewer than 3 full members
	FormBranch        = "branch"         // 党支部
	FormGeneralBranch = "general-branch" // 党总支, usual from 50 members
	FormCommittee     = "committee"      // 基层党委, usual from 100 members
)

// BranchForm is the organisational form a branch with this many members calls for.
func BranchForm(members int32) string {
	switch {
	case members < 3:
		return FormBelowMinimum
	case members >= 100:
		return FormCommittee
	case members >= 50:
		return FormGeneralBranch
	default:
		return FormBranch
	}
}

// branchWarnings says, in words, which branches of a township do not meet the
// standardisation rules. They are warnings: nothing is refused for them.
func branchWarnings(t platformv1.Township) []string {
	var out []string
	for _, b := range t.Branches {
		switch BranchForm(b.Members) {
		case FormBelowMinimum:
			out = append(out, fmt.Sprintf("branch %s has %d members; a branch needs at least 3", b.Name, b.Members))
		case FormGeneralBranch:
			out = append(out, fmt.Sprintf("branch %s has %d members; a general branch (党总支) is usual from 50", b.Name, b.Members))
		case FormCommittee:
			out = append(out, fmt.Sprintf("branch %s has %d members; a grassroots committee (基层党委) is usual from 100", b.Name, b.Members))
		}
	}
	return out
}

// BuildDirectory derives the directory of a Region from its spec.
func BuildDirectory(region *platformv1.Region) Directory {
	d := Directory{
		Region:      region.Name,
		DisplayName: region.Spec.DisplayName,
		Code:        region.Spec.Code,
		Namespace:   naming.HubNamespace(region.Name),
		Townships:   make([]DirectoryTownship, 0, len(region.Spec.Townships)),
	}
	for _, t := range region.Spec.Townships {
		dt := DirectoryTownship{
			Name:        t.Name,
			DisplayName: t.DisplayName,
			Code:        t.Code,
			Namespace:   naming.TownshipNamespace(region.Name, t.Name),
			Branches:    make([]DirectoryBranch, 0, len(t.Branches)),
		}
		for _, b := range t.Branches {
			kind := b.Kind
			if kind == "" {
				kind = platformv1.BranchVillage
			}
			dt.Branches = append(dt.Branches, DirectoryBranch{
				Name: b.Name, DisplayName: b.DisplayName, Kind: string(kind),
				Code: b.Code, Members: b.Members, Form: BranchForm(b.Members),
			})
		}
		d.Townships = append(d.Townships, dt)
	}
	return d
}

// townshipDirectory is the part of the directory one township's services see: the
// county and that township alone.
func townshipDirectory(d Directory, township string) Directory {
	out := d
	out.Townships = nil
	for _, t := range d.Townships {
		if t.Name == township {
			out.Townships = []DirectoryTownship{t}
		}
	}
	return out
}

// reconcileDirectory writes the hierarchy into region-directory ConfigMaps: the whole
// of it in the hub, each township's own part in its namespace, where the platform's
// services mount it.
func (r *RegionReconciler) reconcileDirectory(ctx context.Context, s *scope) {
	if !s.namespaceOK[""] {
		s.fail(ConditionDirectoryReady, "", fmt.Errorf("the hub namespace %s is not in place", naming.HubNamespace(s.region.Name)))
		return
	}
	dir := BuildDirectory(s.region)
	r.writeDirectory(ctx, s, "", naming.HubNamespace(s.region.Name), dir)
	each(len(s.region.Spec.Townships), func(i int) {
		t := s.region.Spec.Townships[i]
		if s.namespaceOK[t.Name] {
			r.writeDirectory(ctx, s, t.Name, naming.TownshipNamespace(s.region.Name, t.Name), townshipDirectory(dir, t.Name))
		}
	})
}

func (r *RegionReconciler) writeDirectory(ctx context.Context, s *scope, township, ns string, dir Directory) {
	ac, err := directoryConfigMap(s.region.Name, township, ns, dir)
	if err == nil {
		current := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: naming.DirectoryConfigMap}}
		err = r.apply(ctx, s.region.Name, "ConfigMap", current, ac)
	}
	if err != nil {
		s.fail(ConditionDirectoryReady, township, err)
	}
}

func directoryConfigMap(region, township, ns string, dir Directory) (*corev1ac.ConfigMapApplyConfiguration, error) {
	data, err := json.MarshalIndent(dir, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the directory: %w", err)
	}
	labels := naming.Labels(region, township)
	return corev1ac.ConfigMap(naming.DirectoryConfigMap, ns).
		WithLabels(labels).
		WithData(map[string]string{naming.DirectoryKey: string(data)}), nil
}
