package flush

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	httpErr := errors.New("unexpected status")
	refused := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/api/v2/write",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	cases := []struct {
		name   string
		status int
		err    error
		want   Outcome
	}{
		{"204", 204, nil, Delivered},
		{"200", 200, nil, Delivered},
		{"204 but body error", 204, errors.New("read: connection reset"), Retry},
		{"400 bad points or type conflict", 400, httpErr, Drop},
		{"401 bad token", 401, httpErr, Retry},
		{"403 forbidden", 403, httpErr, Retry},
		{"404 missing bucket", 404, httpErr, Retry},
		{"405 other 4xx", 405, httpErr, Drop},
		{"408 request timeout", 408, httpErr, Retry},
		{"413 single point", 413, httpErr, Retry},
		{"422 unprocessable", 422, httpErr, Drop},
		{"429 rate limited", 429, httpErr, Retry},
		{"500", 500, httpErr, Retry},
		{"502", 502, httpErr, Retry},
		{"503", 503, httpErr, Retry},
		{"504", 504, httpErr, Retry},
		{"302 redirect not followed", 302, httpErr, Retry},
		{"connection refused", 0, refused, Retry},
		{"net timeout", 0, &url.Error{Op: "Post", URL: "x", Err: timeoutErr{}}, Retry},
		{"context deadline", 0, fmt.Errorf("post: %w", context.DeadlineExceeded), Retry},
		{"context canceled", 0, context.Canceled, Retry},
		{"no status no error", 0, nil, Retry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.status, tc.err); got != tc.want {
				t.Errorf("Classify(%d, %v) = %v, want %v", tc.status, tc.err, got, tc.want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Delivered: "delivered", Retry: "retry", Drop: "drop", Outcome(9): "Outcome(9)"} {
		if got := o.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(o), got, want)
		}
	}
}
