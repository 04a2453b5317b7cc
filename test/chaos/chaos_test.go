// Package chaos runs the operator as its own process against a real API server and a
// real PostgreSQL (and, for ownership across clusters, a second API server) and hurts it: killed with SIGKILL at random moments while a county
// rolls out and changes, PostgreSQL restarted in the middle, the API server cut off
// again and again. Afterwards the county must be exactly what its spec says, with
// nothing lost. CHAOS_KILLS sets how many kills (make test: 15; make chaos: more).
package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	platformv1 "github.com/jiceng-io/region-operator/api/v1alpha1"
	"github.com/jiceng-io/region-operator/controllers"
	"github.com/jiceng-io/region-operator/internal/desired"
	"github.com/jiceng-io/region-operator/internal/localenv"
	"github.com/jiceng-io/region-operator/internal/localpg"
	"github.com/jiceng-io/region-operator/internal/naming"
)

var (
	env        *localenv.Env
	k8s        client.Client
	pg         *localpg.Server
	operator   string // the operator's binary
	kubeconfig []byte
	workDir    string
)

const (
	pgAdmin    = "region_admin"
	pgPassword = "chaos-Pa55word"
	server     = "chaos-pg"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	// The operator runs as its own process with its own log; this one logs nothing.
	ctrllog.SetLogger(logr.Discard())
	var err error
	if workDir, err = os.MkdirTemp("", "region-operator-chaos-"); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(workDir)
	if env, err = localenv.Start(); err != nil {
		return fail(err)
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(env.Config, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return fail(err)
	}
	if kubeconfig, err = env.KubeConfig(); err != nil {
		return fail(err)
	}
	if pg, err = localpg.Start(); err != nil {
		return fail(err)
	}
	defer pg.Remove()
	ctx := context.Background()
	if err := pg.CreateAdmin(ctx, pgAdmin, pgPassword); err != nil {
		return fail(err)
	}
	// Every DDL statement the server runs goes into its log, which the tests read.
	if err := pg.LogStatements(ctx, "ddl"); err != nil {
		return fail(err)
	}
	if err := localenv.RegisterServer(ctx, k8s, pg, server, controllers.DefaultSecretNamespace, pgAdmin, pgPassword, 4); err != nil {
		return fail(err)
	}
	operator = filepath.Join(workDir, "manager")
	build := exec.Command("go", "build", "-o", operator, "./cmd")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("building the operator: %w\n%s", err, out))
	}
	return m.Run()
}

// process is one run of the operator's binary.
type process struct {
	cmd *exec.Cmd
	log *os.File
}

// start runs the operator against the API server at apiServer ("" for the control
// plane itself), its log appended to logPath.
func start(t *testing.T, apiServer, logPath string, args ...string) *process {
	t.Helper()
	return startWith(t, kubeconfig, apiServer, logPath, args...)
}

// startWith runs the operator with a kubeconfig.
func startWith(t *testing.T, kubeconfig []byte, apiServer, logPath string, args ...string) *process {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if apiServer != "" {
		for _, c := range cfg.Clusters {
			c.Server = apiServer
		}
	}
	path := filepath.Join(workDir, "kubeconfig-"+strconv.Itoa(rand.IntN(1<<30)))
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(operator, append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+path, "POD_NAMESPACE="+controllers.DefaultSecretNamespace)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &process{cmd: cmd, log: log}
}

// kill ends the process with SIGKILL: no shutdown, no deferred work.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
	_ = p.log.Close()
}

func kills() int {
	if n, err := strconv.Atoi(os.Getenv("CHAOS_KILLS")); err == nil && n > 0 {
		return n
	}
	return 15
}

func county(name string, policy platformv1.DeletionPolicy, n int) *platformv1.Region {
	rg := &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: platformv1.RegionSpec{
		DisplayName: "永春县", Code: "350525", DeletionPolicy: policy,
		Access:   platformv1.Access{Admins: []string{name + "-admins"}, Supervisors: []string{name + "-discipline"}, TownshipAdmins: "{region}-{township}-admins"},
		Database: &platformv1.Database{ServerRef: server},
		Platform: &platformv1.Platform{Modules: []string{"portal", "services", "deliberation"},
			Image: platformv1.Image{Registry: "registry.example.gov.cn/jiceng", Tag: "1.4.2"}},
	}}
	for i := 1; i <= n; i++ {
		rg.Spec.Townships = append(rg.Spec.Townships, township(i))
	}
	return rg
}

func township(i int) platformv1.Township {
	return platformv1.Township{Name: fmt.Sprintf("t%d", i), DisplayName: fmt.Sprintf("第%d镇", i), Code: fmt.Sprintf("350525%03d", 100+i),
		Branches: []platformv1.Branch{{Name: "jiguan", DisplayName: "机关党支部", Kind: platformv1.BranchOrgan, Members: 12}}}
}

func update(g Gomega, name string, change func(*platformv1.Region)) {
	g.Eventually(func() error {
		rg := &platformv1.Region{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, rg); err != nil {
			return err
		}
		change(rg)
		return k8s.Update(context.Background(), rg)
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
}

// converge rolls out the Region's Deployments as the deployment controller would, until
// the Region is Ready for its latest generation.
func converge(g Gomega, name string, within time.Duration) *platformv1.Region {
	ctx := context.Background()
	var rg *platformv1.Region
	g.Eventually(func(g Gomega) {
		var list appsv1.DeploymentList
		g.Expect(k8s.List(ctx, &list, client.MatchingLabels{naming.LabelRegion: name})).To(Succeed())
		for i := range list.Items {
			d := &list.Items[i]
			if d.Status.ObservedGeneration != d.Generation {
				_ = localenv.RollOut(ctx, k8s, d)
			}
		}
		rg = &platformv1.Region{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: name}, rg)).To(Succeed())
		g.Expect(rg.Status.ObservedGeneration).To(Equal(rg.Generation))
		c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}, within, 250*time.Millisecond).Should(Succeed())
	return rg
}

// exactly checks that the cluster and the server hold what the spec says, nothing
// duplicated or missing, and that every credential Secret logs in.
func exactly(g Gomega, rg *platformv1.Region) {
	ctx := context.Background()
	name := rg.Name
	wantNS := []string{naming.HubNamespace(name)}
	var wantRoles, wantSchemas, wantCodes []string
	wantRoles = append(wantRoles, naming.OwnerRole(name), naming.CountyRole(name), naming.SupervisorRole(name))
	wantSchemas = append(wantSchemas, "county", "org", "public")
	for _, t := range rg.Spec.Townships {
		wantNS = append(wantNS, naming.TownshipNamespace(name, t.Name))
		wantRoles = append(wantRoles, naming.TownshipRole(name, t.Name))
		wantSchemas = append(wantSchemas, naming.TownshipSchema(t.Name))
		wantCodes = append(wantCodes, t.Code)
	}
	var nss corev1.NamespaceList
	g.Expect(k8s.List(ctx, &nss, client.MatchingLabels{naming.LabelRegion: name})).To(Succeed())
	var gotNS []string
	for _, ns := range nss.Items {
		g.Expect(ns.DeletionTimestamp).To(BeNil(), ns.Name)
		gotNS = append(gotNS, ns.Name)
	}
	g.Expect(gotNS).To(ConsistOf(wantNS))

	su, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	g.Expect(err).NotTo(HaveOccurred())
	defer su.Close(ctx)
	rows, err := su.Query(ctx, `SELECT rolname::text FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE $1 || ' (uid %) in cluster %'`, desired.LegacyMarker(name))
	g.Expect(err).NotTo(HaveOccurred())
	var gotRoles []string
	for rows.Next() {
		var r string
		g.Expect(rows.Scan(&r)).To(Succeed())
		gotRoles = append(gotRoles, r)
	}
	g.Expect(gotRoles).To(ConsistOf(wantRoles))

	db, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, naming.Database(name))
	g.Expect(err).NotTo(HaveOccurred())
	defer db.Close(ctx)
	rows, err = db.Query(ctx, `SELECT nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'`)
	g.Expect(err).NotTo(HaveOccurred())
	var gotSchemas []string
	for rows.Next() {
		var s string
		g.Expect(rows.Scan(&s)).To(Succeed())
		gotSchemas = append(gotSchemas, s)
	}
	g.Expect(gotSchemas).To(ConsistOf(wantSchemas))
	rows, err = db.Query(ctx, `SELECT code FROM org.township`)
	g.Expect(err).NotTo(HaveOccurred())
	var gotCodes []string
	for rows.Next() {
		var c string
		g.Expect(rows.Scan(&c)).To(Succeed())
		gotCodes = append(gotCodes, c)
	}
	g.Expect(gotCodes).To(ConsistOf(wantCodes))

	for _, ns := range wantNS {
		secrets := []string{naming.SecretDatabase}
		if ns == naming.HubNamespace(name) {
			secrets = append(secrets, naming.SecretSupervisor)
		}
		for _, sn := range secrets {
			s := &corev1.Secret{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: sn}, s)).To(Succeed())
			conn, err := pg.Connect(ctx, string(s.Data["user"]), string(s.Data["password"]), string(s.Data["dbname"]))
			g.Expect(err).NotTo(HaveOccurred(), "%s/%s logs in", ns, sn)
			conn.Close(ctx)
		}
	}
}

func noPanic(g Gomega, logPath string) {
	data, err := os.ReadFile(logPath)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).NotTo(ContainSubstring("panic"))
}

// ddlLog is what the server's statement log holds from offset on.
func ddlLog(g Gomega, offset int64) string {
	data, err := os.ReadFile(pg.LogPath())
	g.Expect(err).NotTo(HaveOccurred())
	return string(data[offset:])
}

func logSize(g Gomega) int64 {
	n, err := pg.LogSize()
	g.Expect(err).NotTo(HaveOccurred())
	return n
}

// The operator is killed at random moments while a county rolls out and its spec
// changes (a township added, a branch edited, credentials rotated, the platform's tag
// changed), and PostgreSQL restarts in the middle. Afterwards the county converges
// to exactly its spec, every credential logs in, the server ran no DROP (Retain) and
// the operator never panicked.
func TestKilledAtRandomConverges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "killed"
	logPath := filepath.Join(workDir, name+".log")
	offset := logSize(g)
	g.Expect(k8s.Create(ctx, county(name, platformv1.DeletionPolicyRetain, 4))).To(Succeed())

	n := kills()
	for i := range n {
		p := start(t, "", logPath)
		time.Sleep(time.Duration(300+rand.IntN(2700)) * time.Millisecond)
		p.kill()
		switch i {
		case n / 5:
			update(g, name, func(rg *platformv1.Region) { rg.Spec.Townships = append(rg.Spec.Townships, township(5)) })
		case 2 * n / 5:
			update(g, name, func(rg *platformv1.Region) {
				rg.Spec.Townships[0].Branches = append(rg.Spec.Townships[0].Branches,
					platformv1.Branch{Name: "xincun", DisplayName: "新村党支部", Kind: platformv1.BranchVillage, Members: 5})
			})
		case n / 2:
			g.Expect(pg.Stop()).To(Succeed())
			time.Sleep(time.Second)
			g.Expect(pg.StartAgain()).To(Succeed())
		case 3 * n / 5:
			update(g, name, func(rg *platformv1.Region) {
				if rg.Annotations == nil {
					rg.Annotations = map[string]string{}
				}
				rg.Annotations[naming.AnnotationRotateCredentials] = "after-kill"
			})
		case 4 * n / 5:
			update(g, name, func(rg *platformv1.Region) { rg.Spec.Platform.Image.Tag = "1.4.3" })
		}
	}
	p := start(t, "", logPath)
	defer p.kill()
	rg := converge(g, name, 3*time.Minute)
	g.Expect(rg.Status.Database).NotTo(BeNil())
	g.Expect(rg.Status.Database.RotationToken).To(Equal("after-kill"))
	exactly(g, rg)
	d := &appsv1.Deployment{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name, Name: "portal"}, d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(HaveSuffix(":1.4.3"))
	g.Expect(ddlLog(g, offset)).NotTo(ContainSubstring("DROP"), "nothing is dropped under Retain")
	noPanic(g, logPath)
	t.Logf("%d kills, PostgreSQL restarted once; converged", n)
}

// proxy forwards TCP to the API server and can cut every connection at will.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// cut closes every connection and, with setDown, refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.cut()
	}
}

func (p *proxy) url() string { return "https://" + p.ln.Addr().String() }

// uids names every object of the Region that a wrong prune or delete would remove.
func uids(g Gomega, name string) map[string]types.UID {
	ctx := context.Background()
	out := map[string]types.UID{}
	sel := client.MatchingLabels{naming.LabelRegion: name}
	for kind, list := range map[string]client.ObjectList{
		"Namespace": &corev1.NamespaceList{}, "Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{},
		"ConfigMap": &corev1.ConfigMapList{}, "Secret": &corev1.SecretList{},
	} {
		g.Expect(k8s.List(ctx, list, sel)).To(Succeed())
		items, err := meta.ExtractList(list)
		g.Expect(err).NotTo(HaveOccurred())
		for _, it := range items {
			o := it.(client.Object)
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			out[kind+" "+o.GetNamespace()+"/"+o.GetName()] = o.GetUID()
		}
	}
	return out
}

// The API server is cut off again and again, mid-reconcile, from an operator running a
// county under Delete while a module is added: nothing is pruned, deleted or dropped,
// and once the API server stays reachable the county converges.
func TestAPIServerCutOffDestroysNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "cutoff"
	logPath := filepath.Join(workDir, name+".log")
	u, err := url.Parse(env.Config.Host)
	g.Expect(err).NotTo(HaveOccurred())
	px := newProxy(t, u.Host)
	g.Expect(k8s.Create(ctx, county(name, platformv1.DeletionPolicyDelete, 4))).To(Succeed())
	p := start(t, px.url(), logPath)
	defer func() { p.kill() }()
	converge(g, name, 2*time.Minute)
	before := uids(g, name)
	offset := logSize(g)

	update(g, name, func(rg *platformv1.Region) {
		rg.Spec.Platform.Modules = append(rg.Spec.Platform.Modules, "emergency")
		rg.Spec.Townships[1].DisplayName = "第二镇"
	})
	for range 12 {
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Millisecond)
		px.setDown(true)
		time.Sleep(time.Duration(200+rand.IntN(1500)) * time.Millisecond)
		px.setDown(false)
	}
	// A restart while it is cut off, too.
	px.setDown(true)
	p.kill()
	p = start(t, px.url(), logPath)
	time.Sleep(2 * time.Second)
	px.setDown(false)

	rg := converge(g, name, 2*time.Minute)
	after := uids(g, name)
	for k, uid := range before {
		g.Expect(after).To(HaveKeyWithValue(k, uid), "%s is still the same object", k)
	}
	g.Expect(after).To(HaveKey("Deployment " + name + "/emergency"))
	g.Expect(ddlLog(g, offset)).NotTo(ContainSubstring("DROP"))
	exactly(g, rg)
	noPanic(g, logPath)
}

// Two clusters provision on one PostgreSQL, each with a Region of the same name: the
// second cluster's Region is Stalled on a conflict naming the database, and nothing of
// the first changes: its logins keep their passwords and its Region stays Ready.
func TestSecondClusterDoesNotTakeTheFirstsDatabase(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "shared"
	p1 := start(t, "", filepath.Join(workDir, name+"-1.log"))
	defer func() { p1.kill() }()
	first := county(name, platformv1.DeletionPolicyDelete, 2)
	first.Spec.Platform = nil
	g.Expect(k8s.Create(ctx, first)).To(Succeed())
	converge(g, name, time.Minute)
	s1 := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: name + "-t1", Name: naming.SecretDatabase}, s1)).To(Succeed())

	env2, err := localenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env2.Stop() }()
	k8s2, err := client.New(env2.Config, client.Options{Scheme: controllers.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	kc2, err := env2.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(localenv.RegisterServer(ctx, k8s2, pg, server, controllers.DefaultSecretNamespace, pgAdmin, pgPassword, 2)).To(Succeed())
	p2 := startWith(t, kc2, "", filepath.Join(workDir, name+"-2.log"))
	defer p2.kill()
	second := county(name, platformv1.DeletionPolicyDelete, 2)
	second.Spec.Platform = nil
	g.Expect(k8s2.Create(ctx, second)).To(Succeed())
	g.Eventually(func(g Gomega) {
		rg := &platformv1.Region{}
		g.Expect(k8s2.Get(ctx, client.ObjectKey{Name: name}, rg)).To(Succeed())
		c := meta.FindStatusCondition(rg.Status.Conditions, controllers.ConditionStalled)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring("database database " + naming.Database(name) + " already exists and is not managed by this Region"))
	}, time.Minute, 250*time.Millisecond).Should(Succeed())

	// Deleting the second cluster's Region, confirmed, drops nothing of the first's.
	g.Expect(k8s2.Patch(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}}, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"`+naming.AnnotationConfirmDestruction+`":"`+name+`"}}}`)))).To(Succeed())
	g.Expect(k8s2.Delete(ctx, &platformv1.Region{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	g.Eventually(func() error {
		return k8s2.Get(ctx, client.ObjectKey{Name: name}, &platformv1.Region{})
	}, time.Minute, 250*time.Millisecond).Should(HaveOccurred())

	g.Consistently(func(g Gomega) {
		conn, err := pg.Connect(ctx, string(s1.Data["user"]), string(s1.Data["password"]), string(s1.Data["dbname"]))
		g.Expect(err).NotTo(HaveOccurred(), "the first cluster's login keeps its password")
		conn.Close(ctx)
	}, 3*time.Second, 500*time.Millisecond).Should(Succeed())
	rg := converge(g, name, 30*time.Second)
	exactly(g, rg)
}

// statements are the statements the server's log holds from offset on, in order.
func statements(g Gomega, offset int64) []string {
	out, err := pg.LoggedStatements(offset)
	g.Expect(err).NotTo(HaveOccurred())
	return out
}

// What the operator runs on the server for a new county is exactly the plan the
// desired-state package makes for it from an empty catalog, statement for statement,
// in order (the server's DDL log, with each password verifier read as the plan's
// placeholder).
func TestOperatorRunsExactlyThePlan(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	name := "planned"
	logPath := filepath.Join(workDir, name+".log")
	p := start(t, "", logPath)
	defer p.kill()
	// The operator looks at the other counties of this control plane first, finding
	// nothing to do; the new county's statements come after.
	time.Sleep(3 * time.Second)
	offset := logSize(g)
	rg := county(name, platformv1.DeletionPolicyRetain, 3)
	rg.Spec.Platform = nil
	g.Expect(k8s.Create(ctx, rg)).To(Succeed())
	converge(g, name, time.Minute)

	ns := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: metav1.NamespaceSystem}, ns)).To(Succeed())
	plan := desired.PlanDatabase(desired.Database(rg, string(ns.UID), func(string) bool { return true }), &desired.Catalog{})
	var want []string
	for _, st := range plan.Statements {
		if st.Kind != desired.KindDML && st.Kind != desired.KindSession {
			want = append(want, st.SQL)
		}
	}
	verifier := regexp.MustCompile(`'SCRAM-SHA-256\$[^']*'`)
	var got []string
	for _, s := range statements(g, offset) {
		got = append(got, verifier.ReplaceAllString(s, desired.PasswordPlaceholder))
	}
	for i := range min(len(got), len(want)) {
		g.Expect(got[i]).To(Equal(want[i]), "statement %d of %d run, %d planned", i, len(got), len(want))
	}
	g.Expect(got).To(HaveLen(len(want)), "the statements run after the plan's: %v", got[min(len(got), len(want)):])
}
