package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// An adjustment the division list cannot have made is refused by the API server, with
// the field named: the operator never sees it.
func TestImpossibleAdjustmentsAreRefused(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*platformv1.Region)
		want   string
	}{
		{"a former township still in the spec", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
		}, "spec.townships[].formerly[] names a township that is still in spec.townships"},
		{"a former code another township of the spec has", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "old-fengcheng", Code: "350524100"}}
		}, "spec.townships[].formerly[] names a township that is still in spec.townships"},
		{"one former township claimed by two", func(r *platformv1.Region) {
			r.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}}
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}}
		}, "the same former township (name or code) is claimed twice"},
		{"one former code under two names", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "shangqing", Code: "350524203"}, {Name: "shangqing-xiang", Code: "350524203"}}
		}, "the same former township (name or code) is claimed twice"},
		{"a former code of another county", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "taocheng", Code: "350525100"}}
		}, "spec.townships[].formerly[].code must extend the county code spec.code"},
		{"a former code of 8 digits", func(r *platformv1.Region) {
			r.Spec.Townships[1].Formerly = []platformv1.FormerTownship{{Name: "taocheng", Code: "35052410"}}
		}, "spec.townships[1].formerly[0].code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			rg := sampleRegion("invalid")
			tc.mutate(rg)
			err := k8s.Create(context.Background(), rg, dryRunAll)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// A change of code or of name for a code is refused unless formerly says what the
// township was; with it, both go through.
func TestRecodeAndRenameNeedFormerly(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("recode")
	createRegion(t, sampleRegion(name))

	rg := getRegion(g, name)
	rg.Spec.Townships[0].Code = "350524199"
	err := k8s.Update(ctx, rg, dryRunAll)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[fengcheng].code is immutable"))
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[fengcheng].formerly"))
	rg.Spec.Townships[0].Branches[1].Code = "350524199201"
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
	g.Expect(k8s.Update(ctx, rg, dryRunAll)).To(Succeed(), "a recode that names the old code")

	// Today's hole: the township's code under a new name made a second namespace with
	// the same code beside the first.
	rg = getRegion(g, name)
	rg.Spec.Townships[0].Name = "fengcheng-zhen"
	err = k8s.Update(ctx, rg, dryRunAll)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[].name: a township took the code of a township the Region had under another name"))
	rg.Spec.Townships[0].Formerly = []platformv1.FormerTownship{{Name: "fengcheng", Code: "350524100"}}
	g.Expect(k8s.Update(ctx, rg, dryRunAll)).To(Succeed(), "a rename that names the old name")
}
