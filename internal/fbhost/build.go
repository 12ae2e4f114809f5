package fbhost

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
)

// cache holds the per-process builds; see the package documentation.
var cache struct {
	mu    sync.Mutex
	dir   string // "" until the first build
	items map[string]*buildItem
}

type buildItem struct {
	once  sync.Once
	paths []string
	err   error
}

// cached runs build once per key and returns its paths (or its error) on
// every call. build gets a fresh directory inside the cache directory.
func cached(key string, build func(dir string) ([]string, error)) ([]string, error) {
	cache.mu.Lock()
	if cache.items == nil {
		cache.items = map[string]*buildItem{}
	}
	it := cache.items[key]
	if it == nil {
		it = &buildItem{}
		cache.items[key] = it
	}
	cache.mu.Unlock()
	it.once.Do(func() {
		dir, err := buildDir()
		if err != nil {
			it.err = err
			return
		}
		it.paths, it.err = build(dir)
	})
	return it.paths, it.err
}

// buildDir returns a new directory under the process's cache directory,
// creating the latter on first use.
func buildDir() (string, error) {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	if cache.dir == "" {
		d, err := os.MkdirTemp("", "fbhost-")
		if err != nil {
			return "", fmt.Errorf("fbhost: build cache: %w", err)
		}
		cache.dir = d
	}
	d, err := os.MkdirTemp(cache.dir, "build-")
	if err != nil {
		return "", fmt.Errorf("fbhost: build cache: %w", err)
	}
	return d, nil
}

// Cleanup removes the build cache directory and forgets every cached
// build (a later Build builds again). Call it once no host started from
// the cache runs any more, typically in TestMain after m.Run.
func Cleanup() error {
	cache.mu.Lock()
	defer cache.mu.Unlock()
	dir := cache.dir
	cache.dir, cache.items = "", nil
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("fbhost: removing the build cache: %w", err)
	}
	return nil
}

// Main runs a test binary's tests (run is m.Run, or a wrapper of it such
// as influxtest.Main), then Cleanup, and returns run's exit code for
// os.Exit. A failed Cleanup is reported on stderr but does not change the
// code: the tests' verdict stands, and a temporary directory left behind
// does no harm.
func Main(run func() int) int {
	code := run()
	if err := Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// Build compiles the plugin (go build -buildmode=c-shared ./plugin) and the
// C host (cc plugin/testhost/host.c) of the module at root, once per
// process and root, and returns their paths. The host is built with -O2,
// as in production-like runs: its chunk packing is part of what the load
// scenarios measure.
func Build(root string) (so, host string, err error) {
	root, err = filepath.Abs(root)
	if err != nil {
		return "", "", fmt.Errorf("fbhost: module root: %w", err)
	}
	paths, err := cached("plugin\x00"+root, func(dir string) ([]string, error) {
		goBin, err := goTool()
		if err != nil {
			return nil, err
		}
		so := filepath.Join(dir, "out_courier_influxdb.so")
		if err := run(root, "go build -buildmode=c-shared ./plugin", goBin, "build", "-buildmode=c-shared", "-o", so, "./plugin"); err != nil {
			return nil, err
		}
		host := filepath.Join(dir, "testhost")
		if err := run(root, "cc plugin/testhost/host.c (needs Debian's libmsgpack-dev)", "cc", "-O2", "-Wall", "-Werror",
			"-o", host, filepath.Join("plugin", "testhost", "host.c"), "-ldl", "-lpthread", "-lmsgpackc"); err != nil {
			return nil, err
		}
		return []string{so, host}, nil
	})
	if err != nil {
		return "", "", err
	}
	return paths[0], paths[1], nil
}

// BuildBinary compiles the command pkg (a package path relative to root,
// such as "./cmd/courier-traffic") with go build, once per process, root
// and pkg, and returns the executable's path (named after pkg's last
// element).
func BuildBinary(root, pkg string) (string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("fbhost: module root: %w", err)
	}
	paths, err := cached("bin\x00"+root+"\x00"+pkg, func(dir string) ([]string, error) {
		goBin, err := goTool()
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, path.Base(pkg))
		if err := run(root, "go build "+pkg, goBin, "build", "-o", bin, pkg); err != nil {
			return nil, err
		}
		return []string{bin}, nil
	})
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

// goTool finds the go command. `go test` puts its own GOROOT/bin first on
// the test binary's PATH, so this is the toolchain running the tests.
func goTool() (string, error) {
	p, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("fbhost: the go command is not on PATH: %w", err)
	}
	return p, nil
}

// run runs name with args in dir (cgo on: the .so needs it) and returns
// its output with the error.
func run(dir, what, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("fbhost: %s: %w\n%s", what, err, out)
	}
	return nil
}

// ModuleRoot walks up from the working directory (go test runs a test
// binary in its package's directory) to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("fbhost: module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("fbhost: no go.mod above the working directory")
		}
		dir = parent
	}
}
