package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// Environment of the tests; `make e2e` sets them.
const (
	envFluentBit = "COURIER_E2E_FLUENT_BIT" // the Fluent Bit binary; unset: every test skips
	envPlugin    = "COURIER_E2E_PLUGIN"     // the plugin .so; default build/out_courier_influxdb.so
	envKeep      = "COURIER_E2E_KEEP"       // "1": keep every scenario's directory (failed ones are always kept)
)

// Bounds of the waits. Generous: the machine may be shared and loaded.
const (
	startTimeout = 60 * time.Second  // Fluent Bit answers its monitoring API
	doneTimeout  = 240 * time.Second // every record processed
	stopTimeout  = 60 * time.Second  // exit after SIGINT (Grace is 10 s)
	pollEvery    = 200 * time.Millisecond
)

// setup returns the Fluent Bit binary and the plugin, or skips the test
// when COURIER_E2E_FLUENT_BIT is not set.
func setup(t *testing.T) (bin, plugin string) {
	t.Helper()
	bin = os.Getenv(envFluentBit)
	if bin == "" {
		t.Skipf("%s is not set: no Fluent Bit to run against (make e2e FLUENT_BIT=/path/to/fluent-bit)", envFluentBit)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s: not an executable file (%v)", envFluentBit, bin, err)
	}
	plugin = os.Getenv(envPlugin)
	if plugin == "" {
		plugin = filepath.Join(moduleRoot(t), "build", "out_courier_influxdb.so")
	}
	if _, err := os.Stat(plugin); err != nil {
		t.Fatalf("plugin %s: %v (make plugin builds it; %s names another)", plugin, err, envPlugin)
	}
	abs, err := filepath.Abs(plugin)
	if err != nil {
		t.Fatal(err)
	}
	return bin, abs
}

// workDir is the scenario's directory: configuration, Fluent Bit's log,
// storage and offset DB, the generated log. It is removed after a passing
// test, kept (and named in the output) after a failing one or with
// COURIER_E2E_KEEP=1.
func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "courier-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(envKeep) == "1" {
			t.Logf("kept %s (fluent-bit.conf, fluent-bit.log, storage, the generated log)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := fbhost.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fluentBit is one running Fluent Bit process.
type fluentBit struct {
	t       *testing.T
	cmd     *exec.Cmd
	logPath string
	port    int
	done    chan struct{}
	err     error // Wait's result, valid after done
	client  *http.Client
}

// startFluentBit runs `bin -e plugin -c conf` in r.dir, with the
// configuration r holds, and waits until its monitoring API answers.
func startFluentBit(t *testing.T, bin, plugin string, r *run, env ...string) *fluentBit {
	t.Helper()
	return startFluentBitArgs(t, bin, r.dir, r.httpPort, []string{"-e", plugin, "-c", r.write(t)}, env...)
}

// startFluentBitArgs runs bin with args in dir and the plugin's
// environment (env, KEY=VALUE), appending its output to dir/fluent-bit.log,
// and waits until its monitoring API answers on port. A cleanup kills it
// if the test did not stop it.
func startFluentBitArgs(t *testing.T, bin, dir string, port int, args []string, env ...string) *fluentBit {
	t.Helper()
	logPath := filepath.Join(dir, "fluent-bit.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lf, "==== %s: %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(cleanEnv(), env...)
	if err := influxtest.StartProcess(cmd); err != nil { // killed with the test binary
		lf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	lf.Close()
	fb := &fluentBit{t: t, cmd: cmd, logPath: logPath, port: port, done: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second}}
	go func() { fb.err = cmd.Wait(); close(fb.done) }()
	t.Cleanup(func() {
		if !fb.exited() {
			_ = cmd.Process.Kill()
			<-fb.done
		}
		if t.Failed() {
			t.Logf("Fluent Bit log %s (last lines):\n%s", logPath, fb.logTail(60))
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		if fb.exited() {
			t.Fatalf("Fluent Bit exited at start (%v); log:\n%s", fb.err, fb.logTail(60))
		}
		if _, err := fb.metrics(); err == nil {
			return fb
		}
		if time.Now().After(deadline) {
			t.Fatalf("Fluent Bit's monitoring API on 127.0.0.1:%d did not answer within %s; log:\n%s", fb.port, startTimeout, fb.logTail(60))
		}
		time.Sleep(pollEvery)
	}
}

// cleanEnv is the test's environment without the variables the shipped
// configuration reads, so only what the scenario sets reaches Fluent Bit.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "INFLUX_") || k == "COURIER_TIME_ZONE" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (fb *fluentBit) exited() bool {
	select {
	case <-fb.done:
		return true
	default:
		return false
	}
}

// logTail returns the last n lines of the Fluent Bit log.
func (fb *fluentBit) logTail(n int) string {
	b, err := os.ReadFile(fb.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop sends SIGINT and waits for a clean exit (status 0).
func (fb *fluentBit) stop() {
	fb.t.Helper()
	if fb.exited() {
		fb.t.Fatalf("Fluent Bit exited before it was stopped (%v); log:\n%s", fb.err, fb.logTail(60))
	}
	if err := fb.cmd.Process.Signal(syscall.SIGINT); err != nil {
		fb.t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-fb.done:
	case <-time.After(stopTimeout):
		_ = fb.cmd.Process.Kill()
		<-fb.done
		fb.t.Fatalf("Fluent Bit did not exit within %s of SIGINT; log:\n%s", stopTimeout, fb.logTail(60))
	}
	if fb.err != nil {
		fb.t.Fatalf("Fluent Bit exited with %v after SIGINT; log:\n%s", fb.err, fb.logTail(60))
	}
	if st := fb.finalStats(); st != "" {
		fb.t.Logf("plugin's final stats: %s", st)
	}
}

// finalStats returns the counters of the plugin's last "stats (final)"
// log line, or "".
func (fb *fluentBit) finalStats() string {
	b, err := os.ReadFile(fb.logPath)
	if err != nil {
		return ""
	}
	const mark = "stats (final): "
	s := string(b)
	i := strings.LastIndex(s, mark)
	if i < 0 {
		return ""
	}
	s = s[i+len(mark):]
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return s
}

// kill sends SIGKILL (a crash) and waits for the exit.
func (fb *fluentBit) kill() {
	fb.t.Helper()
	_ = fb.cmd.Process.Kill()
	select {
	case <-fb.done:
	case <-time.After(stopTimeout):
		fb.t.Fatalf("Fluent Bit did not exit within %s of SIGKILL", stopTimeout)
	}
}

// counters are the numbers of /api/v1/metrics, summed over the inputs
// (records) and the outputs (the rest) whose name starts with a prefix.
type counters struct {
	InRecords      int64 // records of the inputs asked for
	AllInRecords   int64 // records of every input (storage_backlog's replays included)
	ProcRecords    int64 // output proc_records: records of chunks the output answered FLB_OK
	Errors         int64 // output errors: chunks answered FLB_ERROR
	Dropped        int64 // output dropped_records
	Retries        int64 // output retries
	RetriesFailed  int64 // output retries_failed
	RetriedRecords int64 // output retried_records
}

func (c counters) String() string {
	return fmt.Sprintf("input records %d (all inputs %d), output proc_records %d, errors %d, dropped_records %d, retries %d, retries_failed %d, retried_records %d",
		c.InRecords, c.AllInRecords, c.ProcRecords, c.Errors, c.Dropped, c.Retries, c.RetriesFailed, c.RetriedRecords)
}

type metricsDoc struct {
	Input  map[string]map[string]json.Number `json:"input"`
	Output map[string]map[string]json.Number `json:"output"`
}

func (fb *fluentBit) getJSON(path string, v any) error {
	resp, err := fb.client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", fb.port, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w in %s", path, err, body)
	}
	return nil
}

// metrics reads /api/v1/metrics: the records of the inputs whose instance
// name starts with inputPrefix ("" for all) and the counters of every
// output.
func (fb *fluentBit) metricsOf(inputPrefix string) (counters, error) {
	var doc metricsDoc
	if err := fb.getJSON("/api/v1/metrics", &doc); err != nil {
		return counters{}, err
	}
	num := func(m map[string]json.Number, k string) int64 {
		n, _ := m[k].Int64()
		return n
	}
	var c counters
	for name, m := range doc.Input {
		c.AllInRecords += num(m, "records")
		if strings.HasPrefix(name, inputPrefix) {
			c.InRecords += num(m, "records")
		}
	}
	if len(doc.Output) == 0 {
		return c, errors.New("no output in /api/v1/metrics")
	}
	for _, m := range doc.Output {
		c.ProcRecords += num(m, "proc_records")
		c.Errors += num(m, "errors")
		c.Dropped += num(m, "dropped_records")
		c.Retries += num(m, "retries")
		c.RetriesFailed += num(m, "retries_failed")
		c.RetriedRecords += num(m, "retried_records")
	}
	return c, nil
}

func (fb *fluentBit) metrics() (counters, error) { return fb.metricsOf("") }

// chunks reads /api/v1/storage: the chunks Fluent Bit still holds (in
// memory or on disk), that is, records not yet delivered.
func (fb *fluentBit) chunks() (int64, error) {
	var doc struct {
		StorageLayer struct {
			Chunks map[string]json.Number `json:"chunks"`
		} `json:"storage_layer"`
	}
	if err := fb.getJSON("/api/v1/storage", &doc); err != nil {
		return 0, err
	}
	n, ok := doc.StorageLayer.Chunks["total_chunks"]
	if !ok {
		return 0, errors.New("/api/v1/storage has no storage_layer.chunks.total_chunks (storage.metrics off?)")
	}
	return n.Int64()
}

// waitUntil polls cond every pollEvery until it returns true, for at most
// timeout; cond's status text goes into the failure. Fluent Bit exiting
// is a failure.
func (fb *fluentBit) waitUntil(what string, timeout time.Duration, cond func() (bool, string)) {
	fb.t.Helper()
	deadline := time.Now().Add(timeout)
	status := "no status yet"
	for {
		if fb.exited() {
			fb.t.Fatalf("waiting for %s: Fluent Bit exited (%v); last status: %s; log:\n%s", what, fb.err, status, fb.logTail(60))
		}
		var ok bool
		ok, status = cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			fb.t.Fatalf("waiting for %s: not reached within %s; last status: %s; log:\n%s", what, timeout, status, fb.logTail(60))
		}
		time.Sleep(pollEvery)
	}
}

// waitProcessed waits until the inputs named inputPrefix... have produced
// want records and the outputs have answered FLB_OK for the records of
// every input (or dropped some, which fails the test afterwards), and no
// chunk is left in Fluent Bit's storage (a figure Fluent Bit refreshes
// every 5 s, hence not the only condition). It returns the final counters.
func (fb *fluentBit) waitProcessed(inputPrefix string, want int64) counters {
	fb.t.Helper()
	var last counters
	fb.waitUntil(fmt.Sprintf("%d records through the output", want), doneTimeout, func() (bool, string) {
		c, err := fb.metricsOf(inputPrefix)
		if err != nil {
			return false, err.Error()
		}
		last = c
		n, err := fb.chunks()
		if err != nil {
			return false, err.Error()
		}
		return c.InRecords >= want && c.ProcRecords+c.Dropped >= c.AllInRecords && n == 0,
			fmt.Sprintf("%s; chunks held %d", c, n)
	})
	if last.Errors != 0 || last.Dropped != 0 || last.RetriesFailed != 0 {
		fb.t.Errorf("Fluent Bit dropped records: %s", last)
	}
	return last
}
