package conftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced code blocks of README.md's section named
// heading ("## Quick start"), in order.
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	text := readRepoFile(t, "README.md")
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	section := text[i+len(heading)+2:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	re := regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeQuickStart runs the README's quick-start commands as a user on a
// fresh clone would: the main job (`make demo`) must print exactly the
// report shown right below it, and the test command must be the one CI runs
// (.ci/run). Running `make test` itself here would recurse; CI runs it.
func TestReadmeQuickStart(t *testing.T) {
	blocks := readmeBlocks(t, "## Quick start")
	if len(blocks) < 2 {
		t.Fatalf("quick start has %d code blocks, want the commands and the demo's output", len(blocks))
	}
	var cmds []string
	for _, l := range strings.Split(blocks[0], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			cmd, _, _ := strings.Cut(l, "#")
			cmds = append(cmds, strings.TrimSpace(cmd))
		}
	}
	if want := []string{"make demo", "make test"}; strings.Join(cmds, "|") != strings.Join(want, "|") {
		t.Fatalf("quick-start commands %q, want %q", cmds, want)
	}

	root := repoRoot(t)
	ci := readRepoFile(t, filepath.Join(".ci", "run"))
	if !regexp.MustCompile(`(?m)^make test$`).MatchString(ci) {
		t.Errorf(".ci/run does not run the README's test command `make test`:\n%s", ci)
	}

	if _, err := exec.LookPath("make"); err != nil {
		t.Fatalf("make is needed to run the README's commands: %v", err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-s", "demo")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "MAKEFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, stderr.String())
	}
	if want := blocks[1]; string(out) != want {
		t.Errorf("make demo printed\n%s\nthe README shows\n%s", out, want)
	}
}
