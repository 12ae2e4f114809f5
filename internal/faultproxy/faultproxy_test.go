package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProxyFaults(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
		_ = b
	}))
	defer upstream.Close()
	p, err := New(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	post := func(timeout time.Duration) (int, error) {
		c := &http.Client{Timeout: timeout}
		resp, err := c.Post(p.URL+"/api/v2/write", "text/plain", strings.NewReader("m f=1i 1"))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}

	t.Run("pass", func(t *testing.T) {
		p.Set(Fault{})
		if code, err := post(5 * time.Second); err != nil || code != http.StatusNoContent {
			t.Fatalf("got %d, %v; want 204", code, err)
		}
	})
	t.Run("status", func(t *testing.T) {
		for _, s := range []int{429, 503, 500} {
			p.Set(Fault{Status: s})
			if code, err := post(5 * time.Second); err != nil || code != s {
				t.Fatalf("got %d, %v; want %d", code, err, s)
			}
		}
	})
	t.Run("reset", func(t *testing.T) {
		p.Set(Fault{Reset: true})
		_, err := post(5 * time.Second)
		if err == nil {
			t.Fatal("want a connection error")
		}
		if !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("want a reset, got %v", err)
		}
	})
	t.Run("latency beyond the client timeout", func(t *testing.T) {
		p.Set(Fault{Latency: 2 * time.Second})
		start := time.Now()
		_, err := post(200 * time.Millisecond)
		if err == nil {
			t.Fatal("want a timeout")
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Fatalf("client waited %v, want about its 200ms timeout", d)
		}
	})
	t.Run("plan by request number", func(t *testing.T) {
		base := p.Counts().Requests
		p.SetPlan(func(n int64) Fault {
			if n-base <= 2 {
				return Fault{Status: 503}
			}
			return Fault{}
		})
		var got []int
		for i := 0; i < 4; i++ {
			code, err := post(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, code)
		}
		want := []int{503, 503, 204, 204}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("codes %v, want %v", got, want)
			}
		}
	})
	c := p.Counts()
	if c.Requests != c.Forwarded+c.Reset+c.Status+1 { // +1: the timed-out request returned before counting an outcome
		t.Fatalf("counts do not add up: %+v", c)
	}
}
