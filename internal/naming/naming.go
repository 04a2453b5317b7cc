// Package naming derives every name a Region produces: namespaces, labels, object names
// and database identifiers. No other package builds these names.
package naming

import "strings"

// Labels and annotations the operator sets on what it makes.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "region-operator"
	LabelRegion    = "platform.jiceng.io/region"
	LabelTownship  = "platform.jiceng.io/township"
	LabelLevel     = "platform.jiceng.io/level"
	LabelCode      = "platform.jiceng.io/code"
	LabelRetained  = "platform.jiceng.io/retained"
	// LabelClass on a township namespace is the class its code says: subdistrict,
	// town, township or combined.
	LabelClass = "platform.jiceng.io/class"
	// LabelSuccessor on a retained township namespace names the township that took
	// the retained one's place (spec.townships[].formerly).
	LabelSuccessor  = "platform.jiceng.io/successor"
	AnnotationSince = "platform.jiceng.io/retained-since"
	// AnnotationRotateCredentials on a Region asks for new database passwords whenever
	// its value changes.
	AnnotationRotateCredentials = "platform.jiceng.io/rotate-credentials"
	// AnnotationRotation on a credential Secret is the rotation token its password was
	// last made new for.
	AnnotationRotation = "platform.jiceng.io/rotation"
	// AnnotationPasswordSet on a credential Secret is the digest of the password last
	// set on its role: a Secret whose password differs has its role set again.
	AnnotationPasswordSet = "platform.jiceng.io/password-set"
	// AnnotationApplied on every object the operator applies is the digest of the
	// configuration it applied: an operator that starts again recognises an object
	// still as it was applied (nobody else's field manager on it) without writing it.
	AnnotationApplied = "platform.jiceng.io/applied"
	// AnnotationConfirmDestruction on a Region releases destruction that waits for a
	// person's word: its value lists the townships (comma-separated), or the Region's
	// name for the whole Region.
	AnnotationConfirmDestruction = "platform.jiceng.io/confirm-destruction"
	// AnnotationAdopt on a Region names the UID of an earlier Region of the same name
	// whose retained namespaces and database objects it takes over: the one explicit way
	// a re-created Region gets a deleted one's data.
	AnnotationAdopt = "platform.jiceng.io/adopt"
	// AnnotationRegionUID on a namespace names the UID of the Region that made it: a
	// namespace is that Region's only, not any later Region of the same name.
	AnnotationRegionUID = "platform.jiceng.io/region-uid"

	LevelCounty   = "county"
	LevelTownship = "township"

	// FieldManager begins the name of every server-side apply field manager the
	// operator writes with; each layer has its own (LayerManager). Objects applied
	// before layers had their own managers carry FieldManager itself.
	FieldManager = "region-operator"
	// Finalizer holds a Region until its deletion policy has been carried out.
	Finalizer = "platform.jiceng.io/finalizer"
)

// Names of the objects made in each namespace.
const (
	RoleBindingAdmins         = "region-admins"
	RoleBindingSupervisors    = "region-supervisors"
	RoleBindingTownshipAdmins = "township-admins"
	NetworkPolicyDefaultDeny  = "default-deny-ingress"
	NetworkPolicyAllowRegion  = "allow-region"
	ResourceQuota             = "township-quota"
	LimitRange                = "township-limits"
	DirectoryConfigMap        = "region-directory"
	DirectoryKey              = "directory.json"
	SecretDatabase            = "database"
	SecretSupervisor          = "database-supervisor"
	// DatabaseCAFile is where the platform's pods find the server's CA from their
	// credential Secret's ca.crt; the Secret's sslrootcert and URI name it.
	DatabaseCAFile = "/etc/jiceng/database/ca.crt"
)

// Limits of Kubernetes names and PostgreSQL identifiers.
const (
	MaxLabelLength      = 63
	MaxIdentifierLength = 63
)

// HubNamespace is the county hub's namespace.
func HubNamespace(region string) string { return region }

// TownshipNamespace is one township's namespace.
func TownshipNamespace(region, township string) string { return region + "-" + township }

// TownshipAdminsGroup expands the spec.access.townshipAdmins template.
func TownshipAdminsGroup(template, region, township string) string {
	return strings.NewReplacer("{region}", region, "{township}", township).Replace(template)
}

// Database is the Region's database.
func Database(region string) string { return "region_" + sqlName(region) }

// TownshipRole is the LOGIN role of one township.
func TownshipRole(region, township string) string {
	return TownshipRolePrefix(region) + sqlName(township)
}

// TownshipSchema is one township's schema.
func TownshipSchema(township string) string { return sqlName(township) }

// CountyRole is the LOGIN role of the hub's modules.
func CountyRole(region string) string { return Database(region) + "_county" }

// SupervisorRole is the read-only LOGIN role of the supervisors.
func SupervisorRole(region string) string { return Database(region) + "_supervisor" }

// OwnerRole owns the Region's database and the hub's schemas; it cannot log in. It is
// named like the database: no township role can take that name.
func OwnerRole(region string) string { return Database(region) }

func sqlName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// RegionLabels are the labels of everything made for the Region as a whole.
func RegionLabels(region string) map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelRegion: region}
}

// Labels are the labels of what is made for a township, or for the Region as a whole
// when township is "".
func Labels(region, township string) map[string]string {
	if township == "" {
		return RegionLabels(region)
	}
	return TownshipLabels(region, township)
}

// TownshipLabels are the labels of everything made for one township.
func TownshipLabels(region, township string) map[string]string {
	l := RegionLabels(region)
	l[LabelTownship] = township
	return l
}

// TooLong reports the derived names of a Region and township that exceed their limits;
// the API's validation refuses such specs, this is its counterpart for callers that
// build Regions in Go.
func TooLong(region, township string) []string {
	var bad []string
	check := func(name string, limit int) {
		if len(name) > limit {
			bad = append(bad, name)
		}
	}
	check(HubNamespace(region), MaxLabelLength)
	check(OwnerRole(region), MaxIdentifierLength)
	check(SupervisorRole(region), MaxIdentifierLength)
	check(CountyRole(region), MaxIdentifierLength)
	if township != "" {
		check(TownshipNamespace(region, township), MaxLabelLength)
		check(TownshipRole(region, township), MaxIdentifierLength)
	}
	return bad
}

// TownshipRolePrefix begins the name of every township role of the Region.
func TownshipRolePrefix(region string) string { return Database(region) + "_" }

// Layers, each writing under a field manager of its own, so that no layer can own or
// change the fields of another's objects.
const (
	LayerNamespaces = "namespaces"
	LayerAccess     = "access"
	LayerDatabase   = "database"
	LayerDirectory  = "directory"
	LayerPlatform   = "platform"
)

// LayerManager is the field manager of one layer.
func LayerManager(layer string) string { return FieldManager + "-" + layer }

// IsOperatorManager says whether a field manager is one of the operator's.
func IsOperatorManager(manager string) bool {
	return manager == FieldManager || strings.HasPrefix(manager, FieldManager+"-")
}
