package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeletionPolicy says what happens to a Region's namespaces, schemas and data when the
// Region, or one of its townships, is removed.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionPolicyRetain keeps namespaces and data, labelled as retained.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete removes what the Region created.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// BranchKind is the kind of organisation a Party branch belongs to.
// +kubebuilder:validation:Enum=Village;Community;Organ;Enterprise;School;Other
type BranchKind string

const (
	BranchVillage    BranchKind = "Village"
	BranchCommunity  BranchKind = "Community"
	BranchOrgan      BranchKind = "Organ"
	BranchEnterprise BranchKind = "Enterprise"
	BranchSchool     BranchKind = "School"
	BranchOther      BranchKind = "Other"
)

// Quota is the compute budget of one township namespace.
type Quota struct {
	// CPU is the total CPU that pods of the namespace may request.
	// +optional
	CPU *resource.Quantity `json:"cpu,omitempty"`
	// Memory is the total memory that pods of the namespace may request and be limited to.
	// +optional
	Memory *resource.Quantity `json:"memory,omitempty"`
	// Pods is the number of pods the namespace may run.
	// +optional
	Pods *resource.Quantity `json:"pods,omitempty"`
}

// A branch is owned as a whole: server-side apply records one managedFields entry per
// branch instead of one per field of it, which for a county's hundreds of branches makes
// the Region, and every write of it, about a third smaller.
// +structType=atomic

// Branch is a Party branch (党支部) under a township. Whoever applies a branch sets all
// of its fields.
type Branch struct {
	// Name identifies the branch within its township; a DNS label.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// DisplayName is the branch's name as people write it, e.g. 西安村党支部.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`
	// Kind is the organisation the branch belongs to.
	// +kubebuilder:default=Village
	// +optional
	Kind BranchKind `json:"kind,omitempty"`
	// Code is the 12-digit village or community code; it extends the township's code.
	// +kubebuilder:validation:Pattern=`^[0-9]{12}$`
	// +kubebuilder:validation:MaxLength=12
	// +optional
	Code string `json:"code,omitempty"`
	// Members is the number of full Party members of the branch.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	// +optional
	Members int32 `json:"members,omitempty"`
}

// The rules below run on every write of a Region, its status included. [x].all(p, ...)
// reads x once for a whole list rather than once per element (CRD rules have no
// cel.bind), and b.?code reads a branch's code once; each field read costs the API
// server a walk of the field's schema.

// FormerTownship is what a township was before an adjustment of the division list: its
// name and code then.
// +structType=atomic
type FormerTownship struct {
	// Name the township had; a DNS label, never one of the reserved names.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['county', 'org', 'public', 'supervisor', 'information-schema']) && !self.startsWith('pg-')",message="spec.townships[].formerly[].name is reserved: county, org, public, supervisor, information-schema and names starting with pg- were never a township's"
	Name string `json:"name"`
	// Code the township had; 9 digits within the county's code.
	// +kubebuilder:validation:Pattern=`^[0-9]{9}$`
	// +kubebuilder:validation:MaxLength=9
	Code string `json:"code"`
}

// Township is a township or subdistrict (乡镇/街道) of the county.
// +kubebuilder:validation:XValidation:rule="self.code == oldSelf.code || (has(self.formerly) && self.formerly.exists(f, f.code == oldSelf.code))",messageExpression="'spec.townships[' + self.name + '].code is immutable: a code is the identity of a township; to recode it (撤乡设镇), name the old code in spec.townships[' + self.name + '].formerly'"
// +kubebuilder:validation:XValidation:rule="[self.code].all(p, !has(self.branches) || self.branches.all(b, b.?code.orValue(p).startsWith(p)))",messageExpression="'spec.townships[' + self.name + '].branches[].code must extend the township code ' + self.code"
type Township struct {
	// Name identifies the township and names its namespace <region>-<name>; a DNS label.
	// The names county, org, public, supervisor, information-schema and any starting
	// with pg- are reserved; so, at reconcile, is the DatabaseServer's provisioning login.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="!(self in ['county', 'org', 'public', 'supervisor', 'information-schema']) && !self.startsWith('pg-')",message="spec.townships[].name is reserved: county, org, public, supervisor, information-schema and names starting with pg- collide with the hub's or PostgreSQL's own schemas and roles"
	Name string `json:"name"`
	// DisplayName is the township's name as people write it, e.g. 凤城镇.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`
	// Code is the 9-digit township code; it extends the county's code and never changes.
	// +kubebuilder:validation:Pattern=`^[0-9]{9}$`
	// +kubebuilder:validation:MaxLength=9
	Code string `json:"code"`
	// Quota overrides spec.defaults.quota for this township.
	// +optional
	Quota *Quota `json:"quota,omitempty"`
	// ConnectionLimit overrides spec.database.connectionLimit for this township's login.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	ConnectionLimit *int32 `json:"connectionLimit,omitempty"`
	// Branches are the Party branches under the township.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=600
	// +optional
	Branches []Branch `json:"branches,omitempty"`
	// Formerly says what the township was before an adjustment: one entry for a rename
	// or a new code (撤乡设镇), several for a merge (乡镇合并). What those townships had
	// in this Region is carried over: a renamed township keeps its schema, login role,
	// password and data; a merged one's tables become this township's. Their namespaces
	// are retained, labelled with this township as their successor.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Formerly []FormerTownship `json:"formerly,omitempty"`
}

// Access names the groups, as the cluster's authenticator reports them, that get access.
type Access struct {
	// Admins are admin in every namespace of the Region.
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('system:'))",message="spec.access.admins may not name a system: group: system:authenticated, system:serviceaccounts and the like mean everyone"
	// +optional
	Admins []string `json:"admins,omitempty"`
	// Supervisors may read everything in every namespace of the Region and change nothing.
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.all(g, !g.startsWith('system:'))",message="spec.access.supervisors may not name a system: group: system:authenticated, system:serviceaccounts and the like mean everyone"
	// +optional
	Supervisors []string `json:"supervisors,omitempty"`
	// TownshipAdmins is the template of the group that is admin in one township's
	// namespace; {region} and {township} are replaced by their names.
	// An empty value grants no township-level admin.
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:XValidation:rule="self == '' || self.contains('{township}')",message="spec.access.townshipAdmins must contain {township}, or every township would share one admin group"
	// +kubebuilder:validation:XValidation:rule="self.replace('{region}', '').replace('{township}', '').matches('^[^{}]*$')",message="spec.access.townshipAdmins may use only the placeholders {region} and {township}"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="spec.access.townshipAdmins may not name a system: group"
	// +optional
	TownshipAdmins string `json:"townshipAdmins,omitempty"`
}

// Network configures the traffic let into the Region's namespaces from outside it.
type Network struct {
	// IngressFrom selects the namespaces (for example the ingress controller's) whose
	// pods may reach every namespace of the Region.
	// +optional
	IngressFrom *metav1.LabelSelector `json:"ingressFrom,omitempty"`
}

// Database asks for the Region's database on a DatabaseServer.
type Database struct {
	// ServerRef names the DatabaseServer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ServerRef string `json:"serverRef"`
	// ConnectionLimit bounds the connections each login of the Region may hold at
	// once (PostgreSQL's CONNECTION LIMIT), so one runaway service cannot take every
	// connection of a shared server. Unset, it is 20.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	ConnectionLimit *int32 `json:"connectionLimit,omitempty"`
}

// DefaultConnectionLimit is the connection limit of a login when the spec sets none.
const DefaultConnectionLimit = 20

// Image says where the platform's images come from: <registry>/<module>:<tag>.
type Image struct {
	// Registry is the registry and path the module images are under.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +optional
	Registry string `json:"registry,omitempty"`
	// Tag of the images.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`
	// +optional
	Tag string `json:"tag,omitempty"`
}

// ModuleOverride changes one module's image, replicas or resources.
type ModuleOverride struct {
	// Name of the module.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Image overrides spec.platform.image for this module, field by field.
	// +optional
	Image *Image `json:"image,omitempty"`
	// Replicas overrides spec.platform.replicas for this module.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Resources overrides spec.platform.resources for this module.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// PatchTarget selects the rendered objects a patch applies to, as kustomize does.
type PatchTarget struct {
	// +optional
	Group string `json:"group,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
}

// PlatformPatch is a kustomize patch applied to the rendered platform: a strategic-merge
// patch, or with a target a JSON 6902 patch (a list of operations) or a strategic-merge
// patch for every object the target selects.
type PlatformPatch struct {
	// Patch is the patch, YAML or JSON.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16384
	Patch string `json:"patch"`
	// Target selects what the patch applies to.
	// +optional
	Target *PatchTarget `json:"target,omitempty"`
}

// Platform asks for the governance platform's services.
type Platform struct {
	// Modules to deploy: portal, deliberation, emergency and supervision in the county
	// hub, services in every township.
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:default={portal,services,deliberation,emergency,supervision}
	// +optional
	Modules []string `json:"modules,omitempty"`
	// Image says where the module images come from.
	Image Image `json:"image"`
	// Replicas of every module's Deployment.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// Resources of every module's container; the default fits a township's quota.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Overrides change single modules.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Overrides []ModuleOverride `json:"overrides,omitempty"`
	// Patches are applied on top of the rendered platform, in order.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Patches []PlatformPatch `json:"patches,omitempty"`
}

// ClassQuotas are the compute budgets of the townships of each class, as the township
// code's digits 7–9 say: 001–099 a subdistrict (街道), 100–199 a town (镇), 200–399 a
// township (乡), 400–599 a unit combining government and enterprise (政企合一).
type ClassQuotas struct {
	// +optional
	Subdistrict *Quota `json:"subdistrict,omitempty"`
	// +optional
	Town *Quota `json:"town,omitempty"`
	// +optional
	Township *Quota `json:"township,omitempty"`
	// +optional
	Combined *Quota `json:"combined,omitempty"`
}

// Defaults apply to every township that does not override them.
type Defaults struct {
	// Quota is the default compute budget of a township namespace.
	// +optional
	Quota Quota `json:"quota,omitempty"`
	// ClassQuotas override Quota, field by field, for the townships of a class; a
	// township's own quota overrides both.
	// +optional
	ClassQuotas ClassQuotas `json:"classQuotas,omitempty"`
}

// RegionSpec describes a county (区县), its townships and their Party branches.
// +kubebuilder:validation:XValidation:rule="!has(self.townships) || [self.code].all(p, self.townships.all(t, t.code.startsWith(p)))",message="spec.townships[].code must extend the county code spec.code (county code + 3 digits)"
// +kubebuilder:validation:XValidation:rule="!has(self.townships) || self.townships.map(t, t.code).distinct().size() == self.townships.size()",message="spec.townships[].code must be unique: two townships share a code"
// +kubebuilder:validation:XValidation:rule="!has(self.townships) || [self.code].all(p, self.townships.all(t, !has(t.formerly) || t.formerly.all(f, f.code.startsWith(p))))",message="spec.townships[].formerly[].code must extend the county code spec.code: a township of another county cannot be carried over"
// +kubebuilder:validation:XValidation:rule="!has(self.townships) || [self.townships].all(ts, ts.all(t, !has(t.formerly) || t.formerly.all(f, !ts.exists(u, u.name != t.name && (u.name == f.name || u.code == f.code)))))",message="spec.townships[].formerly[] names a township that is still in spec.townships: remove it from the spec in the same change that names it as a former township"
// +kubebuilder:validation:XValidation:rule="!has(self.townships) || [self.townships].all(ts, ts.all(t, !has(t.formerly) || t.formerly.all(f, ts.filter(u, has(u.formerly) && u.formerly.exists(g, g.code == f.code || (g.name == f.name && f.name != t.name))).size() == 1 && t.formerly.filter(g, g.code == f.code || (g.name == f.name && f.name != t.name)).size() == 1)))",message="spec.townships[].formerly[]: the same former township (name or code) is claimed twice"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.townships) || !has(self.townships) || [self.townships].all(ts, oldSelf.townships.all(u, ts.all(t, t.code != u.code || t.name == u.name || (has(t.formerly) && t.formerly.exists(f, f.name == u.name)))))",message="spec.townships[].name: a township took the code of a township the Region had under another name; to rename it, name the old name and code in spec.townships[].formerly"
type RegionSpec struct {
	// DisplayName is the county's name as people write it, e.g. 安溪县.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`
	// Code is the county's 6-digit administrative code (GB/T 2260); it never changes.
	// +kubebuilder:validation:Pattern=`^[0-9]{6}$`
	// +kubebuilder:validation:MaxLength=6
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.code is immutable: a code is a county's identity"
	Code string `json:"code"`
	// Townships of the county.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=120
	// +optional
	Townships []Township `json:"townships,omitempty"`
	// Access says which groups may do what in the Region's namespaces.
	// +optional
	Access Access `json:"access,omitempty"`
	// Network says which traffic from outside the Region is let in.
	// +optional
	Network Network `json:"network,omitempty"`
	// Database asks for a PostgreSQL database with per-township credentials; without it
	// the Region has no database layer.
	// +optional
	Database *Database `json:"database,omitempty"`
	// Platform asks for the governance platform's services; without it the Region has
	// no platform layer.
	// +optional
	Platform *Platform `json:"platform,omitempty"`
	// Defaults for every township.
	// +optional
	Defaults Defaults `json:"defaults,omitempty"`
	// DeletionPolicy says whether removing the Region or a township keeps (Retain) or
	// removes (Delete) its namespaces and data.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
	// Suspend stops every write the operator makes for this Region.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// TownshipStatus is the observed state of one township.
type TownshipStatus struct {
	// Name of the township.
	Name string `json:"name"`
	// Namespace made for the township.
	Namespace string `json:"namespace"`
	// Branches counts the township's branches.
	Branches int32 `json:"branches"`
	// Ready is true when everything made for the township is in place.
	Ready bool `json:"ready"`
	// Schema is the township's database schema, when the Region has a database.
	// +optional
	Schema string `json:"schema,omitempty"`
	// Role is the township's database login role, when the Region has a database.
	// +optional
	Role string `json:"role,omitempty"`
	// Message says what is missing or what deserves attention.
	// +optional
	Message string `json:"message,omitempty"`
}

// DatabaseStatus is the observed state of the Region's database.
type DatabaseStatus struct {
	// Server is the DatabaseServer the database is on.
	Server string `json:"server"`
	// Name of the database.
	Name string `json:"name"`
	// Provisioned is true once anything of the Region was made on the server; until
	// then deleting the Region needs nothing from the server.
	// +optional
	Provisioned bool `json:"provisioned,omitempty"`
	// LastRotationTime is when the Region's database credentials were last rotated.
	// +optional
	LastRotationTime *metav1.Time `json:"lastRotationTime,omitempty"`
	// RotationToken is the value of the rotate-credentials annotation last carried out.
	// +optional
	RotationToken string `json:"rotationToken,omitempty"`
}

// RetainedObject is something kept after it left the spec, because of deletionPolicy Retain.
type RetainedObject struct {
	// Kind of the object kept: Namespace, Schema or Role.
	Kind string `json:"kind"`
	// Name of the object kept.
	Name string `json:"name"`
	// Township it belonged to.
	// +optional
	Township string `json:"township,omitempty"`
}

// PlatformStatus records the platform objects applied, so that what a change removes is
// pruned.
type PlatformStatus struct {
	// Objects counts the objects of the platform's render (Deployments, Services,
	// ConfigMaps in the Region's namespaces); each carries the labels
	// platform.jiceng.io/region and platform.jiceng.io/module, so
	// `kubectl get deploy,svc,cm -A -l platform.jiceng.io/region=<name>` lists them.
	// +optional
	Objects int32 `json:"objects,omitempty"`
	// Available counts the module Deployments that are available.
	// +optional
	Available int32 `json:"available,omitempty"`
	// Deployments counts the module Deployments.
	// +optional
	Deployments int32 `json:"deployments,omitempty"`
}

// RegionStatus is the observed state of a Region.
type RegionStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reconciling and Stalled (kstatus), one per layer
	// (NamespacesReady, AccessReady, DirectoryReady), and Suspended.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Townships has one row per township of the spec.
	// +listType=map
	// +listMapKey=name
	// +optional
	Townships []TownshipStatus `json:"townships,omitempty"`
	// TownshipCount is the number of townships in the spec.
	// +optional
	TownshipCount int32 `json:"townshipCount"`
	// BranchCount is the number of branches in the spec.
	// +optional
	BranchCount int32 `json:"branchCount"`
	// Database is the state of the Region's database, when it has one.
	// +optional
	Database *DatabaseStatus `json:"database,omitempty"`
	// Platform is what the platform layer applied, when the Region has one.
	// +optional
	Platform *PlatformStatus `json:"platform,omitempty"`
	// Retained lists what was kept after leaving the spec.
	// +optional
	Retained []RetainedObject `json:"retained,omitempty"`
	// PendingDestruction lists what waits for the platform.jiceng.io/confirm-destruction
	// annotation before it is destroyed: township names, or the Region's own name while
	// its deletion waits.
	// +optional
	PendingDestruction []string `json:"pendingDestruction,omitempty"`
}

// Region is a county (区县) with its townships and Party branches, made into namespaces,
// access policies and the governance platform's infrastructure.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=rg,categories=jiceng
// +kubebuilder:printcolumn:name="Code",type=string,JSONPath=`.spec.code`
// +kubebuilder:printcolumn:name="Townships",type=integer,JSONPath=`.status.townshipCount`
// +kubebuilder:printcolumn:name="Branches",type=integer,JSONPath=`.status.branchCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label starting with a letter: it prefixes every namespace and database name of the Region"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 40",message="metadata.name must be at most 40 characters: the database role region_<name>_supervisor must fit PostgreSQL's 63-byte limit"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.townships) || [size(self.metadata.name)].all(n, self.spec.townships.all(t, n + size(t.name) <= 55))",message="spec.townships[].name is too long for this Region: the database role region_<region>_<township> must fit 63 bytes, so metadata.name and a township name may have at most 55 characters together"
type Region struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RegionSpec   `json:"spec"`
	Status RegionStatus `json:"status,omitempty"`
}

// RegionList is a list of Regions.
// +kubebuilder:object:root=true
type RegionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Region `json:"items"`
}

func init() {
	register(&Region{}, &RegionList{})
}
