package pkgtest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/internal/fbhost"
)

func TestMain(m *testing.M) { os.Exit(fbhost.Main(m.Run)) }

const (
	soPath  = "/usr/lib/courier-traffic/out_courier_influxdb.so"
	cliPath = "/usr/bin/courier-traffic"
	etcDir  = "/etc/fluent-bit/courier-traffic/"
)

// conffiles are the package's conffiles: the example configuration, in a
// directory of its own so that Fluent Bit's own files are never touched.
var conffiles = []string{etcDir + "fluent-bit.conf", etcDir + "fluent-bit.yaml", etcDir + "parsers.conf", etcDir + "plugins.conf"}

// common are files both package formats carry besides the conffiles.
var common = []string{
	soPath, cliPath,
	"/usr/share/man/man1/courier-traffic.1.gz",
	"/usr/share/bash-completion/completions/courier-traffic",
	"/usr/share/doc/courier-traffic/copyright",
	"/usr/share/courier-traffic/flux/courier_daily_ranking.flux",
	"/usr/share/courier-traffic/influxdb/courier-traffic.yml",
	"/usr/share/courier-traffic/influxql/courier_daily_cq.influxql",
	"/usr/share/courier-traffic/influxql/courier_daily_ranking.influxql",
	"/usr/share/courier-traffic/influxql/courier_daily_top.influxql",
	"/usr/share/courier-traffic/sql/courier_daily_ranking.sql",
	"/usr/share/courier-traffic/grafana/dashboards/courier-traffic.json",
	"/usr/share/courier-traffic/grafana/provisioning/dashboards/courier.yaml",
	"/usr/share/courier-traffic/grafana/provisioning/datasources/courier-influxdb.yaml",
	"/usr/share/courier-traffic/chronograf/courier-traffic.json",
}

var (
	debOnly = []string{"/usr/share/doc/courier-traffic/changelog.Debian.gz", "/usr/share/lintian/overrides/courier-traffic"}
	rpmOnly = []string{"/usr/share/licenses/courier-traffic/LICENSE"}
)

// tool returns the path of a tool the test needs, or skips loudly.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("SKIPPED: %s is not installed (Debian package %s; scripts/install-deps.sh installs it): the packages are NOT tested", name, pkg)
		fmt.Fprintf(os.Stderr, "\n%s\n%s\n%s\n\n", strings.Repeat("*", 78), msg, strings.Repeat("*", 78))
		t.Skip(msg)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// changelogVersion is the top entry's version of packaging/changelog.
func changelogVersion(t *testing.T, root string) string {
	b, err := os.ReadFile(filepath.Join(root, "packaging", "changelog"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^courier-traffic \(([^)]+)\) `).FindSubmatch(b)
	if m == nil {
		t.Fatalf("packaging/changelog: no version on the first line")
	}
	return string(m[1])
}

// glibcMin is GLIBC_MIN of packaging/build.sh: the oldest glibc the plugin
// supports, which the packages depend on.
func glibcMin(t *testing.T, root string) [2]int {
	b, err := os.ReadFile(filepath.Join(root, "packaging", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GLIBC_MIN=(\d+)\.(\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("packaging/build.sh: no GLIBC_MIN=X.Y line")
	}
	a, _ := strconv.Atoi(string(m[1]))
	c, _ := strconv.Atoi(string(m[2]))
	return [2]int{a, c}
}

func TestPackages(t *testing.T) {
	dpkgDeb := tool(t, "dpkg-deb", "dpkg")
	lintian := tool(t, "lintian", "lintian")
	rpm := tool(t, "rpm", "rpm")
	root, err := fbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dist := os.Getenv("COURIER_PKG_DIST")
	if dist == "" {
		if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
			t.Skipf("SKIPPED: packages are built for amd64 and arm64, not %s", runtime.GOARCH)
		}
		dist = t.TempDir()
		start := time.Now()
		cmd := exec.Command(filepath.Join(root, "packaging", "build.sh"), dist, runtime.GOARCH)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("packaging/build.sh: %v\n%s", err, out)
		}
		t.Logf("packaging/build.sh %s (.deb and .rpm): %v", runtime.GOARCH, time.Since(start).Round(time.Second))
	}
	checkSums(t, dist)
	version := changelogVersion(t, root)
	debs, _ := filepath.Glob(filepath.Join(dist, "*.deb"))
	rpms, _ := filepath.Glob(filepath.Join(dist, "*.rpm"))
	if len(debs) == 0 || len(rpms) == 0 {
		t.Fatalf("%s: %d .deb and %d .rpm, want some of each", dist, len(debs), len(rpms))
	}
	for _, deb := range debs {
		arch := strings.TrimSpace(run(t, dpkgDeb, "--field", deb, "Architecture"))
		t.Run("deb-"+arch, func(t *testing.T) {
			checkDeb(t, root, deb, arch, version, dpkgDeb, lintian)
		})
	}
	for _, p := range rpms {
		t.Run("rpm-"+filepath.Base(p), func(t *testing.T) { checkRPM(t, root, p, version, rpm) })
	}
}

// checkSums: SHA256SUMS lists every package of dist with its right hash.
func checkSums(t *testing.T, dist string) {
	b, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatalf("SHA256SUMS: %v", err)
		}
		h := sha256.Sum256(data)
		if hex.EncodeToString(h[:]) != sum {
			t.Errorf("SHA256SUMS: %s: wrong hash", name)
		}
		listed[name] = true
	}
	pkgs, _ := filepath.Glob(filepath.Join(dist, "*.[dr][ep][bm]"))
	for _, p := range pkgs {
		if !listed[filepath.Base(p)] {
			t.Errorf("SHA256SUMS does not list %s", filepath.Base(p))
		}
	}
}

func checkDeb(t *testing.T, root, deb, arch, version, dpkgDeb, lintian string) {
	// Control fields.
	fields := run(t, dpkgDeb, "--field", deb, "Package", "Version", "Depends", "Maintainer")
	min := glibcMin(t, root)
	for _, want := range []string{"Package: courier-traffic\n", "Version: " + version + "\n", fmt.Sprintf("Depends: libc6 (>= %d.%d)\n", min[0], min[1])} {
		if !strings.Contains(fields, want) {
			t.Errorf("control: no %q in\n%s", want, fields)
		}
	}

	// lintian: no error, no warning (the overrides carry their reasons).
	cmd := exec.Command(lintian, "--info", "--pedantic", "--display-level", ">=pedantic", "--fail-on", "error,warning", deb)
	out, err := cmd.CombinedOutput()
	t.Logf("lintian --pedantic %s:\n%s", filepath.Base(deb), out)
	if err != nil {
		t.Errorf("lintian: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "W: ") {
			t.Errorf("lintian: %s", l)
		}
	}

	// Files and conffiles.
	var files []string
	for _, l := range strings.Split(run(t, dpkgDeb, "--contents", deb), "\n") {
		if f := strings.Fields(l); len(f) >= 6 && !strings.HasSuffix(f[5], "/") {
			files = append(files, strings.TrimPrefix(f[5], "."))
		}
	}
	want := append(append(append([]string{}, common...), conffiles...), debOnly...)
	sort.Strings(want)
	sort.Strings(files)
	if !slices.Equal(files, want) {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(want, "\n"))
	}
	if got := strings.Fields(run(t, dpkgDeb, "--info", deb, "conffiles")); !slices.Equal(got, conffiles) {
		t.Errorf("conffiles %v, want %v", got, conffiles)
	}
	for _, f := range files {
		if strings.HasPrefix(f, "/opt/") || strings.HasPrefix(f, "/usr/local/") || f == "/etc/fluent-bit/fluent-bit.conf" {
			t.Errorf("%s: not a place for a Debian package's file", f)
		}
	}

	x := t.TempDir()
	run(t, dpkgDeb, "--extract", deb, x)
	checkContents(t, root, x, arch, version)

	if arch != runtime.GOARCH {
		t.Logf("%s: not this machine's architecture (%s): not installed", filepath.Base(deb), runtime.GOARCH)
		return
	}
	checkInstall(t, root, deb, version)
}

// checkContents checks the extracted files of a package at x.
func checkContents(t *testing.T, root, x, arch, version string) {
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "x86_64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "aarch64": elf.EM_AARCH64}[arch]
	checkPlugin(t, filepath.Join(x, soPath), machine, glibcMin(t, root))
	checkCLI(t, filepath.Join(x, cliPath), machine)

	// The plugins file and the YAML configuration load the installed plugin.
	pc := readFile(t, filepath.Join(x, etcDir, "plugins.conf"))
	if !regexp.MustCompile(`(?m)^\s+Path\s+` + regexp.QuoteMeta(soPath) + `$`).MatchString(pc) {
		t.Errorf("plugins.conf does not load %s:\n%s", soPath, pc)
	}
	if y := readFile(t, filepath.Join(x, etcDir, "fluent-bit.yaml")); !strings.Contains(y, "\n  - "+soPath+"\n") {
		t.Errorf("fluent-bit.yaml: plugins does not list %s", soPath)
	}
	// Everything else in the configuration is the repository's.
	for _, f := range []string{"fluent-bit.conf", "parsers.conf"} {
		if readFile(t, filepath.Join(x, etcDir, f)) != readFile(t, filepath.Join(root, "conf", f)) {
			t.Errorf("%s differs from conf/%s", etcDir+f, f)
		}
	}

	man := gunzip(t, filepath.Join(x, "/usr/share/man/man1/courier-traffic.1.gz"))
	for _, want := range []string{`.TH COURIER\-TRAFFIC 1 `, `"courier-traffic ` + version + `"`, `\fB\-\-influx\-url\fR`} {
		if !strings.Contains(man, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if c := readFile(t, filepath.Join(x, "/usr/share/bash-completion/completions/courier-traffic")); !strings.Contains(c, "complete -o default -o bashdefault -F _courier_traffic courier-traffic") {
		t.Errorf("bash completion: no complete line")
	}
	cr := readFile(t, filepath.Join(x, "/usr/share/doc/courier-traffic/copyright"))
	if !strings.HasPrefix(cr, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n") || !strings.Contains(cr, "License: MIT\n") {
		t.Errorf("copyright is not a machine-readable MIT copyright file:\n%s", cr)
	}
	if cl := filepath.Join(x, "/usr/share/doc/courier-traffic/changelog.Debian.gz"); exists(cl) && gunzip(t, cl) != readFile(t, filepath.Join(root, "packaging", "changelog")) {
		t.Errorf("changelog.Debian.gz is not packaging/changelog")
	}
	for _, d := range []string{"flux", "influxdb", "influxql", "sql", "grafana", "chronograf"} {
		filepath.WalkDir(filepath.Join(root, "conf", d), func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(root, "conf"), p)
			if readFile(t, filepath.Join(x, "/usr/share/courier-traffic", rel)) != readFile(t, p) {
				t.Errorf("/usr/share/courier-traffic/%s differs from conf/%s", rel, rel)
			}
			return nil
		})
	}
}

// checkPlugin: a shared object of the architecture, exporting Fluent Bit's
// entry points, needing only libc and no glibc symbol version newer than min.
func checkPlugin(t *testing.T, path string, machine elf.Machine, min [2]int) {
	so, err := elf.Open(path)
	if err != nil {
		t.Fatalf("plugin: %v", err)
	}
	defer so.Close()
	if so.Type != elf.ET_DYN || so.Machine != machine {
		t.Errorf("plugin: ELF %v %v, want ET_DYN %v", so.Type, so.Machine, machine)
	}
	// libc, and on arm64 the dynamic loader (__tls_get_addr): both are glibc's.
	libs, err := so.ImportedLibraries()
	for _, l := range libs {
		if l != "libc.so.6" && !strings.HasPrefix(l, "ld-linux-") {
			t.Errorf("plugin needs %s; want nothing but glibc (libc.so.6, ld-linux-*)", l)
		}
	}
	if err != nil || !slices.Contains(libs, "libc.so.6") {
		t.Errorf("plugin needs %v (%v), want libc.so.6 among them", libs, err)
	}
	syms, err := so.DynamicSymbols()
	if err != nil {
		t.Fatalf("plugin symbols: %v", err)
	}
	exported := map[string]bool{}
	var newest [2]int
	newestSym := ""
	verRe := regexp.MustCompile(`^GLIBC_(\d+)\.(\d+)`)
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF {
			exported[s.Name] = true
		}
		if m := verRe.FindStringSubmatch(s.Version); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			if v := [2]int{a, b}; v[0] > newest[0] || v[0] == newest[0] && v[1] > newest[1] {
				newest, newestSym = v, s.Name
			}
			if a > min[0] || a == min[0] && b > min[1] {
				t.Errorf("plugin needs %s@%s, newer than GLIBC_%d.%d (GLIBC_MIN of packaging/build.sh)", s.Name, s.Version, min[0], min[1])
			}
		}
	}
	if newest[0] == 0 {
		t.Errorf("plugin imports no versioned glibc symbol: was it linked against glibc?")
	}
	t.Logf("plugin (%v) needs GLIBC_%d.%d at most (%s); the packages depend on glibc >= %d.%d", machine, newest[0], newest[1], newestSym, min[0], min[1])
	for _, name := range []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginFlushCtx", "FLBPluginExitCtx", "FLBPluginUnregister"} {
		if !exported[name] {
			t.Errorf("plugin does not export %s", name)
		}
	}
}

// checkCLI: an executable of the architecture without a dynamic loader.
func checkCLI(t *testing.T, path string, machine elf.Machine) {
	cli, err := elf.Open(path)
	if err != nil {
		t.Fatalf("CLI: %v", err)
	}
	defer cli.Close()
	if cli.Type != elf.ET_EXEC || cli.Machine != machine {
		t.Errorf("CLI: ELF %v %v, want ET_EXEC %v", cli.Type, cli.Machine, machine)
	}
	for _, p := range cli.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("CLI is dynamically linked; it must be static")
		}
	}
}

// checkInstall installs deb with dpkg into a scratch root (needs root; else
// it says so and tests the extracted files), runs the installed CLI and
// plugin, and removes and purges the package.
func checkInstall(t *testing.T, root, deb, version string) {
	dpkg := tool(t, "dpkg", "dpkg")
	r := t.TempDir()
	for _, d := range []string{"info", "updates", "triggers"} {
		if err := os.MkdirAll(filepath.Join(r, "var/lib/dpkg", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(r, "var/lib/dpkg", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The scratch root has no libc6 package: the dependency is forced.
	dpkgArgs := []string{"--root=" + r, "--force-depends", "--force-bad-path"}
	real := os.Geteuid() == 0
	if real {
		run(t, dpkg, append(dpkgArgs, "--install", deb)...)
		status := run(t, dpkg, "--root="+r, "--status", "courier-traffic")
		if !strings.Contains(status, "Status: install ok installed\n") {
			t.Errorf("after dpkg --install:\n%s", status)
		}
	} else {
		t.Logf("NOT ROOT: dpkg --install into a scratch root needs root; testing dpkg-deb --extract instead (conffiles were checked in the control archive)")
		run(t, "dpkg-deb", "--extract", deb, r)
	}

	// The installed CLI: its version and the demo report.
	cli := filepath.Join(r, cliPath)
	v := run(t, cli, "version")
	if !strings.HasPrefix(v, "courier-traffic "+version+"\n") || !strings.Contains(v, "go:      go1.") {
		t.Errorf("installed courier-traffic version:\n%s", v)
	}
	t.Logf("installed courier-traffic version:\n%s", v)
	demo := []string{"report", "--date", "Jul 23", "--year", "2026", "--tz", "UTC", filepath.Join(root, "testdata", "quickstart", "mail.log")}
	got := run(t, cli, demo...)
	repoCLI, err := fbhost.BuildBinary(root, "./cmd/courier-traffic")
	if err != nil {
		t.Fatal(err)
	}
	if want := run(t, repoCLI, demo...); got != want || !strings.Contains(got, "== Courier IMAP traffic stats per user of Jul 23 ==") {
		t.Errorf("installed CLI's demo report:\n%s\nwant (the repository's CLI):\n%s", got, want)
	}

	// The installed plugin loads in the C test host, registers and starts,
	// logging its build.
	_, host, err := fbhost.Build(root)
	if err != nil {
		t.Fatal(err)
	}
	h, err := fbhost.Start(fbhost.Options{Plugin: filepath.Join(r, soPath), Binary: host, Dir: t.TempDir(), Timeout: time.Minute})
	if err != nil {
		t.Fatalf("installed plugin in the C host: %v", err)
	}
	if err := h.Init("out", "influx_url", "http://127.0.0.1:1", "time_zone", "UTC"); err != nil {
		t.Errorf("init: %v\n%s", err, h.Log())
	}
	if err := h.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	log := h.Log()
	if !strings.Contains(log, "started; configuration: ") || !strings.Contains(log, "; build: courier-traffic "+version+" (commit ") {
		t.Errorf("installed plugin's log has no start line with its build:\n%s", log)
	}
	if !real {
		return
	}

	// Removal keeps the conffiles, an edited one as edited; purge removes them.
	edited := filepath.Join(r, etcDir, "fluent-bit.conf")
	f, err := os.OpenFile(edited, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "# edited by the admin")
	f.Close()
	run(t, dpkg, append(dpkgArgs, "--remove", "courier-traffic")...)
	for _, p := range []string{soPath, cliPath} {
		if exists(filepath.Join(r, p)) {
			t.Errorf("%s is still there after dpkg --remove", p)
		}
	}
	for _, c := range conffiles {
		if !exists(filepath.Join(r, c)) {
			t.Errorf("conffile %s is gone after dpkg --remove", c)
		}
	}
	if !strings.HasSuffix(readFile(t, edited), "# edited by the admin\n") {
		t.Errorf("dpkg --remove lost the admin's edit of %s", etcDir+"fluent-bit.conf")
	}
	if s := run(t, dpkg, "--root="+r, "--status", "courier-traffic"); !strings.Contains(s, "Status: deinstall ok config-files\n") {
		t.Errorf("after dpkg --remove:\n%s", s)
	}
	run(t, dpkg, append(dpkgArgs, "--purge", "courier-traffic")...)
	for _, c := range conffiles {
		if exists(filepath.Join(r, c)) {
			t.Errorf("conffile %s is still there after dpkg --purge", c)
		}
	}
}

func checkRPM(t *testing.T, root, p, version, rpm string) {
	q := run(t, rpm, "-qp", "--queryformat", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\n", p)
	f := strings.Fields(q)
	if len(f) != 4 || f[0] != "courier-traffic" || f[1] != version || f[3] != "MIT" || (f[2] != "x86_64" && f[2] != "aarch64") {
		t.Errorf("rpm -qp: %q, want courier-traffic %s x86_64|aarch64 MIT", q, version)
	}
	// rpm -qlp lists the package's directories too (it owns /usr/share/courier-traffic/...).
	var files []string
	for _, l := range strings.Split(run(t, rpm, "-qp", "--queryformat", "[%{FILEMODES:perms} %{FILENAMES}\n]", p), "\n") {
		if perms, name, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(perms, "d") {
			files = append(files, name)
		}
	}
	if all := strings.Fields(run(t, rpm, "-qlp", p)); !slices.Contains(all, "/usr/share/courier-traffic") || slices.Contains(all, "/usr/share") || slices.Contains(all, "/etc/fluent-bit") {
		t.Errorf("rpm -qlp: want /usr/share/courier-traffic owned, and neither /usr/share nor /etc/fluent-bit:\n%s", strings.Join(all, "\n"))
	}
	want := append(append(append([]string{}, common...), conffiles...), rpmOnly...)
	sort.Strings(want)
	sort.Strings(files)
	if !slices.Equal(files, want) {
		t.Errorf("rpm -qlp:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(want, "\n"))
	}
	if got := strings.Fields(run(t, rpm, "-qp", "--configfiles", p)); !slices.Equal(got, conffiles) {
		t.Errorf("rpm --configfiles %v, want %v", got, conffiles)
	}
	min := glibcMin(t, root)
	if req := run(t, rpm, "-qp", "--requires", p); !strings.Contains(req, fmt.Sprintf("glibc >= %d.%d\n", min[0], min[1])) {
		t.Errorf("rpm --requires: no glibc >= %d.%d in\n%s", min[0], min[1], req)
	}
	t.Logf("rpm -qlp %s:\n%s", filepath.Base(p), run(t, rpm, "-qlp", p))
	// The objects in the rpm are checked like the .deb's.
	x := t.TempDir()
	extractCpio(t, run(t, tool(t, "rpm2cpio", "rpm2cpio"), p), x)
	checkContents(t, root, x, f[2], version)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gunzip(t *testing.T, p string) string {
	t.Helper()
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	z, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return string(b)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// extractCpio writes the regular files of a "newc" cpio archive (what
// rpm2cpio prints) under dir; no cpio program is needed.
func extractCpio(t *testing.T, archive, dir string) {
	t.Helper()
	b := []byte(archive)
	pad := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		if off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("cpio: no newc header at %d", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("cpio: header at %d: %v", off, err)
			}
			return int(v)
		}
		mode, size, nameSize := field(1), field(6), field(11)
		name := strings.TrimRight(string(b[off+110:off+110+nameSize]), "\x00")
		data := off + pad(110+nameSize)
		if name == "TRAILER!!!" {
			return
		}
		if mode&0o170000 == 0o100000 {
			p := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(name, ".")))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b[data:data+size], os.FileMode(mode&0o777)); err != nil {
				t.Fatal(err)
			}
		}
		off = data + pad(size)
	}
}
