package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
)

// The API server itself refuses bad Regions, with a message that names the field.
func TestInvalidRegionsAreRefusedNamingTheField(t *testing.T) {
	many := func(n int, mk func(i int) platformv1.Township) []platformv1.Township {
		out := make([]platformv1.Township, n)
		for i := range out {
			out[i] = mk(i)
		}
		return out
	}
	cases := []struct {
		name   string
		mutate func(*platformv1.Region)
		want   string
	}{
		{"name not a DNS label", func(r *platformv1.Region) { r.Name = "An_Xi" }, "metadata.name"},
		{"name starts with a digit", func(r *platformv1.Region) { r.Name = "9anxi" }, "metadata.name must be a DNS label"},
		{"name too long for the database roles", func(r *platformv1.Region) { r.Name = strings.Repeat("a", 41) }, "metadata.name must be at most 40 characters"},
		{"county code of 5 digits", func(r *platformv1.Region) { r.Spec.Code = "35052" }, "spec.code"},
		{"county code with letters", func(r *platformv1.Region) { r.Spec.Code = "35O524" }, "spec.code"},
		{"no display name", func(r *platformv1.Region) { r.Spec.DisplayName = "" }, "spec.displayName"},
		{"township code of 8 digits", func(r *platformv1.Region) { r.Spec.Townships[0].Code = "35052410" }, "spec.townships[0].code"},
		{"township code outside the county", func(r *platformv1.Region) { r.Spec.Townships[0].Code = "350525100" }, "spec.townships[].code must extend the county code"},
		{"two townships with one code", func(r *platformv1.Region) { r.Spec.Townships[1].Code = r.Spec.Townships[0].Code }, "spec.townships[].code must be unique"},
		{"township name not a DNS label", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "Feng_Cheng" }, "spec.townships[0].name"},
		{"township named county", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "county" }, "spec.townships[].name is reserved"},
		{"township named org", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "org" }, "spec.townships[].name is reserved"},
		{"township named public", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "public" }, "spec.townships[].name is reserved"},
		{"township named supervisor", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "supervisor" }, "spec.townships[].name is reserved"},
		{"township named pg-", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "pg-stat" }, "spec.townships[].name is reserved"},
		{"township named information-schema", func(r *platformv1.Region) { r.Spec.Townships[0].Name = "information-schema" }, "spec.townships[].name is reserved"},
		{"admins naming everyone", func(r *platformv1.Region) { r.Spec.Access.Admins = []string{"system:authenticated"} }, "spec.access.admins may not name a system: group"},
		{"supervisors naming every service account", func(r *platformv1.Region) { r.Spec.Access.Supervisors = []string{"ok", "system:serviceaccounts"} }, "spec.access.supervisors may not name a system: group"},
		{"township admins naming a system group", func(r *platformv1.Region) { r.Spec.Access.TownshipAdmins = "system:{township}" }, "spec.access.townshipAdmins may not name a system: group"},
		{"duplicate township names", func(r *platformv1.Region) { r.Spec.Townships[1].Name = r.Spec.Townships[0].Name }, "spec.townships[1]: Duplicate value"},
		{"derived role name too long", func(r *platformv1.Region) {
			r.Name = strings.Repeat("r", 30)
			r.Spec.Townships[0].Name = strings.Repeat("t", 26)
		}, "spec.townships[].name is too long for this Region"},
		{"branch code outside its township", func(r *platformv1.Region) { r.Spec.Townships[0].Branches[1].Code = "350524101201" }, "spec.townships[fengcheng].branches[].code must extend the township code 350524100"},
		{"branch code of 11 digits", func(r *platformv1.Region) { r.Spec.Townships[0].Branches[1].Code = "35052410020" }, "spec.townships[0].branches[1].code"},
		{"branch kind not in the enum", func(r *platformv1.Region) { r.Spec.Townships[0].Branches[0].Kind = "Club" }, "spec.townships[0].branches[0].kind: Unsupported value"},
		{"negative members", func(r *platformv1.Region) { r.Spec.Townships[0].Branches[0].Members = -1 }, "spec.townships[0].branches[0].members"},
		{"duplicate branch names", func(r *platformv1.Region) {
			r.Spec.Townships[0].Branches[1].Name = r.Spec.Townships[0].Branches[0].Name
		}, "spec.townships[0].branches[1]: Duplicate value"},
		{"unknown deletion policy", func(r *platformv1.Region) { r.Spec.DeletionPolicy = "Orphan" }, "spec.deletionPolicy: Unsupported value"},
		{"township admins template without {township}", func(r *platformv1.Region) { r.Spec.Access.TownshipAdmins = "{region}-admins" }, "spec.access.townshipAdmins must contain {township}"},
		{"township admins template with an unknown placeholder", func(r *platformv1.Region) { r.Spec.Access.TownshipAdmins = "{county}-{township}" }, "spec.access.townshipAdmins may use only the placeholders"},
		{"empty admin group", func(r *platformv1.Region) { r.Spec.Access.Admins = []string{""} }, "spec.access.admins[0]"},
		{"too many townships", func(r *platformv1.Region) {
			r.Spec.Townships = many(121, func(i int) platformv1.Township {
				return platformv1.Township{Name: fmt.Sprintf("t%d", i), DisplayName: "镇", Code: fmt.Sprintf("350524%03d", i)}
			})
		}, "spec.townships: Too many"},
		{"database without a server", func(r *platformv1.Region) { r.Spec.Database = &platformv1.Database{} }, "spec.database.serverRef"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			rg := sampleRegion("invalid")
			tc.mutate(rg)
			err := k8s.Create(context.Background(), rg)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
	t.Run("quota that is not a quantity", func(t *testing.T) {
		g := NewWithT(t)
		raw := rawRegion("invalid-quota", `{"displayName":"安溪县","code":"350524","defaults":{"quota":{"cpu":"four"}}}`)
		err := k8s.Create(context.Background(), raw)
		g.Expect(err).To(HaveOccurred())
		g.Expect(err.Error()).To(ContainSubstring("spec.defaults.quota.cpu"))
	})
}

// A large county, at the limits the API allows, is accepted.
func TestLargeCountyFits(t *testing.T) {
	g := NewWithT(t)
	rg := sampleRegion(uniqueName("large"))
	rg.Spec.Townships = nil
	for i := range 60 {
		tw := platformv1.Township{Name: fmt.Sprintf("township-%02d", i), DisplayName: "某某镇", Code: fmt.Sprintf("350524%03d", 100+i)}
		for j := range 50 {
			tw.Branches = append(tw.Branches, platformv1.Branch{
				Name: fmt.Sprintf("village-%03d", j), DisplayName: "某某村党支部", Kind: platformv1.BranchVillage,
				Code: fmt.Sprintf("%s%03d", tw.Code, 200+j), Members: 30,
			})
		}
		rg.Spec.Townships = append(rg.Spec.Townships, tw)
	}
	g.Expect(k8s.Create(context.Background(), rg, dryRunAll)).To(Succeed())
}

func TestCodesAreImmutable(t *testing.T) {
	name := uniqueName("immutable")
	createRegion(t, sampleRegion(name))
	rg := waitReady(t, name)
	g := NewWithT(t)
	rg.Spec.Code = "350525"
	err := k8s.Update(context.Background(), rg)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.code is immutable"))

	rg = getRegion(g, name)
	rg.Spec.Townships[0].Code = "350524199"
	err = k8s.Update(context.Background(), rg)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("spec.townships[fengcheng].code is immutable"))

	// Names and display names of an existing township may change freely.
	rg = getRegion(g, name)
	rg.Spec.Townships[0].DisplayName = "凤城镇（城区）"
	g.Expect(k8s.Update(context.Background(), rg)).To(Succeed())
}

func rawRegion(name, spec string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(platformv1.GroupVersion.String())
	u.SetKind("Region")
	u.SetName(name)
	var m map[string]any
	if err := json.Unmarshal([]byte(spec), &m); err != nil {
		panic(err)
	}
	u.Object["spec"] = m
	return u
}

var dryRunAll = client.DryRunAll

// A branch is set as a whole: whoever applies a branch owns all of it, so a township's
// team that applies its branch list replaces each branch it names, and the Region's
// managedFields hold one entry per branch, not one per field of each.
func TestBranchIsAppliedAsAWhole(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := uniqueName("branches")
	apply := func(owner string, spec map[string]any, opts ...client.PatchOption) *platformv1.Region {
		data, err := json.Marshal(map[string]any{
			"apiVersion": platformv1.GroupVersion.String(), "kind": "Region",
			"metadata": map[string]any{"name": name}, "spec": spec,
		})
		g.Expect(err).NotTo(HaveOccurred())
		rg := &platformv1.Region{}
		rg.Name = name
		g.Expect(k8s.Patch(ctx, rg, client.RawPatch(types.ApplyPatchType, data), append(opts, client.FieldOwner(owner), client.ForceOwnership)...)).To(Succeed())
		return rg
	}
	township := func(branch map[string]any) map[string]any {
		return map[string]any{"displayName": "安溪县", "code": "350524", "townships": []any{map[string]any{
			"name": "fengcheng", "displayName": "凤城镇", "code": "350524100", "branches": []any{branch},
		}}}
	}
	rg := apply("pipeline", township(map[string]any{
		"name": "xinan", "displayName": "西安村党支部", "kind": "Village", "code": "350524100201", "members": 2,
	}))
	t.Cleanup(func() { deleteRegion(name) })

	var owned map[string]any
	for _, mf := range rg.ManagedFields {
		if mf.Manager == "pipeline" {
			g.Expect(json.Unmarshal(mf.FieldsV1.GetRawBytes(), &owned)).To(Succeed())
		}
	}
	g.Expect(owned).To(HaveKeyWithValue("f:spec", HaveKeyWithValue("f:townships",
		HaveKeyWithValue(`k:{"name":"fengcheng"}`, HaveKeyWithValue("f:branches",
			HaveKeyWithValue(`k:{"name":"xinan"}`, BeEmpty()))))))

	// Another team names the branch without its code and members: the branch is theirs,
	// as they wrote it, not a mix of both.
	rg = apply("township-team", township(map[string]any{"name": "xinan", "displayName": "西安村党总支"}), dryRunAll)
	g.Expect(rg.Spec.Townships[0].Branches).To(Equal([]platformv1.Branch{
		{Name: "xinan", DisplayName: "西安村党总支", Kind: platformv1.BranchVillage},
	}))
}

// Every sample the README points to is accepted by the API server as it is.
func TestSamplesAreAccepted(t *testing.T) {
	for _, file := range []string{"platform_v1alpha1_region.yaml", "platform_v1alpha1_region_wuyishan.yaml"} {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(filepath.Join("..", "config", "samples", file))
			g.Expect(err).NotTo(HaveOccurred())
			rg := &platformv1.Region{}
			g.Expect(yaml.UnmarshalStrict(data, rg)).To(Succeed())
			g.Expect(k8s.Create(context.Background(), rg, dryRunAll)).To(Succeed())
		})
	}
	t.Run("README", func(t *testing.T) {
		g := NewWithT(t)
		data, err := os.ReadFile(filepath.Join("..", "README.md"))
		g.Expect(err).NotTo(HaveOccurred())
		_, block, ok := strings.Cut(string(data), "## A Region\n\n```yaml\n")
		g.Expect(ok).To(BeTrue())
		block, _, _ = strings.Cut(block, "```")
		region, _, _ := strings.Cut(block, "\n---\n")
		rg := &platformv1.Region{}
		g.Expect(yaml.UnmarshalStrict([]byte(region), rg)).To(Succeed())
		g.Expect(rg.Spec.Townships).NotTo(BeEmpty())
		g.Expect(k8s.Create(context.Background(), rg, dryRunAll)).To(Succeed())
	})
}
