package fbhost

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBuildCache: one build per key however many goroutines ask, the error
// cached like the paths, and Main removing the directory and the cache.
// The builds are stand-ins (no go build, no cc): the real ones run in the
// plugin and stress tests.
func TestBuildCache(t *testing.T) {
	var calls atomic.Int32
	build := func(dir string) ([]string, error) {
		calls.Add(1)
		p := filepath.Join(dir, "artifact")
		return []string{p}, os.WriteFile(p, []byte("x"), 0o600)
	}
	var wg sync.WaitGroup
	paths := make([][]string, 8)
	for i := range paths {
		wg.Go(func() {
			var err error
			if paths[i], err = cached("test\x00ok", build); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d builds for one key, want 1", n)
	}
	for _, p := range paths {
		if len(p) != 1 || p[0] != paths[0][0] {
			t.Fatalf("paths differ between callers: %q", paths)
		}
	}
	if _, err := os.Stat(paths[0][0]); err != nil {
		t.Fatal(err)
	}

	boom := errors.New("boom")
	for range 2 {
		if _, err := cached("test\x00fail", func(string) ([]string, error) { calls.Add(1); return nil, boom }); !errors.Is(err, boom) {
			t.Errorf("failed build: %v, want %v", err, boom)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d builds after a failed one asked twice, want 2 (the error is cached)", n)
	}

	if code := Main(func() int { return 7 }); code != 7 {
		t.Errorf("Main returned %d, want run's 7", code)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(paths[0][0]))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cache directory after Main: %v, want it removed", err)
	}
	if _, err := cached("test\x00ok", build); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d builds, want 3: Main (Cleanup) forgets the cache", n)
	}
	if err := Cleanup(); err != nil {
		t.Error(err)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "plugin", "testhost", "host.c")); err != nil {
		t.Errorf("ModuleRoot %s: %v", root, err)
	}
}
