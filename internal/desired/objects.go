// Package desired computes what a Region should become, with no cluster, no database
// server and no clock: every Kubernetes object (as server-side apply configurations)
// and every SQL statement (from a snapshot of the catalog), in order. The operator
// applies and executes exactly what it returns; a plan shown to a person comes from
// the same functions, so the two cannot disagree.
package desired

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/render"
)

// PodSecurity is enforced on every namespace of a Region: the platform's workloads run
// as restricted pods, and so must anything else put there.
var PodSecurity = map[string]string{
	"pod-security.kubernetes.io/enforce":         "restricted",
	"pod-security.kubernetes.io/enforce-version": "latest",
	"pod-security.kubernetes.io/warn":            "restricted",
	"pod-security.kubernetes.io/audit":           "restricted",
}

// HubNamespace is the county hub's namespace.
func HubNamespace(region *platformv1.Region) *corev1ac.NamespaceApplyConfiguration {
	return CountyNamespace(region.Name, region.Spec.Code, region.UID)
}

// CountyNamespace is the hub namespace of a Region with this name, code and UID.
func CountyNamespace(region, code string, uid types.UID) *corev1ac.NamespaceApplyConfiguration {
	return namespace(naming.HubNamespace(region), naming.RegionLabels(region), naming.LevelCounty, code, uid)
}

// TownshipNamespace is one township's namespace, labelled with the class its code says.
func TownshipNamespace(region, township, code string, uid types.UID) *corev1ac.NamespaceApplyConfiguration {
	labels := naming.TownshipLabels(region, township)
	if class := TownshipClass(code); class != "" {
		labels[naming.LabelClass] = class
	}
	return namespace(naming.TownshipNamespace(region, township), labels, naming.LevelTownship, code, uid)
}

// namespace is a Region's namespace: its ownership labels, the UID of the Region that
// made it, level, code and Pod Security.
func namespace(name string, labels map[string]string, level, code string, uid types.UID) *corev1ac.NamespaceApplyConfiguration {
	labels[naming.LabelLevel] = level
	labels[naming.LabelCode] = code
	ac := corev1ac.Namespace(name).WithLabels(labels).WithLabels(PodSecurity)
	if s := string(uid); s != "" {
		ac.WithAnnotations(map[string]string{naming.AnnotationRegionUID: s})
	}
	return ac
}

// OwnsNamespace says whether a namespace labelled for the Region's name is this
// Region's: made by it (its UID), by the earlier Region it adopts, or, made before
// namespaces carried a UID, of a code within the county's.
func OwnsNamespace(region *platformv1.Region, ns *corev1.Namespace) bool {
	switch uid := ns.Annotations[naming.AnnotationRegionUID]; uid {
	case string(region.UID):
		return true
	case "":
		return strings.HasPrefix(ns.Labels[naming.LabelCode], region.Spec.Code)
	default:
		return uid == region.Annotations[naming.AnnotationAdopt]
	}
}

// RetainedNamespace is a namespace kept after its township (or its Region) went away:
// its labels stay, marked as retained since the first time it was seen so, and with
// the township that took its place when a township of the spec names it as formerly
// its own ("" for none).
func RetainedNamespace(current *corev1.Namespace, ac *corev1ac.NamespaceApplyConfiguration, successor string, now time.Time) *corev1ac.NamespaceApplyConfiguration {
	since := current.Annotations[naming.AnnotationSince]
	if since == "" {
		since = now.UTC().Format(time.RFC3339)
	}
	labels := map[string]string{naming.LabelRetained: "true"}
	if successor != "" {
		labels[naming.LabelSuccessor] = successor
	}
	return ac.WithLabels(labels).WithAnnotations(map[string]string{naming.AnnotationSince: since})
}

// The built-in ClusterRoles the Region's RoleBindings grant.
const (
	ClusterRoleAdmin = "admin"
	ClusterRoleView  = "view"
)

// RoleBinding binds groups to a built-in ClusterRole in one namespace.
func RoleBinding(namespace, name, clusterRole string, labels map[string]string, groups []string) *rbacv1ac.RoleBindingApplyConfiguration {
	rb := rbacv1ac.RoleBinding(name, namespace).
		WithLabels(labels).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName(clusterRole))
	for _, g := range groups {
		rb.WithSubjects(rbacv1ac.Subject().WithAPIGroup(rbacv1.GroupName).WithKind(rbacv1.GroupKind).WithName(g))
	}
	return rb
}

// Binding is one RoleBinding a namespace of the Region has, or must not have when
// Groups is empty.
type Binding struct {
	Name, ClusterRole string
	Groups            []string
}

// Bindings are the RoleBindings of a namespace of the Region: admins and supervisors
// everywhere, the township's admins in an active township namespace.
func Bindings(rg *platformv1.Region, township string, active bool) []Binding {
	access := rg.Spec.Access
	out := []Binding{
		{naming.RoleBindingAdmins, ClusterRoleAdmin, access.Admins},
		{naming.RoleBindingSupervisors, ClusterRoleView, access.Supervisors},
	}
	if township != "" && active {
		var groups []string
		if access.TownshipAdmins != "" {
			groups = []string{naming.TownshipAdminsGroup(access.TownshipAdmins, rg.Name, township)}
		}
		out = append(out, Binding{naming.RoleBindingTownshipAdmins, ClusterRoleAdmin, groups})
	}
	return out
}

// NamespaceNameLabel is set by the API server on every namespace and cannot be forged,
// unlike the operator's own labels, so policies select peer namespaces by it.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// DefaultDenyPolicy selects every pod and admits nothing.
func DefaultDenyPolicy(namespace string, labels map[string]string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	return networkingv1ac.NetworkPolicy(naming.NetworkPolicyDefaultDeny, namespace).
		WithLabels(labels).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress))
}

// AllowRegionPolicy lets in traffic from the namespace itself, from the given peer
// namespaces (a township's hub, or the hub's townships) and from the configured ingress.
// Everything else, sibling townships and other Regions included, stays denied.
func AllowRegionPolicy(namespace string, labels map[string]string, peers []string, ingress *metav1.LabelSelector) *networkingv1ac.NetworkPolicyApplyConfiguration {
	from := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithPodSelector(metav1ac.LabelSelector()),
	}
	if len(peers) > 0 {
		from = append(from, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(
			metav1ac.LabelSelector().WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey(NamespaceNameLabel).
				WithOperator(metav1.LabelSelectorOpIn).
				WithValues(peers...))))
	}
	if ingress != nil {
		from = append(from, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(labelSelector(ingress)))
	}
	return networkingv1ac.NetworkPolicy(naming.NetworkPolicyAllowRegion, namespace).
		WithLabels(labels).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(metav1ac.LabelSelector()).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(networkingv1ac.NetworkPolicyIngressRule().WithFrom(from...)))
}

func labelSelector(in *metav1.LabelSelector) *metav1ac.LabelSelectorApplyConfiguration {
	out := metav1ac.LabelSelector()
	if len(in.MatchLabels) > 0 {
		out.WithMatchLabels(in.MatchLabels)
	}
	for _, e := range in.MatchExpressions {
		out.WithMatchExpressions(metav1ac.LabelSelectorRequirement().
			WithKey(e.Key).WithOperator(e.Operator).WithValues(e.Values...))
	}
	return out
}

// Policies are the two NetworkPolicies of a namespace of the Region.
func Policies(rg *platformv1.Region, township string) []*networkingv1ac.NetworkPolicyApplyConfiguration {
	hub := naming.HubNamespace(rg.Name)
	ns, peers := hub, TownshipNamespaces(rg)
	if township != "" {
		ns, peers = naming.TownshipNamespace(rg.Name, township), []string{hub}
	}
	labels := naming.Labels(rg.Name, township)
	return []*networkingv1ac.NetworkPolicyApplyConfiguration{
		DefaultDenyPolicy(ns, labels),
		AllowRegionPolicy(ns, labels, peers, rg.Spec.Network.IngressFrom),
	}
}

// TownshipNamespaces are the namespaces of the spec's townships.
func TownshipNamespaces(rg *platformv1.Region) []string {
	out := make([]string, len(rg.Spec.Townships))
	for i, t := range rg.Spec.Townships {
		out[i] = naming.TownshipNamespace(rg.Name, t.Name)
	}
	return out
}

// Per-container defaults of a township namespace, so that pods which name no resources
// are still admitted under the namespace's quota. Each call makes new lists: an apply
// writes the server's answer into them, so they must not be shared.
func defaultRequest() corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
}

func defaultLimit() corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")}
}

// EffectiveQuota is the township's override, field by field, over the Region's defaults.
func EffectiveQuota(defaults platformv1.Quota, override *platformv1.Quota) platformv1.Quota {
	q := defaults
	if override != nil {
		if override.CPU != nil {
			q.CPU = override.CPU
		}
		if override.Memory != nil {
			q.Memory = override.Memory
		}
		if override.Pods != nil {
			q.Pods = override.Pods
		}
	}
	return q
}

// QuotaHard turns a Quota into the ResourceQuota's hard limits: cpu bounds requests,
// memory bounds requests and limits (memory is not compressible), pods bounds pods.
func QuotaHard(q platformv1.Quota) corev1.ResourceList {
	hard := corev1.ResourceList{}
	if q.CPU != nil {
		hard[corev1.ResourceRequestsCPU] = *q.CPU
	}
	if q.Memory != nil {
		hard[corev1.ResourceRequestsMemory] = *q.Memory
		hard[corev1.ResourceLimitsMemory] = *q.Memory
	}
	if q.Pods != nil {
		hard[corev1.ResourcePods] = *q.Pods
	}
	return hard
}

// Quota is a township's ResourceQuota, or nil when it has no quota at all, from
// defaults, its class's defaults or its override.
func Quota(rg *platformv1.Region, t *platformv1.Township) *corev1ac.ResourceQuotaApplyConfiguration {
	hard := QuotaHard(TownshipQuota(rg.Spec.Defaults, t))
	if len(hard) == 0 {
		return nil
	}
	return corev1ac.ResourceQuota(naming.ResourceQuota, naming.TownshipNamespace(rg.Name, t.Name)).
		WithLabels(naming.TownshipLabels(rg.Name, t.Name)).
		WithSpec(corev1ac.ResourceQuotaSpec().WithHard(hard))
}

// LimitRange is a township's per-container defaults.
func LimitRange(rg *platformv1.Region, township string) *corev1ac.LimitRangeApplyConfiguration {
	return corev1ac.LimitRange(naming.LimitRange, naming.TownshipNamespace(rg.Name, township)).
		WithLabels(naming.TownshipLabels(rg.Name, township)).
		WithSpec(corev1ac.LimitRangeSpec().WithLimits(corev1ac.LimitRangeItem().
			WithType(corev1.LimitTypeContainer).
			WithDefaultRequest(defaultRequest()).
			WithDefault(defaultLimit())))
}

// Server is where a Region's database is reached, as its credential Secrets say.
type Server struct {
	Host    string
	Port    int
	SSLMode string
	// CACert is the PEM of the authority that signed the server's certificate, handed
	// to the services as ca.crt; empty when the DatabaseServer names none.
	CACert string
}

// Credential is one LOGIN role and the Secret that hands it out.
type Credential struct {
	Role, Namespace, Secret, Township string
	// Limit is the most connections the login may hold at once.
	Limit int
}

// Credentials lists the Region's LOGIN roles with their Secrets: the hub's own role
// and the supervisor's in the hub, each township's in its namespace.
func Credentials(rg *platformv1.Region) []Credential {
	name := rg.Name
	hub := naming.HubNamespace(name)
	hubLimit := connectionLimit(rg, nil)
	out := []Credential{
		{Role: naming.CountyRole(name), Namespace: hub, Secret: naming.SecretDatabase, Limit: hubLimit},
		{Role: naming.SupervisorRole(name), Namespace: hub, Secret: naming.SecretSupervisor, Limit: hubLimit},
	}
	for i := range rg.Spec.Townships {
		t := &rg.Spec.Townships[i]
		out = append(out, Credential{Role: naming.TownshipRole(name, t.Name), Namespace: naming.TownshipNamespace(name, t.Name),
			Secret: naming.SecretDatabase, Township: t.Name, Limit: connectionLimit(rg, t)})
	}
	return out
}

// PasswordDigest is what a credential Secret records of the password last set on its
// role: enough to tell that the Secret's password is another, nothing to log in with.
func PasswordDigest(role, password string) string {
	sum := sha256.Sum256([]byte(role + "\x00" + password))
	return hex.EncodeToString(sum[:16])
}

// SecretState is what a credential Secret records besides the login: the rotation its
// password was made for, and the digest of the password its role has.
type SecretState struct {
	Rotation, PasswordSet string
}

// CredentialSecret is the Secret that hands a role's credentials to the services.
func CredentialSecret(region string, c Credential, srv Server, database, password string, state SecretState) *corev1ac.SecretApplyConfiguration {
	port := strconv.Itoa(srv.Port)
	query := url.Values{"sslmode": {srv.SSLMode}}
	if srv.CACert != "" {
		query.Set("sslrootcert", naming.DatabaseCAFile)
	}
	uri := url.URL{
		Scheme:   "postgresql",
		User:     url.UserPassword(c.Role, password),
		Host:     net.JoinHostPort(srv.Host, port),
		Path:     "/" + database,
		RawQuery: query.Encode(),
	}
	annotations := map[string]string{}
	if state.Rotation != "" {
		annotations[naming.AnnotationRotation] = state.Rotation
	}
	if state.PasswordSet != "" {
		annotations[naming.AnnotationPasswordSet] = state.PasswordSet
	}
	ac := corev1ac.Secret(c.Secret, c.Namespace).
		WithLabels(naming.Labels(region, c.Township))
	if len(annotations) > 0 {
		ac.WithAnnotations(annotations)
	}
	data := map[string][]byte{
		"host":     []byte(srv.Host),
		"port":     []byte(port),
		"dbname":   []byte(database),
		"user":     []byte(c.Role),
		"password": []byte(password),
		"sslmode":  []byte(srv.SSLMode),
		"uri":      []byte(uri.String()),
		// What the server lets this login hold at once, for the service's pool.
		"connectionLimit": []byte(strconv.Itoa(c.Limit)),
	}
	if srv.CACert != "" {
		// The server's CA, and where the platform's pods mount it (libpq's sslrootcert,
		// PGSSLROOTCERT in their environment).
		data["ca.crt"] = []byte(srv.CACert)
		data["sslrootcert"] = []byte(naming.DatabaseCAFile)
	}
	return ac.WithType(corev1.SecretTypeOpaque).WithData(data)
}

// Database is what the Region asks of its database. placed says whether a township's
// credential Secret (or, for "", the hub's) is in place this reconcile.
func Database(rg *platformv1.Region, cluster string, placed func(township string) bool) *RegionDB {
	db := &RegionDB{
		Region:             rg.Name,
		UID:                string(rg.UID),
		Adopt:              rg.Annotations[naming.AnnotationAdopt],
		Cluster:            cluster,
		Database:           naming.Database(rg.Name),
		Owner:              naming.OwnerRole(rg.Name),
		County:             naming.CountyRole(rg.Name),
		Supervisor:         naming.SupervisorRole(rg.Name),
		TownshipRolePrefix: naming.TownshipRolePrefix(rg.Name),
		Reset:              map[string]bool{},
		Policy:             string(rg.Spec.DeletionPolicy),
		HubPlaced:          placed(""),
		ConnectionLimit:    connectionLimit(rg, nil),
		Clean:              true,
		Confirmed:          rg.Annotations[naming.AnnotationConfirmDestruction],
	}
	if db.Policy == "" {
		db.Policy = PolicyRetain
	}
	for _, t := range rg.Spec.Townships {
		tdb := TownshipDB{
			Name: t.Name, Schema: naming.TownshipSchema(t.Name), Role: naming.TownshipRole(rg.Name, t.Name),
			Code: t.Code, DisplayName: t.DisplayName, Placed: placed(t.Name), ConnectionLimit: connectionLimit(rg, &t),
			Class: TownshipClass(t.Code),
		}
		for _, f := range t.Formerly {
			former := Former{Name: f.Name, Code: f.Code, Schema: naming.TownshipSchema(f.Name), Role: naming.TownshipRole(rg.Name, f.Name)}
			// The API refuses the reserved names; a former township is never the hub
			// or PostgreSQL's own, whatever reaches here.
			if slices.Contains(reservedSchemas, former.Schema) || strings.HasPrefix(former.Schema, "pg_") ||
				former.Role == db.Owner || former.Role == db.County || former.Role == db.Supervisor {
				continue
			}
			tdb.Formerly = append(tdb.Formerly, former)
		}
		db.Townships = append(db.Townships, tdb)
		for _, b := range t.Branches {
			kind := b.Kind
			if kind == "" {
				kind = platformv1.BranchVillage
			}
			db.Branches = append(db.Branches, BranchRow{
				TownshipCode: t.Code, Name: b.Name, DisplayName: b.DisplayName, Kind: string(kind), Code: b.Code, Members: b.Members,
			})
		}
	}
	return db
}

// DirectoryConfigMap is the region-directory ConfigMap of the hub (township "") or of
// one township.
func DirectoryConfigMap(region, township, ns string, dir Directory) (*corev1ac.ConfigMapApplyConfiguration, error) {
	data, err := json.MarshalIndent(dir, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the directory: %w", err)
	}
	return corev1ac.ConfigMap(naming.DirectoryConfigMap, ns).
		WithLabels(naming.Labels(region, township)).
		WithData(map[string]string{naming.DirectoryKey: string(data)}), nil
}

// Options say what Objects needs beyond the Region: where its database is and each
// role's password.
type Options struct {
	Server   Server
	Password func(role string) string
}

// Object is one Kubernetes object a Region becomes, with the layer that applies it.
type Object struct {
	Layer    string
	Township string
	Config   runtime.ApplyConfiguration
}

// Layers, in the order the operator's phases run.
const (
	LayerNamespaces = naming.LayerNamespaces
	LayerAccess     = naming.LayerAccess
	LayerDatabase   = naming.LayerDatabase
	LayerDirectory  = naming.LayerDirectory
	LayerPlatform   = naming.LayerPlatform
)

// LayerOf is the layer that writes an object of a kind and name: the field manager it
// is applied under follows from it.
func LayerOf(kind, name string) string {
	switch kind {
	case "Namespace":
		return LayerNamespaces
	case "RoleBinding", "NetworkPolicy", "ResourceQuota", "LimitRange":
		return LayerAccess
	case "Secret":
		return LayerDatabase
	case "ConfigMap":
		if name == naming.DirectoryConfigMap {
			return LayerDirectory
		}
	}
	return LayerPlatform
}

// Objects is every Kubernetes object a Region in good order consists of, layer by
// layer, built by the same functions the operator's phases apply them with.
func Objects(rg *platformv1.Region, opts Options) ([]Object, error) {
	var out []Object
	add := func(layer, township string, ac runtime.ApplyConfiguration) {
		out = append(out, Object{Layer: layer, Township: township, Config: ac})
	}
	add(LayerNamespaces, "", HubNamespace(rg))
	for _, t := range rg.Spec.Townships {
		add(LayerNamespaces, t.Name, TownshipNamespace(rg.Name, t.Name, t.Code, rg.UID))
	}
	townships := append([]string{""}, names(rg)...)
	for _, township := range townships {
		ns := naming.HubNamespace(rg.Name)
		if township != "" {
			ns = naming.TownshipNamespace(rg.Name, township)
		}
		labels := naming.Labels(rg.Name, township)
		for _, b := range Bindings(rg, township, true) {
			if len(b.Groups) > 0 {
				add(LayerAccess, township, RoleBinding(ns, b.Name, b.ClusterRole, labels, b.Groups))
			}
		}
		for _, p := range Policies(rg, township) {
			add(LayerAccess, township, p)
		}
	}
	for i := range rg.Spec.Townships {
		t := &rg.Spec.Townships[i]
		if q := Quota(rg, t); q != nil {
			add(LayerAccess, t.Name, q)
		}
		add(LayerAccess, t.Name, LimitRange(rg, t.Name))
	}
	if rg.Spec.Database != nil {
		for _, c := range Credentials(rg) {
			password := opts.Password(c.Role)
			add(LayerDatabase, c.Township, CredentialSecret(rg.Name, c, opts.Server, naming.Database(rg.Name), password,
				SecretState{Rotation: rg.Annotations[naming.AnnotationRotateCredentials], PasswordSet: PasswordDigest(c.Role, password)}))
		}
	}
	dir := BuildDirectory(rg)
	cm, err := DirectoryConfigMap(rg.Name, "", naming.HubNamespace(rg.Name), dir)
	if err != nil {
		return nil, err
	}
	add(LayerDirectory, "", cm)
	for _, t := range rg.Spec.Townships {
		cm, err := DirectoryConfigMap(rg.Name, t.Name, naming.TownshipNamespace(rg.Name, t.Name), TownshipDirectory(dir, t.Name))
		if err != nil {
			return nil, err
		}
		add(LayerDirectory, t.Name, cm)
	}
	if rg.Spec.Platform == nil {
		return out, nil
	}
	objs, err := render.Render(rg)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		add(LayerPlatform, o.GetLabels()[naming.LabelTownship], client.ApplyConfigurationFromUnstructured(o))
	}
	return out, nil
}

func names(rg *platformv1.Region) []string {
	out := make([]string, len(rg.Spec.Townships))
	for i, t := range rg.Spec.Townships {
		out[i] = t.Name
	}
	return out
}

// connectionLimit is the connection limit of a township's login, or of the hub's
// logins when t is nil.
func connectionLimit(rg *platformv1.Region, t *platformv1.Township) int {
	if t != nil && t.ConnectionLimit != nil {
		return int(*t.ConnectionLimit)
	}
	if rg.Spec.Database != nil && rg.Spec.Database.ConnectionLimit != nil {
		return int(*rg.Spec.Database.ConnectionLimit)
	}
	return platformv1.DefaultConnectionLimit
}
