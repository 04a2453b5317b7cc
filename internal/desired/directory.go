package desired

import (
	"fmt"

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
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Code        string `json:"code"`
	// Class is the class its code says: subdistrict, town, township or combined.
	Class     string            `json:"class,omitempty"`
	Namespace string            `json:"namespace"`
	Branches  []DirectoryBranch `json:"branches"`
	// Formerly are the townships it was before an adjustment, so that records kept
	// under an old code can be found.
	Formerly []platformv1.FormerTownship `json:"formerly,omitempty"`
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

// BranchWarnings says, in words, which branches of a township do not meet the
// standardisation rules. They are warnings: nothing is refused for them.
func BranchWarnings(t platformv1.Township) []string {
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
			Class:       TownshipClass(t.Code),
			Namespace:   naming.TownshipNamespace(region.Name, t.Name),
			Branches:    make([]DirectoryBranch, 0, len(t.Branches)),
			Formerly:    t.Formerly,
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

// TownshipDirectory is the part of the directory one township's services see: the
// county and that township alone.
func TownshipDirectory(d Directory, township string) Directory {
	out := d
	out.Townships = nil
	for _, t := range d.Townships {
		if t.Name == township {
			out.Townships = []DirectoryTownship{t}
		}
	}
	return out
}
