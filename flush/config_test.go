package flush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
	"github.com/google/go-cmp/cmp"
)

const testToken = "s3cr3t-T0ken-xyzzy"

func writeCA(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, selfSignedPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigKeys(t *testing.T) {
	ca := writeCA(t)
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each key: its default (checked through get), a good value and a bad one.
	cases := []struct {
		key  string
		def  func(c *Config) any
		want any
		good string
		got  func(c *Config) any
		gv   any
		bad  string
	}{
		{KeyInfluxURL, func(c *Config) any { return c.InfluxURL }, "http://127.0.0.1:8086",
			"https://influx.example:8443/base", func(c *Config) any { return c.InfluxURL }, "https://influx.example:8443/base", "ftp://x"},
		{KeyInfluxOrg, func(c *Config) any { return c.InfluxOrg }, "",
			"my-org", func(c *Config) any { return c.InfluxOrg }, "my-org", "a\x01b"},
		{KeyInfluxBucket, func(c *Config) any { return c.InfluxBucket }, "courier/autogen",
			"db/rp", func(c *Config) any { return c.InfluxBucket }, "db/rp", "db/"},
		{KeyInfluxTimeout, func(c *Config) any { return c.InfluxTimeout }, 10 * time.Second,
			"2s", func(c *Config) any { return c.InfluxTimeout }, 2 * time.Second, "-1s"},
		{KeyInfluxTLSCAFile, func(c *Config) any { return c.InfluxTLSCAFile }, "",
			ca, func(c *Config) any { return c.InfluxTLSCAFile }, ca, notPEM},
		{KeyInfluxTLSInsecure, func(c *Config) any { return c.InfluxTLSInsecureSkip }, false,
			"Yes", func(c *Config) any { return c.InfluxTLSInsecureSkip }, true, "maybe"},
		{KeyInfluxGzip, func(c *Config) any { return c.InfluxGzip }, true,
			"off", func(c *Config) any { return c.InfluxGzip }, false, "2"},
		{KeyBatchSize, func(c *Config) any { return c.BatchSize }, 5000,
			"1000000", func(c *Config) any { return c.BatchSize }, 1000000, "0"},
		{KeyMeasurement, func(c *Config) any { return c.Measurement }, "courier_session",
			"mail sessions", func(c *Config) any { return c.Measurement }, "mail sessions", `ends\`},
		{KeyDedup, func(c *Config) any { return c.Dedup }, true,
			"0", func(c *Config) any { return c.Dedup }, false, "nope"},
		{KeyDedupWindow, func(c *Config) any { return c.DedupWindow }, 10 * time.Minute,
			"1h", func(c *Config) any { return c.DedupWindow }, time.Hour, "0s"},
		{KeyDedupMaxEntries, func(c *Config) any { return c.DedupMaxEntries }, 1000000,
			"10", func(c *Config) any { return c.DedupMaxEntries }, 10, "ten"},
		{KeyDedupTolerance, func(c *Config) any { return c.DedupTolerance }, time.Second,
			"0", func(c *Config) any { return c.DedupTolerance }, time.Duration(0), "-1s"},
		{KeyTimeZone, func(c *Config) any { return c.Location }, time.Local,
			"UTC", func(c *Config) any { return c.Location }, time.UTC, "Mars/Olympus"},
		{KeyIdentifiers, func(c *Config) any { return c.Identifiers }, parser.DefaultIdentifiers,
			"imapd, pop3d", func(c *Config) any { return c.Identifiers }, []string{"imapd", "pop3d"}, "imapd,,pop3d"},
		{KeyUserCase, func(c *Config) any { return c.LowerUser }, false,
			"LOWER", func(c *Config) any { return c.LowerUser }, true, "upper"},
		{KeyCountUnauthenticated, func(c *Config) any { return c.CountUnauthenticated }, false,
			"true", func(c *Config) any { return c.CountUnauthenticated }, true, "yess"},
		{KeyExcludeIPs, func(c *Config) any { return c.ExcludeIPs }, []netip.Prefix(nil),
			"127.0.0.1, ::ffff:10.0.0.0/104, 2001:db8::/32",
			func(c *Config) any { return c.ExcludeIPs },
			[]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")},
			"10.0.0.0/33"},
		{KeyLogKey, func(c *Config) any { return c.LogKeys }, []string{"log"},
			"line", func(c *Config) any { return c.LogKeys }, []string{"line"}, ",log"},
		{KeyIdentKey, func(c *Config) any { return c.IdentKeys }, []string{"ident", "SYSLOG_IDENTIFIER"},
			"tag", func(c *Config) any { return c.IdentKeys }, []string{"tag"}, "a,"},
		{KeyHostKey, func(c *Config) any { return c.HostKeys }, []string{"host", "_HOSTNAME"},
			"hostname", func(c *Config) any { return c.HostKeys }, []string{"hostname"}, "a,,b"},
		{KeyMessageKey, func(c *Config) any { return c.MessageKeys }, []string{"message", "MESSAGE"},
			"msg", func(c *Config) any { return c.MessageKeys }, []string{"msg"}, "m,\x02"},
		{KeyTimeKey, func(c *Config) any { return c.TimeKeys }, []string{"_SOURCE_REALTIME_TIMESTAMP"},
			"ts", func(c *Config) any { return c.TimeKeys }, []string{"ts"}, ",,"},
		{KeyStatsInterval, func(c *Config) any { return c.StatsInterval }, time.Minute,
			"0", func(c *Config) any { return c.StatsInterval }, time.Duration(0), "soon"},
		{KeyStatsMeasurement, func(c *Config) any { return c.StatsMeasurement }, "",
			"courier_plugin_stats", func(c *Config) any { return c.StatsMeasurement }, "courier_plugin_stats", "bad\x7f"},
	}
	seen := map[string]bool{KeyInfluxToken: true, KeyInfluxTokenFile: true} // tested below
	for _, tc := range cases {
		seen[tc.key] = true
		t.Run(tc.key, func(t *testing.T) {
			def, err := LoadConfig(MapGetter{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, tc.def(def), cmp.Comparer(func(a, b *time.Location) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("default (-want +got):\n%s", diff)
			}
			good, err := LoadConfig(MapGetter{tc.key: tc.good})
			if err != nil {
				t.Fatalf("good value %q: %v", tc.good, err)
			}
			if diff := cmp.Diff(tc.gv, tc.got(good), cmp.Comparer(func(a, b *time.Location) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("good value %q (-want +got):\n%s", tc.good, diff)
			}
			_, err = LoadConfig(MapGetter{tc.key: tc.bad})
			if err == nil {
				t.Fatalf("bad value %q: no error", tc.bad)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name the key %s", err, tc.key)
			}
		})
	}
	for _, k := range Keys() {
		if !seen[k] {
			t.Errorf("key %s has no test case", k)
		}
	}
}

func TestLoadConfigToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(testToken+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte(testToken+"\x01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		src       MapGetter
		wantToken string
		wantErr   string // substring; "" = success
	}{
		{"unset", MapGetter{}, "", ""},
		{"inline", MapGetter{KeyInfluxToken: testToken}, testToken, ""},
		{"inline trimmed", MapGetter{KeyInfluxToken: " " + testToken + "\n"}, testToken, ""},
		{"file, newline trimmed", MapGetter{KeyInfluxTokenFile: file}, testToken, ""},
		{"both", MapGetter{KeyInfluxToken: testToken, KeyInfluxTokenFile: file}, "", KeyInfluxTokenFile},
		{"missing file", MapGetter{KeyInfluxTokenFile: filepath.Join(dir, "nope")}, "", KeyInfluxTokenFile},
		{"control char inline", MapGetter{KeyInfluxToken: testToken + "\x01"}, "", KeyInfluxToken},
		{"control char in file", MapGetter{KeyInfluxTokenFile: bad}, "", KeyInfluxTokenFile},
		{"credentials in url", MapGetter{KeyInfluxURL: "http://admin:" + testToken + "@127.0.0.1:8086"}, "", KeyInfluxURL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadConfig(tc.src)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not name %s", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error reveals the token: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.InfluxToken != tc.wantToken {
				t.Errorf("token mismatch (len want %d, got %d)", len(tc.wantToken), len(c.InfluxToken))
			}
			s := c.String()
			if strings.Contains(s, testToken) {
				t.Errorf("String reveals the token: %s", s)
			}
			want := "influx_token=(unset)"
			if tc.wantToken != "" {
				want = "influx_token=****"
			}
			if !strings.Contains(s, want) {
				t.Errorf("String() = %s, want it to contain %s", s, want)
			}
		})
	}
}

func TestConfigString(t *testing.T) {
	c, err := LoadConfig(MapGetter{
		KeyInfluxToken: testToken, KeyInfluxBucket: "db/rp", KeyTimeZone: "Europe/Berlin",
		KeyMeasurement: "mail sessions", KeyUserCase: "lower", KeyExcludeIPs: "127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `influx_url=http://127.0.0.1:8086 influx_org="" influx_bucket=db/rp influx_token=**** ` +
		`influx_token_file="" influx_timeout=10s influx_tls_ca_file="" influx_tls_insecure_skip_verify=false ` +
		`influx_gzip=true batch_size=5000 measurement="mail sessions" dedup=true dedup_window=10m0s ` +
		`dedup_max_entries=1000000 dedup_tolerance=1s time_zone=Europe/Berlin ` +
		`identifiers=imapd,imapd-ssl,pop3d,pop3d-ssl,imaplogin,courierpop3login,couriertcpd user_case=lower ` +
		`count_unauthenticated=false exclude_ips=127.0.0.1/32 log_key=log ident_key=ident,SYSLOG_IDENTIFIER ` +
		`host_key=host,_HOSTNAME message_key=message,MESSAGE time_key=_SOURCE_REALTIME_TIMESTAMP ` +
		`stats_interval=1m0s stats_measurement=""`
	if diff := cmp.Diff(want, c.String()); diff != "" {
		t.Errorf("String() (-want +got):\n%s", diff)
	}
	if strings.Contains(want, "\n") {
		t.Error("String is not one line")
	}
}

func TestMapGetterCaseInsensitive(t *testing.T) {
	g := MapGetter{"batch_size": "7"}
	if got := g.Get("Batch_Size"); got != "7" {
		t.Errorf("Get(Batch_Size) = %q, want 7", got)
	}
	c, err := LoadConfig(g)
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != 7 {
		t.Errorf("BatchSize = %d, want 7", c.BatchSize)
	}
}

func TestParseBool(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
		ok   bool
	}{
		{"true", true, true}, {"TRUE", true, true}, {"on", true, true}, {"Yes", true, true}, {"1", true, true},
		{"false", false, true}, {"Off", false, true}, {"no", false, true}, {"0", false, true},
		{"", false, false}, {"y", false, false}, {"2", false, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBool(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseBool(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestLoadConfigJoinsErrors(t *testing.T) {
	_, err := LoadConfig(MapGetter{KeyBatchSize: "0", KeyDedup: "x"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, k := range []string{KeyBatchSize, KeyDedup} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error %q misses %s", err, k)
		}
	}
}

// selfSignedPEM creates a throw-away self-signed CA certificate.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "courier-traffic-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestDedupToleranceBounds(t *testing.T) {
	cases := []struct {
		name string
		in   MapGetter
		want string // "" for valid
	}{
		{"default", MapGetter{}, ""},
		{"sub-second", MapGetter{KeyDedupTolerance: "250ms"}, ""},
		{"equal to the window", MapGetter{KeyDedupTolerance: "1m", KeyDedupWindow: "1m"}, ""},
		{"over the window", MapGetter{KeyDedupTolerance: "2m", KeyDedupWindow: "1m"}, "must not exceed dedup_window"},
		{"over an hour", MapGetter{KeyDedupTolerance: "61m", KeyDedupWindow: "2h"}, "at most 1h"},
		{"negative", MapGetter{KeyDedupTolerance: "-1ms"}, "must be positive"},
		{"not a duration", MapGetter{KeyDedupTolerance: "1"}, "not a duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), KeyDedupTolerance)):
				t.Fatalf("error %q: want it to name %s and say %q", err, KeyDedupTolerance, tc.want)
			}
		})
	}
}
