package flush

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-traffic/courier-traffic/parser"
	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	http2 "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// ApplicationName is sent in the User-Agent of every request.
const ApplicationName = "courier-traffic"

// Stats are cumulative counters since New. Every record handed to a Batch
// is counted exactly once in Records and in exactly one of Traffic,
// NotTraffic, SyntaxErrors, Invalid and Markers; a Traffic record (or a
// repeat copy) then either becomes a point or is counted in Repeats,
// Excluded, Unauthenticated or Rejected. Counters of a Batch are added when
// it is written.
type Stats struct {
	Records         int64 // records handed to AddLine, AddMessage, AddInvalid
	Traffic         int64 // records that parsed as session ends with counters
	NotTraffic      int64 // other lines (other daemons, LOGIN, ...)
	SyntaxErrors    int64 // lines claiming to be Courier traffic but broken
	Invalid         int64 // records that could not be read at all (AddInvalid)
	Repeats         int64 // records dropped as repeats, plus repeat markers dropped with dedup on
	Excluded        int64 // sessions from exclude_ips
	Unauthenticated int64 // pre-login sessions skipped (count_unauthenticated false)
	PointsWritten   int64 // points in requests InfluxDB accepted
	Requests        int64 // HTTP write requests made
	Retries         int64 // Write calls that returned Retry
	Drops           int64 // Write calls that returned Drop

	Markers       int64 // rsyslog repeat-marker records ("message repeated N times", "last message repeated N times")
	Expanded      int64 // copies added from repeat markers (dedup off)
	Rejected      int64 // points the line protocol cannot carry (invalid UTF-8, control characters, ...)
	PointsDropped int64 // points in requests that answered Drop
}

func (s Stats) String() string {
	return fmt.Sprintf("records=%d traffic=%d not_traffic=%d syntax_errors=%d invalid=%d repeats=%d "+
		"excluded=%d unauthenticated=%d markers=%d expanded=%d rejected=%d points_written=%d "+
		"points_dropped=%d requests=%d retries=%d drops=%d",
		s.Records, s.Traffic, s.NotTraffic, s.SyntaxErrors, s.Invalid, s.Repeats,
		s.Excluded, s.Unauthenticated, s.Markers, s.Expanded, s.Rejected, s.PointsWritten,
		s.PointsDropped, s.Requests, s.Retries, s.Drops)
}

type counters struct {
	records, traffic, notTraffic, syntaxErrors, invalid, repeats,
	excluded, unauthenticated, pointsWritten, requests, retries, drops,
	markers, expanded, rejected, pointsDropped atomic.Int64
}

// Flusher turns records into points and writes them to InfluxDB. One per
// plugin instance or CLI run. All methods are safe for concurrent use.
type Flusher struct {
	cfg     *Config
	log     Logger
	parser  *parser.Parser
	dedup   *Dedup
	repeats *RepeatTracker
	client  influxdb2.Client
	httpSvc http2.Service
	hc      *http.Client
	// writeURL is the client's /api/v2/write URL (org, bucket, precision
	// ns); gzips holds idle gzip writers (see post).
	writeURL string
	gzips    chan *gzip.Writer
	secrets  []string // strings scrubbed from every logged server message

	stats counters
	pool  sync.Pool

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// New validates nothing beyond what LoadConfig did, builds the parser and
// the InfluxDB client (no request is made), and starts the stats ticker when
// cfg.StatsInterval > 0. log may be nil (no logging). The Flusher keeps
// cfg: the caller must not change it afterwards. Close releases it.
func New(cfg *Config, log Logger) (*Flusher, error) {
	if cfg == nil {
		return nil, errors.New("flush: nil config")
	}
	if log == nil {
		log = func(Level, string) {}
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.Local
	}
	p, err := parser.New(parser.Options{Identifiers: cfg.Identifiers, Location: loc, Year: cfg.Year})
	if err != nil {
		return nil, fmt.Errorf("flush: %s: %w", KeyIdentifiers, err)
	}
	hc, err := NewHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPClient(hc).
		SetUseGZip(cfg.InfluxGzip).
		SetPrecision(time.Nanosecond).
		SetApplicationName(ApplicationName).
		SetBatchSize(uint(max(cfg.BatchSize, 1))).
		// MaxRetries only concerns the async WriteAPI, which is never used:
		// retries belong to Fluent Bit (docs/design.md, Delivery and retries).
		SetMaxRetries(0)
	client := influxdb2.NewClientWithOptions(cfg.InfluxURL, cfg.InfluxToken, opts)
	f := &Flusher{
		cfg:      cfg,
		log:      log,
		parser:   p,
		dedup:    NewDedup(cfg.DedupTolerance, cfg.DedupWindow, cfg.DedupMaxEntries, cfg.DedupClock),
		repeats:  NewRepeatTracker(),
		client:   client,
		httpSvc:  client.HTTPService(),
		hc:       hc,
		writeURL: writeURL(client.HTTPService().ServerAPIURL(), cfg.InfluxOrg, cfg.InfluxBucket),
		gzips:    make(chan *gzip.Writer, gzipIdle),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if t := cfg.InfluxToken; t != "" {
		f.secrets = append(f.secrets, t)
		if _, pw, ok := strings.Cut(t, ":"); ok && pw != "" {
			f.secrets = append(f.secrets, pw)
		}
	}
	f.pool.New = func() any { return &Batch{f: f} }
	if cfg.StatsInterval > 0 {
		go f.statsLoop(cfg.StatsInterval)
	} else {
		close(f.done)
	}
	return f, nil
}

// writeURL is the URL the client's WriteAPIBlocking posts to: api/v2/write
// below apiURL with org, bucket and precision=ns (the client's
// SetPrecision(time.Nanosecond)).
func writeURL(apiURL, org, bucket string) string {
	u, err := url.Parse(apiURL)
	if err != nil {
		return apiURL + "write"
	}
	u, _ = u.Parse("write")
	q := u.Query()
	q.Set("org", org)
	q.Set("bucket", bucket)
	q.Set("precision", "ns")
	u.RawQuery = q.Encode()
	return u.String()
}

// NewHTTPClient returns the HTTP client for cfg's InfluxDB: its timeout
// (influx_timeout), the CAs of influx_tls_ca_file and
// influx_tls_insecure_skip_verify. The Flusher writes with one; the CLI's
// queries (report --influx-url, influxql) use one too, so that every
// request to InfluxDB trusts the same certificates.
func NewHTTPClient(cfg *Config) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.InfluxTLSCAFile != "" {
		pool, err := loadCAFile(cfg.InfluxTLSCAFile)
		if err != nil {
			return nil, configError(KeyInfluxTLSCAFile, cfg.InfluxTLSCAFile, err)
		}
		tlsCfg.RootCAs = pool
	}
	// The operator asked for it explicitly (influx_tls_insecure_skip_verify).
	tlsCfg.InsecureSkipVerify = cfg.InfluxTLSInsecureSkip //nolint:gosec
	tr.TLSClientConfig = tlsCfg
	timeout := cfg.InfluxTimeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// Config returns the configuration the Flusher runs with (not to be
// modified).
func (f *Flusher) Config() *Config { return f.cfg }

// Stats returns a snapshot of the counters.
func (f *Flusher) Stats() Stats {
	c := &f.stats
	return Stats{
		Records: c.records.Load(), Traffic: c.traffic.Load(), NotTraffic: c.notTraffic.Load(),
		SyntaxErrors: c.syntaxErrors.Load(), Invalid: c.invalid.Load(), Repeats: c.repeats.Load(),
		Excluded: c.excluded.Load(), Unauthenticated: c.unauthenticated.Load(),
		PointsWritten: c.pointsWritten.Load(), Requests: c.requests.Load(),
		Retries: c.retries.Load(), Drops: c.drops.Load(), Markers: c.markers.Load(),
		Expanded: c.expanded.Load(), Rejected: c.rejected.Load(), PointsDropped: c.pointsDropped.Load(),
	}
}

// Close stops the stats ticker, logs the final statistics (and writes them
// as a point when stats_measurement is set, bounded by influx_timeout) and
// releases idle connections. Idempotent. Write must not be called after
// Close.
func (f *Flusher) Close() {
	f.closeOnce.Do(func() {
		close(f.stop)
		<-f.done
		f.logStats("final")
		f.client.Close()
		f.hc.CloseIdleConnections()
	})
}

func (f *Flusher) statsLoop(every time.Duration) {
	defer close(f.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.logStats("periodic")
		}
	}
}

func (f *Flusher) logStats(kind string) {
	s := f.Stats()
	f.log(LevelInfo, "stats ("+kind+"): "+s.String())
	if f.cfg.StatsMeasurement == "" {
		return
	}
	if err := f.writeStats(s); err != nil {
		f.log(LevelWarn, "writing stats point to "+f.cfg.StatsMeasurement+": "+f.redact(err.Error()))
	}
}

// writeStats writes s as one point; the tags host (this machine) and
// measurement (the data measurement) tell plugin instances apart.
func (f *Flusher) writeStats(s Stats) error {
	var enc lineprotocol.Encoder
	enc.SetPrecision(lineprotocol.Nanosecond)
	enc.StartLine(f.cfg.StatsMeasurement)
	if h, err := os.Hostname(); err == nil && h != "" {
		enc.AddTag("host", h)
	}
	enc.AddTag("measurement", f.cfg.Measurement)
	for _, kv := range []struct {
		k string
		v int64
	}{
		{"records", s.Records}, {"traffic", s.Traffic}, {"not_traffic", s.NotTraffic},
		{"syntax_errors", s.SyntaxErrors}, {"invalid", s.Invalid}, {"repeats", s.Repeats},
		{"excluded", s.Excluded}, {"unauthenticated", s.Unauthenticated}, {"markers", s.Markers},
		{"expanded", s.Expanded}, {"rejected", s.Rejected}, {"points_written", s.PointsWritten},
		{"points_dropped", s.PointsDropped}, {"requests", s.Requests}, {"retries", s.Retries},
		{"drops", s.Drops},
	} {
		enc.AddField(kv.k, lineprotocol.IntValue(kv.v))
	}
	enc.EndLine(time.Now())
	if err := enc.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.hc.Timeout)
	defer cancel()
	status, msg, err := f.post(ctx, enc.Bytes())
	if Classify(status, err) != Delivered {
		return fmt.Errorf("status %d: %s", status, msg)
	}
	return nil
}

// redact removes the token (and its password part) from s. Server and
// transport messages do not contain it; this is the last line of defence.
func (f *Flusher) redact(s string) string {
	for _, sec := range f.secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, tokenMask)
		}
	}
	return s
}

// gzipLevel compresses request bodies (influx_gzip). BestSpeed, not the
// default level 6: on the plugin's line protocol it costs a quarter of
// the CPU (5.6 against 22 ns per body byte, about 0.37 against 1.5 µs per
// tail record of the realistic mix) for a body of 21.6% instead of 15.1%
// of the plain size (docs/performance.md, The plugin inside its host).
const gzipLevel = gzip.BestSpeed

// gzipIdle is how many idle gzip writers a Flusher keeps (one per
// concurrent flush; a writer holds about 1 MB of compressor state).
const gzipIdle = 2

// post sends one line-protocol body to InfluxDB's write endpoint through
// the client's HTTP service (its Authorization and User-Agent headers and
// its *http2.Error for any answer but 2xx, as the client's blocking write
// API does). It returns the HTTP status (204 on success, 0 when no answer
// came) and the server's message (or the transport error's text).
//
// The body is gzipped here, synchronously, into a buffer of its own with
// a pooled writer (the client's own gzip allocates a new compressor and a
// goroutine per request, at the default level). The request then reads a
// buffer that nothing else writes: net/http may still read a body after a
// failed request returned, and the batch's buffer is reused, so without
// gzip the body is copied.
func (f *Flusher) post(ctx context.Context, body []byte) (status int, msg string, err error) {
	f.stats.requests.Add(1)
	var payload []byte
	if f.cfg.InfluxGzip {
		payload = f.gzip(body)
	} else {
		payload = bytes.Clone(body)
	}
	perr := f.httpSvc.DoPostRequest(ctx, f.writeURL, bytes.NewReader(payload), f.setEncoding, closeBody)
	if perr == nil {
		return http.StatusNoContent, "", nil
	}
	err = perr
	status = perr.StatusCode
	switch {
	case perr.Message != "":
		msg = perr.Message
	case perr.Err != nil:
		msg = perr.Err.Error()
	case perr.Code != "":
		msg = perr.Code
	}
	if msg == "" {
		msg = err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		msg = "timeout: " + msg
	}
	return status, f.redact(strings.TrimSpace(msg)), err
}

// gzip returns body gzipped (gzipLevel) in a new buffer.
func (f *Flusher) gzip(body []byte) []byte {
	var zw *gzip.Writer
	select {
	case zw = <-f.gzips:
	default:
		zw, _ = gzip.NewWriterLevel(nil, gzipLevel) // a valid level: no error
	}
	out := bytes.NewBuffer(make([]byte, 0, len(body)/4+512))
	zw.Reset(out)
	_, _ = zw.Write(body) // a bytes.Buffer does not fail
	_ = zw.Close()
	zw.Reset(io.Discard) // keep no reference to out
	select {
	case f.gzips <- zw:
	default:
	}
	return out.Bytes()
}

func (f *Flusher) setEncoding(req *http.Request) {
	if f.cfg.InfluxGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
}

func closeBody(r *http.Response) error { return r.Body.Close() }

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// excluded reports whether ip is in exclude_ips (v4-mapped unwrapped).
func (f *Flusher) excluded(ip string) bool {
	if len(f.cfg.ExcludeIPs) == 0 {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range f.cfg.ExcludeIPs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
