package influxtest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/flux-*.csv from the live server")

// fluxGoldenQuery produces two tables with different columns, so the golden
// answer exercises a table change in the middle of the stream.
const fluxGoldenQuery = `
a = from(bucket: "%s")
  |> range(start: 2024-07-29T00:00:00Z, stop: 2024-07-30T00:00:00Z)
  |> filter(fn: (r) => r._field == "rcvd")
  |> group(columns: ["user"])
  |> sum()
b = from(bucket: "%s")
  |> range(start: 2024-07-29T00:00:00Z, stop: 2024-07-30T00:00:00Z)
  |> filter(fn: (r) => r._field == "sent")
  |> group()
  |> count()
  |> map(fn: (r) => ({n: r._value, what: "sessions"}))
union(tables: [a, b])`

func TestParseFluxCSV(t *testing.T) {
	golden := filepath.Join("testdata", "flux-two-tables.csv")
	if *update {
		writeFluxGolden(t, golden)
	}
	two, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading %s (regenerate with -update): %v", golden, err)
	}
	for _, tc := range []struct {
		name    string
		in      string
		want    []map[string]string
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "two tables from the server",
			in:   string(two),
			want: []map[string]string{
				{"result": "_result", "table": "0", "_start": "2024-07-29T00:00:00Z", "_stop": "2024-07-30T00:00:00Z", "user": "alice", "_value": "30"},
				{"result": "_result", "table": "1", "_start": "2024-07-29T00:00:00Z", "_stop": "2024-07-30T00:00:00Z", "user": "bob", "_value": "5"},
				{"result": "_result", "table": "2", "n": "3", "what": "sessions"},
			},
		},
		{
			// Named yields: each table's result name is only in its #default.
			name: "defaults per table",
			in:   "#datatype,string,long,string\n#group,false,false,true\n#default,users,,\n,result,table,user\n,,0,alice\n\n#datatype,string,long,long\n#group,false,false,false\n,result,table,n\n,,1,3\n",
			want: []map[string]string{
				{"result": "users", "table": "0", "user": "alice"},
				{"result": "", "table": "1", "n": "3"},
			},
		},
		{
			name:    "error table",
			in:      "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"function \"\"to\"\" is not implemented\",\n",
			wantErr: `query error: function "to" is not implemented`,
		},
		{
			name:    "row wider than header",
			in:      "#datatype,string,long\n#group,false,false\n#default,_result,\n,result,table\n,_result,0,extra\n",
			wantErr: "4 columns, header has 3",
		},
		{
			name:    "bad quoting",
			in:      "#datatype,string\n,result\n,\"unterminated\n",
			wantErr: "annotated CSV",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFluxCSV(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// writeFluxGolden records a real two-table answer of the server.
func writeFluxGolden(t *testing.T, path string) {
	t.Helper()
	s := Shared(t)
	s.Write(t, strings.Join([]string{
		"courier_session,host=mx1,service=imap,user=alice rcvd=10i,sent=1i 1722240000000000000",
		"courier_session,host=mx1,service=imap,user=alice rcvd=20i,sent=2i 1722243600000000000",
		"courier_session,host=mx1,service=pop3,user=bob rcvd=5i,sent=3i 1722247200000000000",
	}, "\n"))
	q := strings.ReplaceAll(fluxGoldenQuery, "%s", s.Bucket)
	body, err := s.rawFlux(q)
	if err != nil {
		t.Fatalf("flux: %v", err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func FuzzParseFluxCSV(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "flux-two-tables.csv")); err == nil {
		f.Add(string(b))
	}
	f.Add("#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,boom,\n")
	f.Add(",result,table\n,_result,0\n\n,result,table,x\n,_result,1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseFluxCSV(strings.NewReader(in))
		if err != nil && rows != nil {
			t.Errorf("rows %v returned with error %v", rows, err)
		}
	})
}
