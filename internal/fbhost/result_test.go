package fbhost

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseResult(t *testing.T) {
	cases := []struct {
		name, line string
		want       Result
		err        string // substring of the error; "" for success
	}{
		{name: "flush", line: "result op=flush inst=a rc=1 name=FLB_OK",
			want: Result{Op: "flush", Inst: "a", RC: 1, Name: OK}},
		{name: "register with extra keys", line: "result op=register inst=- rc=0 name=ok type=2 proxy=2 plugin=courier_influxdb",
			want: Result{Op: "register", Inst: "-", Name: "ok"}},
		{name: "parflush thread", line: "result op=parflush inst=w thread=3 rc=2 name=FLB_RETRY",
			want: Result{Op: "parflush", Inst: "w", Thread: 3, RC: 2, Name: Retry}},
		{name: "negative rc", line: "result op=register inst=- rc=-1 name=failure type=0 proxy=0 plugin=(null)",
			want: Result{Op: "register", Inst: "-", RC: -1, Name: "failure"}},
		{name: "not a result", line: "error bad command: x", err: "not a result line"},
		{name: "no name", line: "result op=init inst=a rc=1", err: "without name"},
		{name: "no inst", line: "result op=init rc=1 name=FLB_OK", err: "without inst"},
		{name: "rc not a number", line: "result op=init inst=a rc=one name=FLB_OK", err: "field rc"},
		{name: "thread not a number", line: "result op=parflush inst=a thread=x rc=1 name=FLB_OK", err: "field thread"},
		{name: "field without =", line: "result op=init inst=a rc=1 name=FLB_OK stray", err: `"stray"`},
		{name: "repeated key", line: "result op=init inst=a rc=1 rc=2 name=FLB_OK", err: "rc repeats"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseResult(c.line)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseResult(%q) = %+v, %v; want an error containing %q", c.line, got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ParseResult(%q) (-want +got):\n%s", c.line, diff)
			}
		})
	}
}

// FuzzParseResult: never a panic; what parses prints back (in host.c's
// format) to a line that parses to the same Result.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		"result op=flush inst=a rc=1 name=FLB_OK",
		"result op=parflush inst=w thread=3 rc=2 name=FLB_RETRY",
		"result op=register inst=- rc=0 name=ok type=2 proxy=2 plugin=courier_influxdb",
		"result  op==x inst= rc=+0 name=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseResult(line)
		if err != nil {
			return
		}
		for _, v := range []string{r.Op, r.Inst, r.Name} {
			if strings.ContainsAny(v, " \t\n") {
				t.Fatalf("ParseResult(%q) = %+v: a value holds white space", line, r)
			}
		}
		again := fmt.Sprintf("result op=%s inst=%s thread=%d rc=%d name=%s", r.Op, r.Inst, r.Thread, r.RC, r.Name)
		r2, err := ParseResult(again)
		if err != nil {
			t.Fatalf("ParseResult(%q) = %+v, printed %q: %v", line, r, again, err)
		}
		if r2 != r {
			t.Fatalf("ParseResult(%q) = %+v, printed and parsed again %+v", line, r, r2)
		}
	})
}
