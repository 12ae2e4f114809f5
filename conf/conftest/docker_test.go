package conftest

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeEnv is the process environment for docker-compose without the variables the compose
// file interpolates, so only the env file under test supplies them.
func composeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "INFLUX_ORG", "INFLUX_TOKEN", "INFLUX_ADMIN_USER", "INFLUX_ADMIN_PASSWORD",
			"COURIER_TIME_ZONE", "MAIL_LOG_DIR", "GRAFANA_ADMIN_PASSWORD", "COMPOSE_PROJECT_NAME", "COMPOSE_FILE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func dockerCompose(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Fatalf("docker-compose is needed to validate docker/compose.yaml: apt-get install -y docker-compose")
	}
	cmd := exec.Command("docker-compose", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = composeEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.Bytes(), err
	}
	return out, nil
}

// TestComposeFile validates docker/compose.yaml with docker-compose and checks the choices the
// brief fixes: InfluxDB pinned to 2.7, loopback-only ports, names agreeing with the task.
func TestComposeFile(t *testing.T) {
	out, err := dockerCompose(t, "--env-file", "docker/courier.env.example", "-f", "docker/compose.yaml", "--profile", "grafana", "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var cfg struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build struct {
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Profiles    []string          `yaml:"profiles"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("docker-compose config output: %v", err)
	}
	for _, name := range []string{"influxdb", "fluent-bit", "grafana"} {
		if _, ok := cfg.Services[name]; !ok {
			t.Fatalf("service %q missing", name)
		}
	}
	if img := cfg.Services["influxdb"].Image; !regexp.MustCompile(`^influxdb:2\.7\.\d+$`).MatchString(img) {
		t.Errorf("influxdb image %q: want a pinned influxdb:2.7.x (latest is InfluxDB 3, without Flux)", img)
	}
	if img := cfg.Services["grafana"].Image; strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
		t.Errorf("grafana image %q is not pinned", img)
	}
	if p := cfg.Services["grafana"].Profiles; len(p) != 1 || p[0] != "grafana" {
		t.Errorf("grafana profiles %v: want it optional (profile grafana)", p)
	}
	for name, s := range cfg.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %q beyond loopback", name, p)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, repoRoot(t)) {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	fb := cfg.Services["fluent-bit"]
	if fb.Build.Dockerfile != "docker/Dockerfile" {
		t.Errorf("fluent-bit builds %q, want docker/Dockerfile", fb.Build.Dockerfile)
	}
	settings := fluxSettings(t, readRepoFile(t, fluxTaskPath))
	if got := fb.Environment["INFLUX_BUCKET"]; got != settings["influx_bucket"] {
		t.Errorf("fluent-bit INFLUX_BUCKET %q, the task reads %q", got, settings["influx_bucket"])
	}

	// Without an env file the required settings are refused, naming the file to create.
	empty := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = dockerCompose(t, "--env-file", empty, "-f", "docker/compose.yaml", "config")
	if err == nil {
		t.Errorf("docker-compose config without settings succeeded; want a refusal")
	} else if !strings.Contains(string(out), "docker/.env") {
		t.Errorf("docker-compose config without settings: %q does not name docker/.env", out)
	}
}

// dockerRunCommands returns the shell commands of the Dockerfile's RUN instruction that builds
// with go build, split at "&&".
func dockerRunCommands(t *testing.T, dockerfile string) []string {
	t.Helper()
	joined := strings.ReplaceAll(dockerfile, "\\\n", " ")
	for _, l := range strings.Split(joined, "\n") {
		if strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build") {
			var cmds []string
			for _, c := range strings.Split(strings.TrimPrefix(l, "RUN "), "&&") {
				cmds = append(cmds, strings.Join(strings.Fields(c), " "))
			}
			return cmds
		}
	}
	t.Fatal("docker/Dockerfile: no RUN instruction with go build")
	return nil
}

// TestDockerfileBuildSteps runs the Dockerfile's build commands as written (on this Debian
// bookworm machine, like the golang:*-bookworm stage), with /out replaced by a temporary
// directory, and checks the results: a c-shared plugin with the Fluent Bit entry points that
// needs nothing newer than glibc 2.36, and a static CLI.
func TestDockerfileBuildSteps(t *testing.T) {
	df := readRepoFile(t, "docker/Dockerfile")
	args := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ARG ([A-Z_]+)=(\S+)$`).FindAllStringSubmatch(df, -1) {
		args[m[1]] = m[2]
	}
	if !regexp.MustCompile(`^1\.(2[6-9]|[3-9][0-9])\.\d+$`).MatchString(args["GO_VERSION"]) {
		t.Errorf("GO_VERSION %q: want a pinned Go >= 1.26 (go.mod)", args["GO_VERSION"])
	}
	if !regexp.MustCompile(`^4\.\d+\.\d+$`).MatchString(args["FLUENT_BIT_VERSION"]) {
		t.Errorf("FLUENT_BIT_VERSION %q: want a pinned 4.x.y", args["FLUENT_BIT_VERSION"])
	}
	for _, from := range []string{"FROM golang:${GO_VERSION}-bookworm AS build", "FROM fluent/fluent-bit:${FLUENT_BIT_VERSION}"} {
		if !strings.Contains(df, "\n"+from+"\n") {
			t.Errorf("docker/Dockerfile: no line %q", from)
		}
	}

	out := t.TempDir()
	var built int
	for _, c := range dockerRunCommands(t, df) {
		c = strings.ReplaceAll(c, " /out/", " "+out+"/")
		if !strings.Contains(c, "go build") {
			continue
		}
		cmd := exec.Command("sh", "-c", c)
		cmd.Dir = repoRoot(t)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, b)
		}
		built++
	}
	if built != 2 {
		t.Fatalf("ran %d go build commands, want 2 (plugin and CLI)", built)
	}

	so, err := elf.Open(filepath.Join(out, "out_courier_influxdb.so"))
	if err != nil {
		t.Fatalf("plugin: %v", err)
	}
	defer so.Close()
	if so.Type != elf.ET_DYN {
		t.Errorf("plugin ELF type %v, want a shared object", so.Type)
	}
	syms, err := so.DynamicSymbols()
	if err != nil {
		t.Fatalf("plugin symbols: %v", err)
	}
	exported := map[string]bool{}
	maxGlibc := [2]int{}
	verRe := regexp.MustCompile(`^GLIBC_(\d+)\.(\d+)`)
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF {
			exported[s.Name] = true
		}
		if m := verRe.FindStringSubmatch(s.Version); m != nil {
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			if a > maxGlibc[0] || a == maxGlibc[0] && b > maxGlibc[1] {
				maxGlibc = [2]int{a, b}
			}
		}
	}
	for _, name := range []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginFlushCtx", "FLBPluginExitCtx", "FLBPluginUnregister"} {
		if !exported[name] {
			t.Errorf("plugin does not export %s", name)
		}
	}
	t.Logf("plugin needs GLIBC_%d.%d at most", maxGlibc[0], maxGlibc[1])
	if maxGlibc[0] == 0 {
		t.Errorf("plugin imports no versioned glibc symbol: was it linked against glibc?")
	}
	if maxGlibc[0] > 2 || maxGlibc[0] == 2 && maxGlibc[1] > 36 {
		t.Errorf("plugin needs GLIBC_%d.%d, newer than bookworm's 2.36: it would not load in older Fluent Bit images", maxGlibc[0], maxGlibc[1])
	}

	cli, err := elf.Open(filepath.Join(out, "courier-traffic"))
	if err != nil {
		t.Fatalf("CLI: %v", err)
	}
	defer cli.Close()
	for _, p := range cli.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("CLI is dynamically linked; CGO_ENABLED=0 should make it static")
		}
	}
}
