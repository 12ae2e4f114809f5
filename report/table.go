package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Sums are one user's (or the whole day's) session count and byte sums.
type Sums struct {
	Sessions int64 `json:"sessions"`
	Rcvd     int64 `json:"rcvd"`
	Sent     int64 `json:"sent"`
}

// Total is rcvd+sent: the value a user is ranked and thresholded by.
func (s Sums) Total() int64 { return satAdd(s.Rcvd, s.Sent) }

func (s *Sums) add(o Sums) {
	s.Sessions += o.Sessions
	s.Rcvd = satAdd(s.Rcvd, o.Rcvd)
	s.Sent = satAdd(s.Sent, o.Sent)
}

// Row is one user of the ranking.
type Row struct {
	User string
	Sums
}

// TotalUser is the name printed in the total row, as in the classic script.
const TotalUser = "-- total --"

// Table is a finished report: the rows to print, in order, and the day's
// totals over every user (also those below the threshold or beyond --top).
type Table struct {
	Date      Date
	Service   Service
	Unit      Unit
	Threshold int64 // bytes; a user needs Total() > Threshold for a row
	Rows      []Row
	Total     Sums
}

// Params are the report's choices that shape the table.
type Params struct {
	Date      Date
	Service   Service
	Unit      Unit
	Threshold int64 // bytes
	Top       int   // at most this many rows; 0 = all
}

// NewTable ranks per-user sums. users is read, not kept. Rows are the users
// whose total is above the threshold, ordered like the classic script's
// `sort -nr -k 2` in the C locale: by the printed value (total in the unit,
// truncated) descending, ties by the whole printed line in descending byte
// order (sort's last-resort comparison, reversed by -r). Unlike the script,
// the value is always the key, also for user names containing blanks.
func NewTable(p Params, users map[string]Sums) *Table {
	if p.Unit.Bytes == 0 {
		p.Unit = DefaultUnit
	}
	t := &Table{Date: p.Date, Service: p.Service, Unit: p.Unit, Threshold: p.Threshold}
	type keyed struct {
		row   Row
		value int64
		line  []byte
	}
	var rows []keyed
	for user, s := range users {
		t.Total.add(s)
		if s.Total() > p.Threshold {
			r := Row{user, s}
			rows = append(rows, keyed{r, s.Total() / p.Unit.Bytes, t.appendLine(nil, r)})
		}
	}
	slices.SortFunc(rows, func(a, b keyed) int {
		if a.value != b.value {
			if a.value > b.value {
				return -1
			}
			return 1
		}
		return -bytes.Compare(a.line, b.line)
	})
	if p.Top > 0 && len(rows) > p.Top {
		rows = rows[:p.Top]
	}
	t.Rows = make([]Row, len(rows))
	for i, k := range rows {
		t.Rows[i] = k.row
	}
	return t
}

// appendLine formats one row as awk's
// "%28s %6d %-2s  [#%5d: r %5d s %5d ]" with the values divided by the unit
// and truncated toward zero (what %d does). Widths count bytes, as mawk and C
// printf do (Go's fmt would count runes, which differs for UTF-8 user names);
// the user is never truncated. The values are the true 64-bit ones: mawk
// prints 2147483647 for anything larger.
func (t *Table) appendLine(b []byte, r Row) []byte {
	b = pad(b, r.User, 28, true)
	b = append(b, ' ')
	b = pad(b, strconv.FormatInt(r.Total()/t.Unit.Bytes, 10), 6, true)
	b = append(b, ' ')
	b = pad(b, t.Unit.Name, 2, false)
	b = append(b, "  [#"...)
	b = pad(b, strconv.FormatInt(r.Sessions, 10), 5, true)
	b = append(b, ": r "...)
	b = pad(b, strconv.FormatInt(r.Rcvd/t.Unit.Bytes, 10), 5, true)
	b = append(b, " s "...)
	b = pad(b, strconv.FormatInt(r.Sent/t.Unit.Bytes, 10), 5, true)
	b = append(b, " ]\n"...)
	return b
}

func pad(b []byte, s string, width int, right bool) []byte {
	if right {
		for i := len(s); i < width; i++ {
			b = append(b, ' ')
		}
	}
	b = append(b, s...)
	if !right {
		for i := len(s); i < width; i++ {
			b = append(b, ' ')
		}
	}
	return b
}

// Header is the text report's first line, as the classic script echoes it
// (with the service's name in place of the fixed "IMAP").
func (t *Table) Header() string {
	return "== Courier " + t.Service.Label() + " traffic stats per user of " + t.Date.Syslog() + " =="
}

// WriteText writes the classic report: the header, a blank line, the rows, a
// blank line and the total row. For IMAP with the default unit and threshold
// it is byte for byte what the classic script prints.
func (t *Table) WriteText(w io.Writer) error {
	b := make([]byte, 0, 256+80*len(t.Rows))
	b = append(b, t.Header()...)
	b = append(b, "\n\n"...)
	for _, r := range t.Rows {
		b = t.appendLine(b, r)
	}
	b = append(b, '\n')
	b = t.appendLine(b, Row{TotalUser, t.Total})
	_, err := w.Write(b)
	return err
}

// JSONRow is one user in the JSON output; every count is in bytes.
type JSONRow struct {
	Rank     int    `json:"rank"`
	User     string `json:"user"`
	Sessions int64  `json:"sessions"`
	Rcvd     int64  `json:"rcvd"`
	Sent     int64  `json:"sent"`
	Total    int64  `json:"total"`
}

// JSONReport is the document of --format json. Field names are stable.
type JSONReport struct {
	Date      string    `json:"date"`
	Service   string    `json:"service"`
	Threshold int64     `json:"threshold"`
	Users     []JSONRow `json:"users"`
	Total     JSONRow   `json:"total"`
}

// JSON returns the report as the --format json document. Ranks start at 1;
// the total row has rank 0 and the user "-- total --".
func (t *Table) JSON() JSONReport {
	rep := JSONReport{
		Date: t.Date.String(), Service: t.Service.String(), Threshold: t.Threshold,
		Users: make([]JSONRow, len(t.Rows)),
		Total: jsonRow(0, Row{TotalUser, t.Total}),
	}
	for i, r := range t.Rows {
		rep.Users[i] = jsonRow(i+1, r)
	}
	return rep
}

func jsonRow(rank int, r Row) JSONRow {
	return JSONRow{rank, r.User, r.Sessions, r.Rcvd, r.Sent, r.Total()}
}

// WriteJSON writes JSON() as one indented document. User names that are not
// valid UTF-8 come out with U+FFFD for the bad bytes (encoding/json's rule).
func (t *Table) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t.JSON())
}

// CSVHeader is the first record of --format csv.
var CSVHeader = []string{"date", "service", "rank", "user", "sessions", "rcvd", "sent", "total"}

// WriteCSV writes a header record, one record per row and a last record for
// the total row (rank 0, user "-- total --"); counts in bytes. Quoting is
// encoding/csv's (RFC 4180), so user names with commas stay one field.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	rec := func(rank int, r Row) {
		_ = cw.Write([]string{t.Date.String(), t.Service.String(), strconv.Itoa(rank), r.User,
			strconv.FormatInt(r.Sessions, 10), strconv.FormatInt(r.Rcvd, 10),
			strconv.FormatInt(r.Sent, 10), strconv.FormatInt(r.Total(), 10)})
	}
	for i, r := range t.Rows {
		rec(i+1, r)
	}
	rec(0, Row{TotalUser, t.Total})
	cw.Flush()
	return cw.Error()
}

// Format is an output format.
type Format uint8

const (
	Text Format = iota
	JSON
	CSV
)

// ParseFormat accepts text, json and csv.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "text":
		return Text, nil
	case "json":
		return JSON, nil
	case "csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("format %q: want text, json or csv", s)
}

// Write writes the table in format f.
func (t *Table) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		return t.WriteJSON(w)
	case CSV:
		return t.WriteCSV(w)
	}
	return t.WriteText(w)
}
