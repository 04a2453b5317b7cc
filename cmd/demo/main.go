// Command demo shows region-operator's main job end to end on this machine: it starts a
// local control plane (the real kube-apiserver and etcd) and a local PostgreSQL, runs the
// operator, applies a real county, waits until it is Ready and prints what the county became. It cleans up
// after itself and exits 0 only if the Region became Ready.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/manager"
	"github.com/jiceng-io/region-operator/internal/naming"
	"github.com/jiceng-io/region-operator/internal/pgsql"
	"github.com/jiceng-io/region-operator/internal/plugin"
)

func main() {
	sample := flag.String("sample", "config/samples/platform_v1alpha1_region.yaml", "the Region to apply")
	wait := flag.Duration("timeout", 90*time.Second, "how long to wait for the Region to become Ready")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if err := run(*sample, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(samplePath string, wait time.Duration) error {
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Printf("[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	step("starting a local control plane (kube-apiserver + etcd) and installing the CRDs")
	env, err := localenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()

	step("starting a local PostgreSQL (Debian's binaries, a throwaway cluster)")
	pg, err := localpg.Start()
	if err != nil {
		return err
	}
	defer pg.Remove()
	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	ctx := context.Background()
	step("registering it as DatabaseServer %s (PostgreSQL %s on port %d, provisioning as a non-superuser)", serverName, pg.Version, pg.Port)
	if err := registerServer(ctx, c, pg); err != nil {
		return err
	}

	step("starting region-operator")
	op, err := manager.Start(env.Config, manager.Local(4))
	if err != nil {
		return err
	}
	defer func() { _ = op.Stop() }()

	raw, err := os.ReadFile(filepath.Join(env.Root, samplePath))
	if err != nil {
		return err
	}
	region := &platformv1.Region{}
	if err := yaml.UnmarshalStrict(raw, region); err != nil {
		return fmt.Errorf("reading %s: %w", samplePath, err)
	}
	step("applying Region %s (%s, %d townships) from %s", region.Name, region.Spec.DisplayName, len(region.Spec.Townships), samplePath)
	if err := c.Create(ctx, region); err != nil {
		return err
	}

	deadline := time.Now().Add(wait)
	announced := false
	for {
		if err := c.Get(ctx, client.ObjectKeyFromObject(region), region); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(region.Status.Conditions, controllers.ConditionReady)
		if ready != nil && ready.Status == metav1.ConditionTrue && region.Status.ObservedGeneration == region.Generation {
			step("Region %s is Ready: %s", region.Name, ready.Message)
			break
		}
		// No kube-controller-manager runs here, so no Deployment ever rolls out by
		// itself: the demo reports them rolled out, as the deployment controller would.
		if p := meta.FindStatusCondition(region.Status.Conditions, controllers.ConditionPlatformReady); p != nil && p.Reason == controllers.ReasonProgressing {
			if !announced {
				deployments := int32(0)
				if region.Status.Platform != nil {
					deployments = region.Status.Platform.Deployments
				}
				step("platform applied, %d Deployments waiting to roll out; no kube-controller-manager runs here, so the demo marks them rolled out as it would", deployments)
				announced = true
			}
			if err := markRolledOut(ctx, c, region.Name); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			msg := "no status yet"
			if ready != nil {
				msg = ready.Message
			}
			return fmt.Errorf("the Region %s did not become Ready within %s: %s", region.Name, wait, msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Printf("\n$ kubectl region tree %s\n", region.Name)
	plugin.WriteTree(os.Stdout, plugin.BuildTree(region), false)
	fmt.Println("\nWhat the cluster holds, namespace by namespace (read back from the API server):")
	if err := printTree(ctx, os.Stdout, c, region); err != nil {
		return err
	}
	fmt.Println()
	if err := queryAsTownship(ctx, os.Stdout, c, pg, region); err != nil {
		return err
	}
	fmt.Println()
	step("done; stopping the operator and the control plane")
	return nil
}

const serverName = "provincial-pg"

// markRolledOut reports the Region's Deployments rolled out, as the deployment
// controller would once their pods are up.
func markRolledOut(ctx context.Context, c client.Client, region string) error {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.MatchingLabels{naming.LabelRegion: region}); err != nil {
		return err
	}
	for i := range list.Items {
		if localenv.RolledOut(&list.Items[i]) {
			continue
		}
		if err := localenv.RollOut(ctx, c, &list.Items[i]); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

// registerServer creates a provisioning login on the local PostgreSQL and the
// DatabaseServer the sample Region refers to.
func registerServer(ctx context.Context, c client.Client, pg *localpg.Server) error {
	password := pgsql.NewPassword()
	if err := pg.CreateAdmin(ctx, "region_operator", password); err != nil {
		return err
	}
	return localenv.RegisterServer(ctx, c, pg, serverName, "region-operator-system", "region_operator", password, 4)
}

// queryAsTownship logs in with the first township's own Secret and shows what row-level
// security lets it see of the directory, and that its schema is its own.
func queryAsTownship(ctx context.Context, w io.Writer, c client.Client, pg *localpg.Server, rg *platformv1.Region) error {
	if len(rg.Spec.Townships) == 0 {
		return nil
	}
	t := rg.Spec.Townships[0]
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: naming.TownshipNamespace(rg.Name, t.Name), Name: naming.SecretDatabase}, secret); err != nil {
		return err
	}
	user, db := string(secret.Data["user"]), string(secret.Data["dbname"])
	conn, err := pg.Connect(ctx, user, string(secret.Data["password"]), db)
	if err != nil {
		return fmt.Errorf("logging in with Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	defer conn.Close(ctx)
	fmt.Fprintf(w, "Logged in to database %s as %s with the password from Secret %s/database:\n", db, user, secret.Namespace)
	var townships, branches int
	var name string
	// The login's search_path is its own schema, then org: names need no schema.
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM township), (SELECT count(*) FROM branch),
		(SELECT display_name FROM township LIMIT 1)`).Scan(&townships, &branches, &name); err != nil {
		return err
	}
	fmt.Fprintf(w, "  SELECT ... FROM township, branch  →  %d township (%s), %d branches: row-level security shows its own rows only\n", townships, name, branches)
	if _, err := conn.Exec(ctx, `CREATE TABLE visits (id serial PRIMARY KEY, note text)`); err != nil {
		return err
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	fmt.Fprintf(w, "  CREATE TABLE visits  →  ok, in its own schema %s\n", schema)
	other := rg.Spec.Townships[len(rg.Spec.Townships)-1]
	_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s.visits (id int)`, naming.TownshipSchema(other.Name)))
	fmt.Fprintf(w, "  CREATE TABLE %s.visits  →  %v\n", naming.TownshipSchema(other.Name), errText(err))
	return nil
}

func errText(err error) string {
	if err == nil {
		return "ok (unexpected!)"
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "refused: " + pgErr.Message
	}
	return err.Error()
}

// printTree prints the hub and each township with what the cluster holds for it: read
// back from the API server, not from the spec (the branches are kubectl region tree's).
func printTree(ctx context.Context, w io.Writer, c client.Client, rg *platformv1.Region) error {
	hub := naming.HubNamespace(rg.Name)
	fmt.Fprintf(w, "%s %s (code %s) — %d townships, %d branches\n", rg.Spec.DisplayName, rg.Name, rg.Spec.Code, rg.Status.TownshipCount, rg.Status.BranchCount)
	lines, err := describeNamespace(ctx, c, hub)
	if err != nil {
		return err
	}
	dir := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: hub, Name: naming.DirectoryConfigMap}, dir); err != nil {
		return err
	}
	lines = append(lines, fmt.Sprintf("directory: ConfigMap %s (%d bytes of JSON)", dir.Name, len(dir.Data[naming.DirectoryKey])))
	if db := rg.Status.Database; db != nil {
		lines = append(lines, fmt.Sprintf("database: %s on DatabaseServer %s; schemas county and org; roles %s (Secret database), %s (Secret database-supervisor)",
			db.Name, db.Server, naming.CountyRole(rg.Name), naming.SupervisorRole(rg.Name)))
	}
	fmt.Fprintf(w, "├─ county hub, namespace %s\n", hub)
	for _, l := range lines {
		fmt.Fprintf(w, "│    %s\n", l)
	}
	rows := map[string]platformv1.TownshipStatus{}
	for _, r := range rg.Status.Townships {
		rows[r.Name] = r
	}
	for i, t := range rg.Spec.Townships {
		last := i == len(rg.Spec.Townships)-1
		branch, pipe := "├─", "│ "
		if last {
			branch, pipe = "└─", "  "
		}
		row := rows[t.Name]
		state := "ready"
		if !row.Ready {
			state = "NOT READY"
		}
		code := t.Code
		if class := desired.TownshipClass(t.Code); class != "" {
			code += ", " + class
		}
		fmt.Fprintf(w, "%s %s %s (code %s), namespace %s — %s\n", branch, t.DisplayName, t.Name, code, row.Namespace, state)
		if row.Schema != "" {
			fmt.Fprintf(w, "%s   database: schema %s, role %s (Secret %s/database)\n", pipe, row.Schema, row.Role, row.Namespace)
		}
		lines, err := describeNamespace(ctx, c, row.Namespace)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s   %s\n", pipe, l)
		}
	}
	return nil
}

// describeNamespace summarises the access policies the operator made in a namespace.
func describeNamespace(ctx context.Context, c client.Client, ns string) ([]string, error) {
	var out []string
	var rbs rbacv1.RoleBindingList
	if err := c.List(ctx, &rbs, client.InNamespace(ns), client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue}); err != nil {
		return nil, err
	}
	var grants []string
	for _, rb := range rbs.Items {
		var groups []string
		for _, s := range rb.Subjects {
			groups = append(groups, s.Name)
		}
		grants = append(grants, fmt.Sprintf("%s→%s", strings.Join(groups, ","), rb.RoleRef.Name))
	}
	sort.Strings(grants)
	out = append(out, "rbac: "+strings.Join(grants, "  "))

	var nps networkingv1.NetworkPolicyList
	if err := c.List(ctx, &nps, client.InNamespace(ns), client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue}); err != nil {
		return nil, err
	}
	var allowed []string
	for _, np := range nps.Items {
		for _, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				switch {
				case peer.NamespaceSelector == nil:
					allowed = append(allowed, "same namespace")
				case len(peer.NamespaceSelector.MatchExpressions) > 0:
					v := peer.NamespaceSelector.MatchExpressions[0].Values
					if len(v) == 1 {
						allowed = append(allowed, v[0])
					} else {
						allowed = append(allowed, fmt.Sprintf("%d township namespaces", len(v)))
					}
				default:
					allowed = append(allowed, metav1.FormatLabelSelector(peer.NamespaceSelector))
				}
			}
		}
	}
	out = append(out, fmt.Sprintf("network: %d policies, default deny; ingress only from %s", len(nps.Items), strings.Join(allowed, ", ")))

	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, client.InNamespace(ns), client.MatchingLabels{naming.LabelManagedBy: naming.ManagedByValue}); err != nil {
		return nil, err
	}
	var services []string
	for _, d := range deps.Items {
		services = append(services, fmt.Sprintf("%s (%s, %d/%d available, Service %s)", d.Name,
			d.Spec.Template.Spec.Containers[0].Image, d.Status.AvailableReplicas, *d.Spec.Replicas, d.Name))
	}
	if len(services) > 0 {
		sort.Strings(services)
		out = append(out, "platform: "+strings.Join(services, "; "))
	}

	q := &corev1.ResourceQuota{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ResourceQuota}, q); err == nil {
		var hard []string
		for k, v := range q.Spec.Hard {
			hard = append(hard, fmt.Sprintf("%s=%s", k, v.String()))
		}
		sort.Strings(hard)
		out = append(out, "quota: "+strings.Join(hard, " "))
	}
	return out, nil
}
