package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/courier-traffic/courier-traffic/internal/influxtest"
)

// chronografDashboard is the part of conf/chronograf/courier-traffic.json the tests read (the
// structure itself is checked in conf/conftest).
type chronografDashboard struct {
	Dashboard struct {
		Cells []struct {
			Name    string `json:"name"`
			Queries []struct {
				Query string `json:"query"`
			} `json:"queries"`
		} `json:"cells"`
		Templates []struct {
			TempVar string `json:"tempVar"`
			Query   struct {
				InfluxQL string `json:"influxql"`
			} `json:"query"`
		} `json:"templates"`
	} `json:"dashboard"`
}

// testChronografCells runs every query of the Chronograf dashboard against the fixture's
// server (courier_daily written by the CQs, sessions and stats points by flush) and compares
// the rows with the generator's truth. The dashboard's template variables are replaced as
// Chronograf does: the time range is the DST day through today, :interval: is 1d, the zone
// tz('UTC') becomes the fixture's zone, the threshold 2900000 one between the users' totals.
func testChronografCells(t *testing.T, f *cqFixture) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "conf", "chronograf", "courier-traffic.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d chronografDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	want := cqExpected(f.truth)
	var users []string
	var totals []int64
	var topUser string
	for k, v := range want {
		if k.User != "" && k.Service == "" {
			users = append(users, k.User)
			totals = append(totals, v.Total)
			if !strings.ContainsAny(k.User, `'\`) && (topUser == "" || v.Total > want[dailyKey{k.Day, topUser, ""}].Total) {
				topUser = k.User
			}
		}
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] < totals[j] })
	threshold := totals[len(totals)/2]
	replacer := strings.NewReplacer(
		"tz('UTC')", "tz('"+cqZone+"')",
		":dashboardTime:", "'"+f.dst.Add(-time.Hour).UTC().Format(time.RFC3339)+"'",
		":upperDashboardTime:", "now() + 2d",
		":interval:", "1d",
		":user:", topUser,
		"> 2900000", "> "+strconv.FormatInt(threshold, 10),
	)
	day := func(v any) string { return time.Unix(0, num(t, v)).In(f.loc).Format("2006-01-02") }
	hostname, _ := os.Hostname()
	ran := 0
	for _, c := range d.Dashboard.Cells {
		for _, cq := range c.Queries {
			q := replacer.Replace(cq.Query)
			t.Run(c.Name, func(t *testing.T) {
				queryNow := time.Now()
				res := f.srv.Exec(t, q)
				series := res[0].Series
				if len(series) == 0 {
					t.Fatalf("no rows for %s", q)
				}
				switch {
				case strings.HasPrefix(c.Name, "Top users today and yesterday"):
					checkTopCell(t, f, series, want, threshold, queryNow)
				case strings.HasPrefix(c.Name, "rcvd and sent of"):
					exp, got := map[string][2]int64{}, map[string][2]int64{}
					for k, v := range want {
						if k.User == topUser && k.Service == "" {
							exp[k.Day] = [2]int64{v.Rcvd, v.Sent}
						}
					}
					for _, r := range series[0].Values {
						got[day(r[0])] = [2]int64{num(t, r[1]), num(t, r[2])}
					}
					if diff := cmp.Diff(exp, got); diff != "" {
						t.Errorf("user %q per day, rcvd/sent (-want +got):\n%s", topUser, diff)
					}
				case strings.HasPrefix(c.Name, "Daily totals"):
					exp, got := map[string][4]int64{}, map[string][4]int64{}
					for k, v := range want {
						if k.User == "" && k.Service == "" {
							exp[k.Day] = [4]int64{v.Total, v.Rcvd, v.Sent, v.Sessions}
						}
					}
					for _, r := range series[0].Values {
						got[day(r[0])] = [4]int64{num(t, r[1]), num(t, r[2]), num(t, r[3]), num(t, r[4])}
					}
					if diff := cmp.Diff(exp, got); diff != "" {
						t.Errorf("daily totals (-want +got):\n%s", diff)
					}
				case strings.HasPrefix(c.Name, "Sessions per service"):
					exp, got := map[[2]string]int64{}, map[[2]string]int64{}
					for k, v := range want {
						if k.User == "" && k.Service != "" {
							exp[[2]string{k.Day, k.Service}] = v.Sessions
						}
					}
					for _, s := range series {
						for _, r := range s.Values {
							got[[2]string{day(r[0]), s.Tags["service"]}] = num(t, r[1])
						}
					}
					if diff := cmp.Diff(exp, got); diff != "" {
						t.Errorf("sessions per day and service (-want +got):\n%s", diff)
					}
				case strings.HasPrefix(c.Name, "Repeats dropped"):
					var maxRepeats int64
					for _, r := range f.repeats {
						maxRepeats = max(maxRepeats, r)
					}
					if maxRepeats == 0 {
						t.Fatal("the generated logs had no repeats: the cell is not exercised")
					}
					got := map[string]int64{}
					for _, s := range series {
						for _, r := range s.Values {
							got[s.Tags["host"]] = max(got[s.Tags["host"]], num(t, r[1]))
						}
					}
					if diff := cmp.Diff(map[string]int64{hostname: maxRepeats}, got); diff != "" {
						t.Errorf("repeats per host (-want +got):\n%s", diff)
					}
				default:
					t.Fatalf("cell %q has no expectation in this test", c.Name)
				}
				ran++
			})
		}
	}
	if ran != 5 {
		t.Errorf("%d cell queries checked, want 5", ran)
	}
	for _, tv := range d.Dashboard.Templates {
		t.Run("template "+tv.TempVar, func(t *testing.T) {
			res := f.srv.Exec(t, tv.Query.InfluxQL)
			var got []string
			for _, s := range res[0].Series {
				for _, r := range s.Values {
					got = append(got, r[1].(string))
				}
			}
			sort.Strings(users)
			sort.Strings(got)
			users = compactStrings(users)
			if diff := cmp.Diff(users, got); diff != "" {
				t.Errorf("%s values (-want +got):\n%s", tv.TempVar, diff)
			}
		})
	}
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// checkTopCell compares the "top users today and yesterday" rows: per local day whose
// midnight is within the query's last 2 days, the users above the threshold (service "all"),
// ordered by total descending.
func checkTopCell(t *testing.T, f *cqFixture, series []influxtest.Series, want map[dailyKey]dailyVals, threshold int64, queryNow time.Time) {
	t.Helper()
	type row struct {
		Day, User              string
		Total, Rcvd, Sent, Ses int64
	}
	var exp []row
	for k, v := range want {
		start, err := time.ParseInLocation("2006-01-02", k.Day, f.loc)
		if err != nil {
			t.Fatal(err)
		}
		if k.User != "" && k.Service == "" && v.Total > threshold && start.After(queryNow.Add(-48*time.Hour)) {
			exp = append(exp, row{k.Day, k.User, v.Total, v.Rcvd, v.Sent, v.Sessions})
		}
	}
	if diff := cmp.Diff([]string{"time", "total", "user", "rcvd", "sent", "sessions"}, series[0].Columns); diff != "" {
		t.Fatalf("columns (-want +got):\n%s", diff)
	}
	var got []row
	for _, r := range series[0].Values {
		got = append(got, row{time.Unix(0, num(t, r[0])).In(f.loc).Format("2006-01-02"), r[2].(string),
			num(t, r[1]), num(t, r[3]), num(t, r[4]), num(t, r[5])})
	}
	for i := 1; i < len(got); i++ {
		if got[i].Day == got[i-1].Day && got[i].Total > got[i-1].Total {
			t.Errorf("row %d (%v) ranks above row %d (%v) with a smaller total", i-1, got[i-1], i, got[i])
		}
	}
	byKey := func(rows []row) []row {
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].Day != rows[j].Day {
				return rows[i].Day < rows[j].Day
			}
			return rows[i].User < rows[j].User
		})
		return rows
	}
	if len(exp) < 4 {
		t.Fatalf("only %d expected rows: the test data is too small to mean much", len(exp))
	}
	if diff := cmp.Diff(byKey(exp), byKey(got)); diff != "" {
		t.Errorf("top users today and yesterday, threshold %d (-want +got):\n%s", threshold, diff)
	}
}
