package conftest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fluxNPMPackage is the npm package shipping the Flux parser (libflux) as WebAssembly. 0.5.1 is
// its newest release; it parses the current task syntax (timezone, date.add, wideTo calls).
const fluxNPMPackage = "@influxdata/flux@0.5.1"

// fluxNPMDir returns the npm prefix holding node_modules/@influxdata/flux, installing the
// package there first if needed. It lives outside the repository so node_modules is never
// committed.
func fluxNPMDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("COURIER_FLUX_NPM_DIR")
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				t.Fatalf("no cache directory for the Flux parser: set COURIER_FLUX_NPM_DIR (%v)", err)
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "courier-traffic", "flux-npm")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@influxdata", "flux", "flux_bg.wasm")); err == nil {
		return dir
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm is needed once to install the Flux parser (%s): apt-get install -y nodejs npm", fluxNPMPackage)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("creating %s: %v", dir, err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", dir, fluxNPMPackage)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm install --prefix %s %s: %v\n%s", dir, fluxNPMPackage, err, out)
	}
	return dir
}

// parseResult is one line of fluxparse.mjs's output.
type parseResult struct {
	File       string   `json:"file"`
	Errors     []string `json:"errors"`
	Statements int      `json:"statements"`
}

// parseFlux runs the real Flux parser over named sources and returns the syntax errors and
// statement count per name.
func parseFlux(t testing.TB, sources map[string]string) map[string]parseResult {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed to run the Flux parser (WebAssembly): apt-get install -y nodejs npm")
	}
	npmDir := fluxNPMDir(t)
	tmp := t.TempDir()
	args := []string{filepath.Join(repoRoot(t), "conf", "conftest", "fluxparse.mjs"), npmDir}
	byFile := make(map[string]string)
	i := 0
	for name, src := range sources {
		i++
		p := filepath.Join(tmp, fmt.Sprintf("%03d.flux", i))
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		byFile[p] = name
		args = append(args, p)
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		// Exit status 1 means "syntax errors found", reported per file below; anything
		// else means the parser did not run.
		t.Fatalf("node fluxparse.mjs: %v\n%s", err, stderr.String())
	}
	got := make(map[string]parseResult)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r parseResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("fluxparse.mjs output %q: %v", sc.Text(), err)
		}
		got[byFile[r.File]] = r
	}
	if len(got) != len(sources) {
		t.Fatalf("fluxparse.mjs answered for %d of %d sources\n%s", len(got), len(sources), stderr.String())
	}
	return got
}

// TestFluxParserCatchesErrors proves the parse check can fail: broken sources give errors.
func TestFluxParserCatchesErrors(t *testing.T) {
	got := parseFlux(t, map[string]string{
		"missing paren":   "x = from(bucket: \"a\")\n  |> range(start: -1h\n",
		"garbage":         "x = 1\n@@@ y\n",
		"unterminated":    "s = \"abc\n",
		"valid, 2 stmts":  "import \"date\"\nx = date.truncate(t: now(), unit: 1d)\ny = x\n",
		"valid task line": "option task = {name: \"n\", every: 1h0m0s, offset: 5m0s}\n",
	})
	for name, r := range got {
		t.Run(name, func(t *testing.T) {
			wantOK := strings.HasPrefix(name, "valid")
			if wantOK && len(r.Errors) > 0 {
				t.Errorf("errors %q, want none", r.Errors)
			}
			if !wantOK && len(r.Errors) == 0 {
				t.Errorf("no errors for a broken source")
			}
		})
	}
}
