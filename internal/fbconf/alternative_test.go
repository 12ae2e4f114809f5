package fbconf

import (
	"strings"
	"testing"
)

const sample = `[INPUT]
    Name tail
# --- BEGIN alternative: syslog ---
# [INPUT]
#     Name syslog
## Mode tcp is what rsyslog forwards to.
# --- END alternative ---
# --- BEGIN alternative: systemd ---
# [INPUT]
#     Name systemd
# --- END alternative ---
`

func TestEnable(t *testing.T) {
	if got := Alternatives(sample); strings.Join(got, ",") != "syslog,systemd" {
		t.Fatalf("Alternatives = %q", got)
	}
	out, err := Enable(sample, "syslog")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n [INPUT]\n", "\n     Name syslog\n", "\n# Mode tcp is what", "\n# [INPUT]\n#     Name systemd\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("enabled syslog lacks %q:\n%s", want, out)
		}
	}
	cases := []struct{ name, src, err string }{
		{"missing block", sample, "not found"},
		{"uncommented line", strings.Replace(sample, "#     Name systemd", "    Name systemd", 1), "not commented"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			block := "nosuch"
			if tc.name == "uncommented line" {
				block = "systemd"
			}
			if _, err := Enable(tc.src, block); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Enable(%s) error = %v, want %q", block, err, tc.err)
			}
		})
	}
}
