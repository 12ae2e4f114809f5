package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommandsCoverUsage: every command the usage text names has its flag
// set in commands (so the man page and the completion document it), or is
// one of the flagless commands.
func TestCommandsCoverUsage(t *testing.T) {
	known := map[string]bool{"version": true, "completion": true}
	for _, c := range commands {
		known[strings.Fields(c.name)[0]] = true
	}
	for _, l := range strings.Split(usage, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "courier-traffic" && !known[f[1]] {
			t.Errorf("usage names %q, which commands (commands.go) lacks", f[1])
		}
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		out := mustRun(t, "", arg)
		for _, want := range []string{"courier-traffic dev\n", "module:  github.com/courier-traffic/courier-traffic ", "commit:  ", "date:    ", "go:      go1."} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", arg, want, out)
			}
		}
	}
	if r := runCLI(t, "", "version", "x"); r.code != exitUsage {
		t.Errorf("version x: exit %d, want %d", r.code, exitUsage)
	}
}

// TestManPage: every flag of every command is on the page with its
// placeholder, and groff formats the page without a warning.
func TestManPage(t *testing.T) {
	page := mustRun(t, "", "man")
	for _, c := range commands {
		if !strings.Contains(page, ".SS "+roffEscape(c.name)+"\n") {
			t.Errorf("no section for %q", c.name)
		}
		for _, f := range describeFlags(c.flagSet()) {
			want := `\fB\-\-` + roffEscape(f.name) + `\fR`
			if f.arg != "" {
				want += ` \fI` + roffEscape(f.arg) + `\fR`
			}
			if !strings.Contains(page, want+"\n") {
				t.Errorf("%s: flag --%s: no %q", c.name, f.name, want)
			}
		}
	}
	for _, want := range []string{`\fB\-\-journal\-dir\fR \fIDIR\fR`, `\fB\-\-date\fR \fIstring\fR`, `(default "yesterday")`, ".SS influxql install\n", `\-\-backfill\-days`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("SKIPPED: groff is not installed (Debian package groff-base): the page's roff is not checked")
	}
	f := filepath.Join(t.TempDir(), "courier-traffic.1")
	if err := os.WriteFile(f, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", f).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, out)
	}
}

// TestBashCompletion runs the completion function in bash.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("SKIPPED: no bash")
	}
	script := filepath.Join(t.TempDir(), "courier-traffic")
	if err := os.WriteFile(script, []byte(mustRun(t, "", "completion", "bash")), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		t.Helper()
		prog := `complete() { :; }; source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _courier_traffic; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, append([]string{"-c", prog, "bash", script}, words...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	cases := []struct {
		words []string
		want  string
	}{
		{[]string{"courier-traffic", "re"}, "report"},
		{[]string{"courier-traffic", "ver"}, "version"},
		{[]string{"courier-traffic", "report", "--da"}, "--date"},
		{[]string{"courier-traffic", "report", "--journal-d"}, "--journal-dir"},
		{[]string{"courier-traffic", "backfill", "--no-p"}, "--no-progress"},
		{[]string{"courier-traffic", "influxql", "ins"}, "install"},
		{[]string{"courier-traffic", "influxql", "install", "--backfill"}, "--backfill-days"},
		{[]string{"courier-traffic", "influxql", "print", "--backfill"}, ""},
		{[]string{"courier-traffic", "report", "--date", "--"}, ""}, // a value, not a flag
	}
	for _, c := range cases {
		if got := complete(c.words...); got != c.want {
			t.Errorf("%v: got %q, want %q", c.words, got, c.want)
		}
	}
	if r := runCLI(t, "", "completion", "zsh"); r.code != exitUsage {
		t.Errorf("completion zsh: exit %d, want %d", r.code, exitUsage)
	}
}
