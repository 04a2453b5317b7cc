package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"

	"github.com/jiceng-io/region-operator/internal/localpg"
)

// sample keeps the largest heap the operator's metrics report, read once a second: each
// reading costs the operator the rendering of all its metrics, which is counted
// against it.
func sample(ctx context.Context, url string, peak *atomic.Int64) {
	for ctx.Err() == nil {
		if m, err := scrape(url); err == nil {
			if v := int64(m["go_memstats_heap_alloc_bytes"]); v > peak.Load() {
				peak.Store(v)
			}
		}
		time.Sleep(time.Second)
	}
}

// sessions counts the sessions the provisioning login opened on the server so far
// (each one a new backend process and a SCRAM exchange).
func sessions(ctx context.Context, pg *localpg.Server) int64 {
	conn, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	if err != nil {
		return -1
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(sum(sessions), 0)::bigint FROM pg_stat_database`).Scan(&n); err != nil {
		return -1
	}
	return n
}

func watchConnections(ctx context.Context, pg *localpg.Server, peak *atomic.Int64) {
	conn, err := pg.Connect(ctx, pg.SuperUser, pg.SuperPassword, "postgres")
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	// The server's list of sessions, read by role OID: the pg_stat_activity view joins
	// every role and database, which with a province's thousands of roles costs
	// PostgreSQL several times more on each look (1.5 against 0.3 ms with 3,400 roles).
	var role uint32
	if err := conn.QueryRow(ctx, `SELECT $1::regrole::oid`, benchAdmin).Scan(&role); err != nil {
		return
	}
	for ctx.Err() == nil {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_get_activity(NULL) WHERE usesysid = $1`, role).Scan(&n); err == nil && n > peak.Load() {
			peak.Store(n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// plain asks for metrics uncompressed: on one machine, compressing them only costs the
// process that serves them.
var plain = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// scrape reads a Prometheus text endpoint into name{labels} → value.
func scrape(url string) (map[string]float64, error) { return scrapeWith(plain, url) }

func scrapeWith(hc *http.Client, url string) (map[string]float64, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] += v
		}
	}
	return out, sc.Err()
}

func labelValue(series, label string) string {
	i := strings.Index(series, label+`="`)
	if i < 0 {
		return ""
	}
	rest := series[i+len(label)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

// peakRSS is a process's peak resident memory, in MiB.
func peakRSS(pid int) float64 { return procKiB(pid, "VmHWM:") / 1024 }

// currentRSS is a process's resident memory now, in bytes.
func currentRSS(pid int) float64 { return procKiB(pid, "VmRSS:") * 1024 }

// procKiB reads one kB field of a process's /proc status.
func procKiB(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb
		}
	}
	return 0
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func machine() map[string]string {
	m := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m["memory"] = strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "MemTotal:"))
	}
	return m
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// fetchAPIServer saves what the API server answers at path into file.
func fetchAPIServer(cfg *rest.Config, path, file string) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	fetchWith(hc, strings.TrimSuffix(cfg.Host, "/")+path, file)
}

// objectResources are the API resources of Regions and of the objects the operator
// makes: writes to them are the operator's writes, its lease and events aside.
var objectResources = map[string]bool{
	"regions": true, "databaseservers": true, "namespaces": true, "configmaps": true, "secrets": true, "resourcequotas": true,
	"limitranges": true, "services": true, "rolebindings": true, "networkpolicies": true, "deployments": true,
}

// objectWrites is what the API server counts of write requests (create, update, patch,
// apply, delete) to Regions and the operator's kinds, by "verb resource[/subresource]".
func objectWrites(cfg *rest.Config) (map[string]int64, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	m, err := scrapeWith(hc, strings.TrimSuffix(cfg.Host, "/")+"/metrics")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for series, v := range m {
		if !strings.HasPrefix(series, "apiserver_request_total{") {
			continue
		}
		verb, resource := labelValue(series, "verb"), labelValue(series, "resource")
		switch verb {
		case "POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		default:
			continue
		}
		if !objectResources[resource] {
			continue
		}
		if sub := labelValue(series, "subresource"); sub != "" {
			resource += "/" + sub
		}
		out[verb+" "+resource] += int64(v)
	}
	return out, nil
}

// requestsByVerb is the operator's client requests in its metrics m, by verb, those
// in since (nil for none) taken away.
func requestsByVerb(m, since map[string]float64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if strings.HasPrefix(k, "rest_client_requests_total{") {
			out[labelValue(k, "method")] += int64(v - since[k])
		}
	}
	return out
}

// writesSince is the object writes counted since before, those that happened only.
func writesSince(cfg *rest.Config, before map[string]int64) (map[string]int64, int64, error) {
	now, err := objectWrites(cfg)
	if err != nil {
		return nil, 0, err
	}
	out, total := map[string]int64{}, int64(0)
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
			total += d
		}
	}
	return out, total, nil
}

// fetch saves what url answers into file.
func fetch(url, file string) { fetchWith(http.DefaultClient, url, file) }

func fetchWith(hc *http.Client, url, file string) {
	resp, err := hc.Get(url)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	save := func() error {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(f, resp.Body)
		return err
	}
	if err := save(); err != nil {
		logf("profile: %v", err)
		return
	}
	logf("profile written to %s", file)
}

// waitReady waits until url answers 200.
func waitReady(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the operator was not ready at %s within %s", url, within)
}
