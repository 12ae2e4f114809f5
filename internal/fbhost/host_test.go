package fbhost

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The driver is tested against a fake host: this test binary itself,
// started with FBHOST_FAKE_HOST=1, speaks host.c's protocol without a
// plugin (no cgo, no build, no server). The real host and plugin are
// driven by the plugin and stress tests.

func TestMain(m *testing.M) {
	if os.Getenv("FBHOST_FAKE_HOST") == "1" {
		os.Exit(fakeHost())
	}
	os.Exit(m.Run())
}

// fakeHost answers like host.c: register at start, then per line the
// results and "end". Its extra commands misbehave on purpose: die (exit
// 3 without answering), hang (never answers), noise (an unexpected line),
// garble (an unreadable result line).
func fakeHost() int {
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	fmt.Fprintf(os.Stderr, "[info] loaded %s\n", os.Args[len(os.Args)-1])
	if os.Getenv("FAKE_REGISTER") == "fail" {
		say("result op=register inst=- rc=-1 name=failure type=0 proxy=0 plugin=(null)")
	} else {
		say("result op=register inst=- rc=0 name=ok type=2 proxy=2 plugin=fake")
	}
	say("end")
	props := map[string][]string{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		w := strings.SplitN(sc.Text(), " ", 4)
		switch {
		case w[0] == "quit":
			say("result op=quit inst=- rc=1 name=FLB_OK")
			return 0
		case w[0] == "set" && len(w) == 4:
			props[w[1]] = append(props[w[1]], w[2], w[3])
		case w[0] == "init" && len(w) == 2:
			// an instance with a key "fail" does not start
			rc, name := 1, "FLB_OK"
			for i := 0; i < len(props[w[1]]); i += 2 {
				if props[w[1]][i] == "fail" {
					rc, name = 0, "FLB_ERROR"
				}
			}
			fmt.Fprintf(os.Stderr, "[info] %s started with %d properties\n", w[1], len(props[w[1]])/2)
			say("result op=init inst=%s rc=%d name=%s", w[1], rc, name)
		case w[0] == "exit" && len(w) == 2:
			fmt.Fprintf(os.Stderr, "[info] %s: stats (final)\n", w[1])
			say("result op=exitctx inst=%s rc=1 name=FLB_OK", w[1])
		case w[0] == "flush" && len(w) == 4:
			// a record file holding "retry" answers FLB_RETRY
			b, err := os.ReadFile(w[2])
			if err != nil {
				say("error %s: %v", w[2], err)
				break
			}
			rc, name := 1, "FLB_OK"
			if strings.Contains(string(b), "retry") {
				rc, name = 2, "FLB_RETRY"
			}
			say("result op=flush inst=%s rc=%d name=%s", w[1], rc, name)
		case w[0] == "parflush" && len(w) == 4:
			for i := range strings.Fields(w[3]) {
				say("result op=parflush inst=%s thread=%d rc=1 name=FLB_OK", w[1], i)
			}
		case w[0] == "die":
			return 3
		case w[0] == "hang":
			time.Sleep(time.Hour) // not select{}: the runtime would call that a deadlock and exit
		case w[0] == "noise":
			say("hello")
		case w[0] == "garble":
			say("result op=flush inst=a rc=one name=FLB_OK")
		default:
			say("error bad command or arguments: %s", w[0])
		}
		say("end")
	}
	return 0
}

// startFake starts the fake host in a new directory.
func startFake(t *testing.T, timeout time.Duration, env ...string) (*Host, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Start(Options{Plugin: "fake.so", Binary: self, Dir: t.TempDir(), Timeout: timeout,
		Env: append([]string{"FBHOST_FAKE_HOST=1"}, env...)})
}

func TestHostSession(t *testing.T) {
	h, err := startFake(t, 0)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-t0ken"
	if err := h.Init("a", "influx_token", secret, "batch_size", "100"); err != nil {
		t.Fatal(err)
	}
	if err := h.Init("b", "fail", "yes"); err == nil || !strings.Contains(err.Error(), "init b: FLB_ERROR") {
		t.Errorf("Init with a failing configuration: %v, want init b: FLB_ERROR", err)
	}
	ok, err := h.Records([]Record{{TS: "i:1", KV: []string{"log", "s:fine"}}})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := h.Records([]Record{{TS: "i:2", KV: []string{"log", "s:retry"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ok == retry {
		t.Fatalf("two record files share the path %s", ok)
	}
	for _, c := range []struct{ file, want string }{{ok, OK}, {retry, Retry}} {
		r, d, err := h.One("flush a " + c.file + " v2")
		if err != nil {
			t.Fatal(err)
		}
		if want := (Result{Op: "flush", Inst: "a", RC: map[string]int{OK: 1, Retry: 2}[c.want], Name: c.want}); r != want || d <= 0 {
			t.Errorf("flush %s: %+v after %v, want %+v after a positive duration", c.file, r, d, want)
		}
	}
	res, err := h.Do("parflush a v2 " + ok + " " + ok + " " + retry)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Op: "parflush", Inst: "a", Thread: 0, RC: 1, Name: OK},
		{Op: "parflush", Inst: "a", Thread: 1, RC: 1, Name: OK},
		{Op: "parflush", Inst: "a", Thread: 2, RC: 1, Name: OK},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("parflush (-want +got):\n%s", diff)
	}

	// Script errors and odd lines are errors, but the host stays in step.
	for _, c := range []struct{ cmd, err string }{
		{"flush a /nonexistent v2", "/nonexistent"},
		{"bogus", "bad command"},
		{"noise", "hello"},
		{"garble", "field rc"},
		{"set a influx_token " + secret + "\nexit a", "one line"},
		{"quit", "use Close"},
	} {
		_, err := h.Do(c.cmd)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Do(%q): %v, want an error containing %q", c.cmd, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("Do(%q): the error shows the set value: %v", c.cmd, err)
		}
	}
	if _, _, err := h.One("set a k v"); err == nil || !strings.Contains(err.Error(), "0 results, want 1") || strings.Contains(err.Error(), `"v"`) {
		t.Errorf("One of a command without results: %v", err)
	}
	m, err := h.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM < m.RSS || m.RSS <= 0 {
		t.Errorf("memory %+v: want 0 < RSS <= HWM", m)
	}
	if err := h.Exit("a"); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if st := h.ProcessState(); st == nil || st.ExitCode() != 0 {
		t.Errorf("process state after Close: %v", st)
	}
	if _, err := h.Do("exit a"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Do after Close: %v, want host closed", err)
	}
	log := h.Log()
	for _, want := range []string{"loaded fake.so", "a started with 2 properties", "a: stats (final)"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestHostBroken: a host that dies or hangs breaks the Host for good; Close
// still ends the process.
func TestHostBroken(t *testing.T) {
	cases := []struct {
		cmd, err string
		closeErr string // "" for none
	}{
		{"die", "host died during \"die\"", "exit status 3"},
		{"hang", "no answer to \"hang\"", ""},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			h, err := startFake(t, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Do(c.cmd)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("Do(%q): %v, want an error containing %q", c.cmd, err, c.err)
			}
			if _, err2 := h.Do("init a"); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Do after the break: %v, want the same error %v", err2, err)
			}
			err = h.Close()
			if c.closeErr == "" && err != nil || c.closeErr != "" && (err == nil || !strings.Contains(err.Error(), c.closeErr)) {
				t.Errorf("Close: %v, want %q", err, c.closeErr)
			}
			if h.ProcessState() == nil {
				t.Error("Close returned before the process was reaped")
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	_, err := startFake(t, 0, "FAKE_REGISTER=fail")
	if err == nil || !strings.Contains(err.Error(), "register: got") || !strings.Contains(err.Error(), "loaded fake.so") {
		t.Errorf("failed register: %v, want the result and the plugin log", err)
	}
	if _, err := Start(Options{Plugin: "x.so", Binary: "/nonexistent/host", Dir: t.TempDir()}); err == nil {
		t.Error("Start of a missing binary succeeded")
	}
	if _, err := Start(Options{Binary: "/bin/true", Dir: t.TempDir()}); err == nil {
		t.Error("Start without a plugin succeeded")
	}
}

func TestConfigureErrors(t *testing.T) {
	h, err := startFake(t, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, c := range []struct {
		inst  string
		props []string
		err   string
	}{
		{"a", []string{"key"}, "want pairs"},
		{"a b", []string{"k", "v"}, "not one word"},
		{"a", []string{"two words", "v"}, "not one word"},
	} {
		if err := h.Configure(c.inst, c.props...); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Configure(%q, %q): %v, want an error containing %q", c.inst, c.props, err, c.err)
		}
	}
	if err := h.Configure("a", "key", "a value with spaces"); err != nil {
		t.Errorf("Configure with a spaced value: %v", err)
	}
	if _, err := h.Records([]Record{{TS: "i:1"}, {TS: "bad"}}); err == nil || !strings.Contains(err.Error(), "record 1") {
		t.Errorf("Records with a bad record: %v, want an error naming record 1", err)
	}
}

func TestParseStatus(t *testing.T) {
	cases := []struct {
		name, status string
		want         Memory
		err          string
	}{
		{name: "linux", status: "Name:\thost\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t3\n",
			want: Memory{HWM: 2 << 20, RSS: 1 << 20}},
		{name: "missing RSS", status: "VmHWM:\t2048 kB\n", err: "no VmHWM/VmRSS"},
		{name: "not a number", status: "VmHWM:\tlots kB\nVmRSS:\t1 kB\n", err: "VmHWM"},
		{name: "negative", status: "VmHWM:\t-1 kB\nVmRSS:\t1 kB\n", err: "out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStatus("status", c.status)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("parseStatus: %+v, %v; want an error containing %q", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("parseStatus: %+v, want %+v", got, c.want)
			}
		})
	}
}
