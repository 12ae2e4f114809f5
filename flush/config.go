package flush

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courier-traffic/courier-traffic/parser"
)

// Getter is the one-method configuration source: Fluent Bit properties in the
// plugin (case-insensitive; a missing key and an empty value look the same:
// ""), a map in tests, CLI flags in the CLI.
type Getter interface{ Get(key string) string }

// MapGetter is a Getter over a map; Get looks up strings.ToLower(key), so the
// map's keys must be lower case.
type MapGetter map[string]string

// Get returns m[strings.ToLower(key)] ("" when missing).
func (m MapGetter) Get(key string) string { return m[strings.ToLower(key)] }

// Configuration keys, in the order of Keys and Config.String.
const (
	KeyInfluxURL             = "influx_url"
	KeyInfluxOrg             = "influx_org"
	KeyInfluxBucket          = "influx_bucket"
	KeyInfluxToken           = "influx_token"
	KeyInfluxTokenFile       = "influx_token_file"
	KeyInfluxTimeout         = "influx_timeout"
	KeyInfluxTLSCAFile       = "influx_tls_ca_file"
	KeyInfluxTLSInsecure     = "influx_tls_insecure_skip_verify"
	KeyInfluxGzip            = "influx_gzip"
	KeyBatchSize             = "batch_size"
	KeyMeasurement           = "measurement"
	KeyDedup                 = "dedup"
	KeyDedupWindow           = "dedup_window"
	KeyDedupMaxEntries       = "dedup_max_entries"
	KeyDedupTolerance        = "dedup_tolerance"
	KeyTimeZone              = "time_zone"
	KeyIdentifiers           = "identifiers"
	KeyUserCase              = "user_case"
	KeyCountUnauthenticated  = "count_unauthenticated"
	KeyExcludeIPs            = "exclude_ips"
	KeyLogKey                = "log_key"
	KeyIdentKey              = "ident_key"
	KeyHostKey               = "host_key"
	KeyMessageKey            = "message_key"
	KeyTimeKey               = "time_key"
	KeyStatsInterval         = "stats_interval"
	KeyStatsMeasurement      = "stats_measurement"
	maxBatchSize             = 1000000
	maxDedupEntries          = 100000000
	defaultInfluxURL         = "http://127.0.0.1:8086"
	defaultBucket            = "courier/autogen"
	defaultMeasurement       = "courier_session"
	defaultTimeout           = 10 * time.Second
	defaultBatchSize         = 5000
	defaultDedupWindow       = 10 * time.Minute
	defaultDedupMaxEntries   = 1000000
	defaultDedupTolerance    = time.Second
	maxDedupTolerance        = time.Hour
	defaultStatsInterval     = 60 * time.Second
	tokenMask                = "****"
	tokenUnset               = "(unset)"
	userCaseKeep             = "keep"
	userCaseLower            = "lower"
	defaultTimeZoneName      = "Local"
	defaultLogKeys           = "log"
	defaultIdentKeys         = "ident,SYSLOG_IDENTIFIER"
	defaultHostKeys          = "host,_HOSTNAME"
	defaultMessageKeys       = "message,MESSAGE"
	defaultTimeKeys          = "_SOURCE_REALTIME_TIMESTAMP"
	unauthenticatedUserValue = "(none)"
)

var allKeys = []string{
	KeyInfluxURL, KeyInfluxOrg, KeyInfluxBucket, KeyInfluxToken, KeyInfluxTokenFile,
	KeyInfluxTimeout, KeyInfluxTLSCAFile, KeyInfluxTLSInsecure, KeyInfluxGzip,
	KeyBatchSize, KeyMeasurement, KeyDedup, KeyDedupWindow, KeyDedupMaxEntries,
	KeyDedupTolerance, KeyTimeZone, KeyIdentifiers, KeyUserCase, KeyCountUnauthenticated, KeyExcludeIPs,
	KeyLogKey, KeyIdentKey, KeyHostKey, KeyMessageKey, KeyTimeKey,
	KeyStatsInterval, KeyStatsMeasurement,
}

// Keys lists every key LoadConfig reads, in a stable order (for docs and the
// config-file tests). The caller owns the returned slice.
func Keys() []string { return append([]string(nil), allKeys...) }

// Config is the validated configuration of a Flusher. LoadConfig fills every
// field; a Config built by hand should start from DefaultConfig.
type Config struct {
	InfluxURL    string // influx_url: base URL of the server (http or https, no credentials)
	InfluxOrg    string // influx_org: organisation (ignored by InfluxDB 1.8)
	InfluxBucket string // influx_bucket: "bucket" (v2) or "db/rp" / "db" (1.8)
	// InfluxToken is the API token ("user:password" for 1.8), from
	// influx_token or the contents of influx_token_file. Never logged:
	// String masks it.
	InfluxToken     string
	InfluxTokenFile string        // influx_token_file: path the token was read from ("" if none)
	InfluxTimeout   time.Duration // influx_timeout: per HTTP request, > 0

	InfluxTLSCAFile       string // influx_tls_ca_file: PEM bundle of extra trusted CAs
	InfluxTLSInsecureSkip bool   // influx_tls_insecure_skip_verify
	InfluxGzip            bool   // influx_gzip: gzip request bodies

	BatchSize   int    // batch_size: points per HTTP request, 1..1000000
	Measurement string // measurement: of the session points

	Dedup           bool          // dedup: drop repeated records
	DedupWindow     time.Duration // dedup_window: event-time window of the seen-set, > 0
	DedupMaxEntries int           // dedup_max_entries: bound of the seen-set, >= 1
	// DedupTolerance (dedup_tolerance, 0..1h and at most dedup_window):
	// copies of a record whose times are less than this apart are one
	// session (see RepeatSet); 0 means only equal times.
	DedupTolerance time.Duration
	// DedupClock (not a key; LoadConfig sets it) keeps a delivered session
	// while it was seen within dedup_window of running time, whatever its
	// event time (RepeatSet.SetNow): Fluent Bit retries a chunk, or replays
	// a backlog chunk spanning hours of log, that needs it. The CLI, which
	// never retries a write, turns it off so that a back-fill of months
	// keeps only dedup_window of event time in memory.
	DedupClock bool

	TimeZone string         // time_zone as given ("Local", "UTC", an IANA name)
	Location *time.Location // time_zone resolved: the zone of year-less, zone-less stamps
	// Year, when non-zero, is the year of every year-less stamp instead of
	// the inferred one. Not a plugin key (live data is always inferred from
	// the record time): the CLI sets it from --year for old files.
	Year int

	Identifiers          []string       // identifiers: syslog identifiers accepted as Courier
	LowerUser            bool           // user_case: true for "lower" (applies to the user tag)
	CountUnauthenticated bool           // count_unauthenticated: write pre-login sessions as user "(none)"
	ExcludeIPs           []netip.Prefix // exclude_ips: sessions from these are skipped (v4-mapped addresses unwrapped)

	// Record keys for structured records (plugin only). Each is a list:
	// the first key present in a record wins.
	LogKeys     []string // log_key: the raw syslog line (tail input)
	IdentKeys   []string // ident_key: the syslog identifier
	HostKeys    []string // host_key: the syslog host
	MessageKeys []string // message_key: the message without the syslog header
	// TimeKeys: microseconds since the epoch (decimal string or integer),
	// as systemd's _SOURCE_REALTIME_TIMESTAMP; when absent the record
	// time is used.
	TimeKeys []string

	StatsInterval    time.Duration // stats_interval: periodic stats log; 0 disables it
	StatsMeasurement string        // stats_measurement: write stats points to this measurement ("" = off)
}

// DefaultConfig returns the configuration LoadConfig gives for an empty
// Getter.
func DefaultConfig() *Config {
	c, err := LoadConfig(MapGetter{})
	if err != nil {
		// The defaults are constants validated by the tests; reaching this is
		// a programming error, not bad input.
		panic("flush: default configuration invalid: " + err.Error())
	}
	return c
}

// configError names the key and, unless the key is secret, the value.
func configError(key, value string, err error) error {
	return fmt.Errorf("flush config: %s=%q: %w", key, value, err)
}

// LoadConfig reads and validates every key of Keys from src. Values are
// trimmed of surrounding white space; "" means the default. An error names
// the key and the bad value, except for the token, whose value never
// appears in an error.
func LoadConfig(src Getter) (*Config, error) {
	if src == nil {
		src = MapGetter{}
	}
	get := func(key string) string { return strings.TrimSpace(src.Get(key)) }
	c := &Config{}
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	// influx_url
	c.InfluxURL = orDefault(get(KeyInfluxURL), defaultInfluxURL)
	if err := checkURL(c.InfluxURL); err != nil {
		// A URL with credentials is rejected before it could be echoed.
		if strings.Contains(c.InfluxURL, "@") {
			fail(fmt.Errorf("flush config: %s: %w", KeyInfluxURL, err))
		} else {
			fail(configError(KeyInfluxURL, c.InfluxURL, err))
		}
	}
	c.InfluxOrg = get(KeyInfluxOrg)
	if err := checkText(c.InfluxOrg); err != nil {
		fail(configError(KeyInfluxOrg, c.InfluxOrg, err))
	}
	c.InfluxBucket = orDefault(get(KeyInfluxBucket), defaultBucket)
	if err := checkBucket(c.InfluxBucket); err != nil {
		fail(configError(KeyInfluxBucket, c.InfluxBucket, err))
	}

	// Token: never echo the value.
	token := src.Get(KeyInfluxToken)
	c.InfluxTokenFile = get(KeyInfluxTokenFile)
	switch {
	case strings.TrimSpace(token) != "" && c.InfluxTokenFile != "":
		fail(fmt.Errorf("flush config: %s and %s are both set: use one", KeyInfluxToken, KeyInfluxTokenFile))
	case c.InfluxTokenFile != "":
		data, err := os.ReadFile(c.InfluxTokenFile)
		if err != nil {
			fail(configError(KeyInfluxTokenFile, c.InfluxTokenFile, err))
			break
		}
		c.InfluxToken = strings.TrimRight(string(data), "\r\n")
		if err := checkToken(c.InfluxToken); err != nil {
			fail(fmt.Errorf("flush config: %s=%q: file content: %w", KeyInfluxTokenFile, c.InfluxTokenFile, err))
		}
	default:
		c.InfluxToken = strings.TrimSpace(token)
		if err := checkToken(c.InfluxToken); err != nil {
			fail(fmt.Errorf("flush config: %s: %w", KeyInfluxToken, err))
		}
	}

	c.InfluxTimeout = parseDuration(get, KeyInfluxTimeout, defaultTimeout, false, fail)
	c.InfluxTLSCAFile = get(KeyInfluxTLSCAFile)
	if c.InfluxTLSCAFile != "" {
		if _, err := loadCAFile(c.InfluxTLSCAFile); err != nil {
			fail(configError(KeyInfluxTLSCAFile, c.InfluxTLSCAFile, err))
		}
	}
	c.InfluxTLSInsecureSkip = parseBool(get, KeyInfluxTLSInsecure, false, fail)
	c.InfluxGzip = parseBool(get, KeyInfluxGzip, true, fail)
	c.BatchSize = parseInt(get, KeyBatchSize, defaultBatchSize, 1, maxBatchSize, fail)
	c.Measurement = orDefault(get(KeyMeasurement), defaultMeasurement)
	if err := checkName(c.Measurement); err != nil {
		fail(configError(KeyMeasurement, c.Measurement, err))
	}
	c.Dedup = parseBool(get, KeyDedup, true, fail)
	c.DedupWindow = parseDuration(get, KeyDedupWindow, defaultDedupWindow, false, fail)
	c.DedupMaxEntries = parseInt(get, KeyDedupMaxEntries, defaultDedupMaxEntries, 1, maxDedupEntries, fail)
	c.DedupTolerance = parseDuration(get, KeyDedupTolerance, defaultDedupTolerance, true, fail)
	c.DedupClock = true
	switch v := get(KeyDedupTolerance); {
	case c.DedupTolerance > maxDedupTolerance:
		fail(configError(KeyDedupTolerance, v, fmt.Errorf("must be at most %v", maxDedupTolerance)))
		c.DedupTolerance = defaultDedupTolerance
	case c.DedupTolerance > c.DedupWindow:
		fail(configError(KeyDedupTolerance, v, fmt.Errorf("must not exceed %s (%v)", KeyDedupWindow, c.DedupWindow)))
		c.DedupTolerance = min(defaultDedupTolerance, c.DedupWindow)
	}

	c.TimeZone = orDefault(get(KeyTimeZone), defaultTimeZoneName)
	if loc, err := loadZone(c.TimeZone); err != nil {
		fail(configError(KeyTimeZone, c.TimeZone, err))
	} else {
		c.Location = loc
	}

	if v := get(KeyIdentifiers); v == "" {
		c.Identifiers = append([]string(nil), parser.DefaultIdentifiers...)
	} else if ids, err := splitList(v, checkIdentifier); err != nil {
		fail(configError(KeyIdentifiers, v, err))
	} else {
		c.Identifiers = ids
	}

	switch v := strings.ToLower(get(KeyUserCase)); v {
	case "", userCaseKeep:
	case userCaseLower:
		c.LowerUser = true
	default:
		fail(configError(KeyUserCase, get(KeyUserCase), errors.New(`want "keep" or "lower"`)))
	}
	c.CountUnauthenticated = parseBool(get, KeyCountUnauthenticated, false, fail)
	if v := get(KeyExcludeIPs); v != "" {
		ps, err := parseExcludeIPs(v)
		if err != nil {
			fail(configError(KeyExcludeIPs, v, err))
		}
		c.ExcludeIPs = ps
	}

	c.LogKeys = parseKeyList(get, KeyLogKey, defaultLogKeys, fail)
	c.IdentKeys = parseKeyList(get, KeyIdentKey, defaultIdentKeys, fail)
	c.HostKeys = parseKeyList(get, KeyHostKey, defaultHostKeys, fail)
	c.MessageKeys = parseKeyList(get, KeyMessageKey, defaultMessageKeys, fail)
	c.TimeKeys = parseKeyList(get, KeyTimeKey, defaultTimeKeys, fail)

	c.StatsInterval = parseDuration(get, KeyStatsInterval, defaultStatsInterval, true, fail)
	c.StatsMeasurement = get(KeyStatsMeasurement)
	if c.StatsMeasurement != "" {
		if err := checkName(c.StatsMeasurement); err != nil {
			fail(configError(KeyStatsMeasurement, c.StatsMeasurement, err))
		}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// String returns the effective configuration on one line as key=value pairs
// in Keys order, the token masked as "****" (or "(unset)"). Values that
// contain spaces, quotes or are empty are quoted.
func (c *Config) String() string {
	var sb strings.Builder
	add := func(key, value string) {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(key)
		sb.WriteByte('=')
		if value == "" || strings.ContainsAny(value, " \t\"'=\\") || !isPrintable(value) {
			sb.WriteString(strconv.Quote(value))
		} else {
			sb.WriteString(value)
		}
	}
	token := tokenUnset
	if c.InfluxToken != "" {
		token = tokenMask
	}
	userCase := userCaseKeep
	if c.LowerUser {
		userCase = userCaseLower
	}
	ips := make([]string, len(c.ExcludeIPs))
	for i, p := range c.ExcludeIPs {
		ips[i] = p.String()
	}
	add(KeyInfluxURL, c.InfluxURL)
	add(KeyInfluxOrg, c.InfluxOrg)
	add(KeyInfluxBucket, c.InfluxBucket)
	add(KeyInfluxToken, token)
	add(KeyInfluxTokenFile, c.InfluxTokenFile)
	add(KeyInfluxTimeout, c.InfluxTimeout.String())
	add(KeyInfluxTLSCAFile, c.InfluxTLSCAFile)
	add(KeyInfluxTLSInsecure, strconv.FormatBool(c.InfluxTLSInsecureSkip))
	add(KeyInfluxGzip, strconv.FormatBool(c.InfluxGzip))
	add(KeyBatchSize, strconv.Itoa(c.BatchSize))
	add(KeyMeasurement, c.Measurement)
	add(KeyDedup, strconv.FormatBool(c.Dedup))
	add(KeyDedupWindow, c.DedupWindow.String())
	add(KeyDedupMaxEntries, strconv.Itoa(c.DedupMaxEntries))
	add(KeyDedupTolerance, c.DedupTolerance.String())
	add(KeyTimeZone, c.TimeZone)
	add(KeyIdentifiers, strings.Join(c.Identifiers, ","))
	add(KeyUserCase, userCase)
	add(KeyCountUnauthenticated, strconv.FormatBool(c.CountUnauthenticated))
	add(KeyExcludeIPs, strings.Join(ips, ","))
	add(KeyLogKey, strings.Join(c.LogKeys, ","))
	add(KeyIdentKey, strings.Join(c.IdentKeys, ","))
	add(KeyHostKey, strings.Join(c.HostKeys, ","))
	add(KeyMessageKey, strings.Join(c.MessageKeys, ","))
	add(KeyTimeKey, strings.Join(c.TimeKeys, ","))
	add(KeyStatsInterval, c.StatsInterval.String())
	add(KeyStatsMeasurement, c.StatsMeasurement)
	return sb.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func checkText(s string) error {
	if !isPrintable(s) {
		return errors.New("contains control characters or invalid UTF-8")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New(`scheme must be "http" or "https"`)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	if u.User != nil {
		// Credentials in the URL would end up in logged error messages.
		return fmt.Errorf("credentials in the URL are not allowed: use %s or %s", KeyInfluxToken, KeyInfluxTokenFile)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("query or fragment not allowed")
	}
	return nil
}

func checkBucket(s string) error {
	if err := checkText(s); err != nil {
		return err
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return errors.New(`want "bucket", "db" or "db/rp"`)
	}
	return nil
}

func checkToken(s string) error {
	// The value itself must never be echoed.
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return errors.New("contains control characters (value not shown)")
		}
	}
	return nil
}

// checkName validates a measurement name as the line-protocol encoder will.
func checkName(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	if !isPrintable(s) {
		return errors.New("contains control characters")
	}
	if strings.HasSuffix(s, `\`) {
		return errors.New("ends with a backslash")
	}
	return nil
}

func checkIdentifier(s string) error {
	if strings.ContainsAny(s, " \t:[]") || !isPrintable(s) {
		return fmt.Errorf("identifier %q contains a space, ':', '[' or ']'", s)
	}
	return nil
}

func checkKey(s string) error {
	if !isPrintable(s) {
		return fmt.Errorf("key %q contains control characters", s)
	}
	return nil
}

// splitList splits a comma list, trims its elements and rejects empty ones.
func splitList(v string, check func(string) error) ([]string, error) {
	parts := strings.Split(v, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, errors.New("empty element in comma list")
		}
		if err := check(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseKeyList(get func(string) string, key, def string, fail func(error)) []string {
	v := orDefault(get(key), def)
	out, err := splitList(v, checkKey)
	if err != nil {
		fail(configError(key, v, err))
	}
	return out
}

// ParseBool accepts true/false/on/off/yes/no/1/0, case-insensitively.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "1":
		return true, nil
	case "false", "off", "no", "0":
		return false, nil
	}
	return false, errors.New("want true/false, on/off, yes/no or 1/0")
}

func parseBool(get func(string) string, key string, def bool, fail func(error)) bool {
	v := get(key)
	if v == "" {
		return def
	}
	b, err := ParseBool(v)
	if err != nil {
		fail(configError(key, v, err))
		return def
	}
	return b
}

func parseInt(get func(string) string, key string, def, lo, hi int, fail func(error)) int {
	v := get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fail(configError(key, v, errors.New("not an integer")))
		return def
	}
	if n < lo || n > hi {
		fail(configError(key, v, fmt.Errorf("out of range %d..%d", lo, hi)))
		return def
	}
	return n
}

func parseDuration(get func(string) string, key string, def time.Duration, zeroOK bool, fail func(error)) time.Duration {
	v := get(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fail(configError(key, v, errors.New(`not a duration (examples: "10s", "1m30s")`)))
		return def
	}
	if d < 0 || (d == 0 && !zeroOK) {
		fail(configError(key, v, errors.New("must be positive")))
		return def
	}
	return d
}

func loadZone(name string) (*time.Location, error) {
	switch {
	case strings.EqualFold(name, "local"):
		return time.Local, nil
	case strings.EqualFold(name, "utc"):
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("unknown time zone (want an IANA name, UTC or Local)")
	}
	return loc, nil
}

func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// parseExcludeIPs reads a comma list of CIDRs or addresses. IPv4-mapped
// IPv6 forms are unwrapped so that "::ffff:192.0.2.0/120" and
// "192.0.2.0/24" mean the same; addresses are matched unwrapped too.
func parseExcludeIPs(v string) ([]netip.Prefix, error) {
	parts, err := splitList(v, func(string) error { return nil })
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(parts))
	for _, s := range parts {
		var p netip.Prefix
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q: not a CIDR", s)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q: not an IP address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return nil, fmt.Errorf("%q: an IPv4-mapped prefix needs at least /96", s)
			}
			p = netip.PrefixFrom(a.Unmap(), bits)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
