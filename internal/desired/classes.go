package desired

import (
	"fmt"
	"strconv"
	"strings"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// Classes of a township, from digits 7–9 of its code (the rules of the statistical
// division codes).
const (
	ClassSubdistrict = "subdistrict" // 街道, 001–099
	ClassTown        = "town"        // 镇, 100–199
	ClassTownship    = "township"    // 乡, 200–399
	ClassCombined    = "combined"    // 政企合一, 400–599
)

// Classes of a village-level unit, from digits 10–12 of its code.
const (
	VillageResidents = "residents" // 社区/居委会, 001–199
	VillageVillagers = "villagers" // 村委会, 200–399
)

// digits reads three digits of a code from position from (0-based); -1 when the code
// is too short or not digits.
func digits(code string, from int) int {
	if len(code) < from+3 {
		return -1
	}
	n, err := strconv.Atoi(code[from : from+3])
	if err != nil {
		return -1
	}
	return n
}

// TownshipClass is the class of a 9-digit township code, "" when its digits 7–9 name
// none.
func TownshipClass(code string) string {
	switch n := digits(code, 6); {
	case n >= 1 && n <= 99:
		return ClassSubdistrict
	case n >= 100 && n <= 199:
		return ClassTown
	case n >= 200 && n <= 399:
		return ClassTownship
	case n >= 400 && n <= 599:
		return ClassCombined
	}
	return ""
}

// VillageClass is the class of a 12-digit village-level code, "" when its digits
// 10–12 name neither committee.
func VillageClass(code string) string {
	switch n := digits(code, 9); {
	case n >= 1 && n <= 199:
		return VillageResidents
	case n >= 200 && n <= 399:
		return VillageVillagers
	}
	return ""
}

// classWords are how the names and codes of each class are written.
var classWords = map[string]struct{ suffix, words, codes string }{
	ClassSubdistrict: {"街道", "a subdistrict (街道)", "001–099"},
	ClassTown:        {"镇", "a town (镇)", "100–199"},
	ClassTownship:    {"乡", "a township (乡)", "200–399"},
	ClassCombined:    {"", "a unit combining government and enterprise (政企合一)", "400–599"},
}

// nameClass is the class a township's display name says by its ending, "" for none.
func nameClass(displayName string) string {
	for _, c := range []string{ClassSubdistrict, ClassTown, ClassTownship} {
		if strings.HasSuffix(displayName, classWords[c].suffix) {
			return c
		}
	}
	return ""
}

// ClassWarnings says where a township's names and codes disagree: a display name
// ending in 街道, 镇 or 乡 against the class of its code, a Village branch with a
// residents' committee code, a Community branch with a villagers' committee code. They
// are warnings: nothing is refused for them.
func ClassWarnings(t platformv1.Township) []string {
	var out []string
	if said, class := nameClass(t.DisplayName), TownshipClass(t.Code); said != "" && class != "" && said != class {
		out = append(out, fmt.Sprintf("%s is named as %s but its code %s (digits 7–9 %s) is %s",
			t.DisplayName, classWords[said].words, t.Code, classWords[class].codes, classWords[class].words))
	}
	for _, b := range t.Branches {
		switch class := VillageClass(b.Code); {
		case b.Kind == platformv1.BranchVillage && class == VillageResidents:
			out = append(out, fmt.Sprintf("branch %s is of kind Village but its code %s (digits 10–12 001–199) is a residents' committee's (社区/居委会)", b.Name, b.Code))
		case b.Kind == platformv1.BranchCommunity && class == VillageVillagers:
			out = append(out, fmt.Sprintf("branch %s is of kind Community but its code %s (digits 10–12 200–399) is a villagers' committee's (村委会)", b.Name, b.Code))
		}
	}
	return out
}

// classQuota is spec.defaults.classQuotas' quota for a class, nil when it gives none.
func classQuota(q platformv1.ClassQuotas, class string) *platformv1.Quota {
	switch class {
	case ClassSubdistrict:
		return q.Subdistrict
	case ClassTown:
		return q.Town
	case ClassTownship:
		return q.Township
	case ClassCombined:
		return q.Combined
	}
	return nil
}

// TownshipQuota is a township's compute budget: its own quota over its class's over
// the Region's default, field by field.
func TownshipQuota(d platformv1.Defaults, t *platformv1.Township) platformv1.Quota {
	return EffectiveQuota(EffectiveQuota(d.Quota, classQuota(d.ClassQuotas, TownshipClass(t.Code))), t.Quota)
}
