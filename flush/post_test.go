package flush

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
)

// TestPostLikeClient: post sends to the URL the client's blocking write API
// uses (org, bucket, precision=ns), with the client's Authorization and a
// Content-Length (the body is compressed before the request, not streamed
// through a pipe), and the gzipped bodies of a reused writer decode to
// what was encoded, write after write.
func TestPostLikeClient(t *testing.T) {
	type req struct {
		uri, auth, enc string
		length         int64
		chunked        bool
	}
	var mu sync.Mutex
	var got []req
	fake := &fakeInflux{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, req{r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Content-Encoding"),
			r.ContentLength, len(r.TransferEncoding) > 0})
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()

	// the reference: what the client library itself requests
	opts := influxdb2.DefaultOptions().SetPrecision(1)
	client := influxdb2.NewClientWithOptions(srv.URL, "tok", opts)
	if err := client.WriteAPIBlocking("my org", "db/autogen").WriteRecord(context.Background(), "m f=1i 1"); err != nil {
		t.Fatal(err)
	}
	client.Close()

	f, _ := newTestFlusher(t, srv.URL, MapGetter{KeyInfluxOrg: "my org", KeyInfluxToken: "tok"})
	for i := 0; i < 3; i++ {
		b := f.NewBatch()
		b.AddLine(logLine(i, "alice", i+1, i), refTime)
		b.AddLine(logLine(i, "bob", i+2, i), refTime)
		if out := f.Write(context.Background(), b); out != Delivered {
			t.Fatalf("write %d: %v", i, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4", len(got))
	}
	for i, r := range got[1:] {
		if r.uri != got[0].uri || r.auth != got[0].auth || r.enc != "gzip" || r.chunked || r.length <= 0 {
			t.Errorf("request %d: %+v; the client's: %+v", i, r, got[0])
		}
	}
	bodies := fake.requests()
	for i, body := range bodies[1:] {
		if n := len(decodeLP(t, body)); n != 2 {
			t.Errorf("request %d: %d points, want 2:\n%s", i, n, body)
		}
	}
}
