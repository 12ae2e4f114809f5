package influxtest

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestScripts runs scripts/influxd-start.sh and influxd-stop.sh as the
// Makefile and humans do: start prints where the server is, it answers with
// auth, a second start reports the running server, stop ends it and removes
// the directory it created. Flux is off (INFLUXD_NO_FLUX=1) to save 5-17 s;
// the Go harness covers a Flux-enabled config.
func TestScripts(t *testing.T) {
	build, err := buildScript()
	if err != nil {
		t.Fatalf("finding scripts/: %v", err)
	}
	dir := filepath.Dir(build)
	bin, err := findBinary(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// run runs a script with env added to ours (INFLUXD* variables removed).
	run := func(name string, args, env []string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command("bash", append([]string{filepath.Join(dir, name)}, args...)...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "INFLUXD") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, append(env, "INFLUXD="+bin)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, o.String(), e.String())
		}
		return o.String(), e.String()
	}

	out, _ := run("influxd-start.sh", nil, []string{"INFLUXD_AUTH=1", "INFLUXD_DB=scriptdb", "INFLUXD_NO_FLUX=1"})
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("start printed %q; want KEY=value lines", line)
		}
		vars[k] = v
	}
	runDir, pidStr := vars["INFLUXD_RUN_DIR"], vars["INFLUXD_PID"]
	pid, err := strconv.Atoi(pidStr)
	if err != nil || runDir == "" {
		t.Fatalf("start printed %q; want INFLUXD_PID and INFLUXD_RUN_DIR", out)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			run("influxd-stop.sh", []string{runDir}, nil)
		}
	})
	if !strings.HasPrefix(vars["INFLUX_URL"], "http://127.0.0.1:") || vars["INFLUX_BUCKET"] != "scriptdb/autogen" || vars["INFLUX_TOKEN"] != "admin:secret" {
		t.Errorf("start printed %q; want a loopback URL, bucket scriptdb/autogen, token admin:secret", out)
	}
	if env, err := os.ReadFile(filepath.Join(runDir, "env")); err != nil || string(env) != out {
		t.Errorf("%s/env = %q, %v; want the printed lines", runDir, env, err)
	}

	s := &Server{URL: vars["INFLUX_URL"], DB: "scriptdb", Bucket: vars["INFLUX_BUCKET"], p: &proc{client: http.DefaultClient}}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"admin:secret", 204}} {
		s.Token = tc.token
		status, msg, err := s.TryWrite(s.Bucket, []byte("courier_session,host=h,service=imap,user=u rcvd=1i,sent=2i 1722227807000000000"))
		if err != nil || status != tc.want {
			t.Errorf("write with token %q: HTTP %d %q %v; want %d", tc.token, status, msg, err, tc.want)
		}
	}

	again, errOut := run("influxd-start.sh", nil, []string{"INFLUXD_RUN_DIR=" + runDir})
	if again != out || !strings.Contains(errOut, "already running") {
		t.Errorf("second start printed %q (stderr %q); want the same lines and 'already running'", again, errOut)
	}

	run("influxd-stop.sh", []string{runDir}, nil)
	stopped = true
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("pid %d still runs after influxd-stop.sh", pid)
	}
	if _, err := os.Stat(runDir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after stop (err %v); want it removed", runDir, err)
	}
	// Stopping again is not an error.
	run("influxd-stop.sh", []string{runDir}, nil)
}
