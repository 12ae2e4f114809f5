package influxtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version is the InfluxDB release the harness runs; it names the cache
// directory of scripts/influxd-build.sh.
const Version = "v1.8.10"

// buildTimeout bounds the one-time build (measured: 2-3 minutes on 2 cores,
// more when the other core is busy).
const buildTimeout = 15 * time.Minute

// binary memoizes the lookup: the build script must run at most once per test
// binary even when parallel tests start servers at the same time.
var binary struct {
	mu   sync.Mutex
	path string
}

// findBinary returns the path of an executable influxd, building it with
// scripts/influxd-build.sh when neither $INFLUXD nor the cache has one.
// logf reports the (slow) build so that a waiting test explains itself.
func findBinary(logf func(format string, args ...any)) (string, error) {
	binary.mu.Lock()
	defer binary.mu.Unlock()
	if binary.path != "" {
		return binary.path, nil
	}
	// An explicit $INFLUXD is a decision of the caller: if it is wrong, say so
	// instead of silently falling back to another binary.
	if p, ok := os.LookupEnv("INFLUXD"); ok {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("influxtest: $INFLUXD=%q: %w", p, err)
		}
		binary.path = p
		return p, nil
	}
	cached, err := cachePath()
	if err == nil && checkExecutable(cached) == nil {
		binary.path = cached
		return cached, nil
	}
	script, serr := buildScript()
	if serr != nil {
		return "", fmt.Errorf("influxtest: no influxd: $INFLUXD is unset, %s is missing, and the build script was not found: %w", cached, serr)
	}
	logf("influxtest: building influxd %s with %s (once; about 2-3 minutes)", Version, script)
	p, berr := runBuild(script)
	if berr != nil {
		return "", fmt.Errorf("influxtest: no influxd: $INFLUXD is unset, %s is missing, and %w", cached, berr)
	}
	binary.path = p
	return p, nil
}

// cachePath mirrors the BIN_DIR logic of scripts/influxd-build.sh.
func cachePath() (string, error) {
	dir := os.Getenv("INFLUXD_BIN_DIR")
	if dir == "" {
		// os.UserCacheDir is ${XDG_CACHE_HOME:-$HOME/.cache} on Linux, as in
		// the script.
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("influxtest: cache directory: %w", err)
		}
		dir = filepath.Join(c, "courier-traffic", "influxd-"+Version)
	}
	return filepath.Join(dir, "influxd"), nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// buildScript finds scripts/influxd-build.sh next to the go.mod that encloses
// the working directory (go test runs in the package directory).
func buildScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "scripts", "influxd-build.sh")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("module root %s: %w", dir, err)
			}
			return s, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// runBuild runs the build script; its last stdout line is the binary's path.
func runBuild(script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed: %w\n%s", script, err, tail(stderr.String(), 40))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	p := strings.TrimSpace(lines[len(lines)-1])
	if err := checkExecutable(p); err != nil {
		return "", fmt.Errorf("%s printed %q: %w", script, p, err)
	}
	return p, nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
