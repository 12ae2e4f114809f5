package faultproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is what the proxy does to one request. The zero value forwards it
// unchanged.
type Fault struct {
	// Latency is waited before the request is forwarded (or answered).
	Latency time.Duration
	// Reset closes the client's connection with a TCP RST instead of answering.
	Reset bool
	// Status, when non-zero, answers with this HTTP status and Body instead of
	// forwarding (e.g. 503, 429). A Retry-After of 1 second goes with 429/503.
	Status int
	Body   string
}

// Plan chooses the fault for the n-th request (n counts from 1 over the
// proxy's lifetime).
type Plan func(n int64) Fault

// Counts are what the proxy saw.
type Counts struct {
	Requests  int64 // all requests received
	Forwarded int64 // forwarded to the target (whatever it answered)
	Reset     int64 // answered with a connection reset
	Status    int64 // answered with an injected status
}

// Proxy is a running fault-injecting reverse proxy.
type Proxy struct {
	URL string // http://127.0.0.1:PORT

	srv  *http.Server
	ln   net.Listener
	rp   *httputil.ReverseProxy
	mu   sync.RWMutex
	plan Plan

	n, forwarded, reset, status atomic.Int64
}

// New starts a proxy on a free loopback port that forwards to target (an
// http:// URL). Close stops it.
func New(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	// A refused upstream is a 502 from the proxy, as from any real proxy.
	p.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return p, nil
}

// Set makes every following request see f (until the next Set or Plan).
func (p *Proxy) Set(f Fault) { p.SetPlan(func(int64) Fault { return f }) }

// SetPlan installs a per-request plan.
func (p *Proxy) SetPlan(plan Plan) {
	p.mu.Lock()
	p.plan = plan
	p.mu.Unlock()
}

// Counts returns what the proxy has seen so far.
func (p *Proxy) Counts() Counts {
	return Counts{Requests: p.n.Load(), Forwarded: p.forwarded.Load(), Reset: p.reset.Load(), Status: p.status.Load()}
}

// Close stops the proxy and closes open connections.
func (p *Proxy) Close() error { return p.srv.Close() }

// ServeHTTP applies the plan to one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.n.Add(1)
	p.mu.RLock()
	plan := p.plan
	p.mu.RUnlock()
	var f Fault
	if plan != nil {
		f = plan(n)
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up (its timeout)
			t.Stop()
			return
		}
	}
	switch {
	case f.Reset:
		p.reset.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
	case f.Status != 0:
		p.status.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		body := f.Body
		if body == "" {
			body = fmt.Sprintf(`{"code":"unavailable","message":"faultproxy: injected %d"}`, f.Status)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, body)
	default:
		p.forwarded.Add(1)
		p.rp.ServeHTTP(w, r)
	}
}
