package main

import (
	"fmt"
	"strings"

	"github.com/courier-traffic/courier-traffic/buildinfo"
)

// runMan prints the manual page courier-traffic(1) in roff, made from the
// commands' own flag sets and help texts (`courier-traffic man`; hidden:
// packaging/build.sh runs it). The page's date is the build's (the commit
// time), so the same commit gives the same page.
func runMan(args []string, e env) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", args[0]))
	}
	fmt.Fprint(e.stdout, manPage(buildinfo.Read()))
	return nil
}

// roffEscape makes text safe in roff: backslashes and hyphens escaped, and
// no line starting with a control character.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// preformatted is text set as is (no filling), in roff.
func preformatted(s string) string {
	return ".nf\n" + roffEscape(s) + "\n.fi\n"
}

func manPage(bi buildinfo.Info) string {
	var b strings.Builder
	date := bi.Date
	if len(date) >= 10 {
		date = date[:10]
	}
	fmt.Fprintf(&b, ".TH COURIER\\-TRAFFIC 1 %q %q \"User Commands\"\n", date, "courier-traffic "+bi.Version)
	// .ad l: ragged right; justified lines with long flag texts cannot be adjusted.
	b.WriteString(".ad l\n")
	b.WriteString(".SH NAME\ncourier\\-traffic \\- per\\-user Courier IMAP/POP3 traffic from mail logs\n")
	b.WriteString(".SH SYNOPSIS\n")
	var synopsis []string
	for _, l := range strings.Split(usage, "\n") {
		if strings.HasPrefix(l, "  courier-traffic ") {
			synopsis = append(synopsis, strings.TrimSpace(l))
		}
	}
	b.WriteString(preformatted(strings.Join(synopsis, "\n")))
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(roffEscape("courier-traffic prints the classic daily per-user traffic report of Courier IMAP and POP3 "+
		"sessions from mail logs, from the systemd journal or from InfluxDB, back-fills log history into InfluxDB "+
		"through the same code as the Fluent Bit output plugin courier_influxdb, and manages the InfluxDB 1.x "+
		"continuous queries of the daily sums.") + "\n")
	b.WriteString(".PP\n" + roffEscape("Flags may be written with one or two dashes, before, between or after the files. "+
		"Flags named like the plugin's configuration keys (influx_url becomes --influx-url) mean the same and are "+
		"validated by the same code.") + "\n")
	b.WriteString(".SH COMMANDS\n")
	lastHeader := ""
	for _, c := range commands {
		fmt.Fprintf(&b, ".SS %s\n", roffEscape(c.name))
		if h := c.header(); h != lastHeader {
			b.WriteString(preformatted(h))
			lastHeader = h
		}
		for _, f := range describeFlags(c.flagSet()) {
			b.WriteString(".TP\n")
			fmt.Fprintf(&b, "\\fB\\-\\-%s\\fR", roffEscape(f.name))
			if f.arg != "" {
				fmt.Fprintf(&b, " \\fI%s\\fR", roffEscape(f.arg))
			}
			b.WriteString("\n")
			u := f.usage
			if f.def != "" {
				u += fmt.Sprintf(" (default %q)", f.def)
			}
			// \: lets a long comma list (identifiers' default) break after a comma.
			b.WriteString(strings.ReplaceAll(roffEscape(strings.ReplaceAll(u, "\n", " ")), ",", `,\:`) + "\n")
		}
	}
	b.WriteString(".SS version\n" + roffEscape("Prints the package version, the module version, the commit, the build date "+
		"and the Go version; --version does the same.") + "\n")
	b.WriteString(".SH ENVIRONMENT\n.TP\n.B INFLUX_TOKEN\n" +
		roffEscape("the InfluxDB token when neither --influx-token nor --influx-token-file is given (ps(1) does not show it)") + "\n")
	b.WriteString(".SH EXIT STATUS\n" + roffEscape("0 on success; 1 when the work failed (the reason is on standard error); "+
		"2 for a usage error; 3 when report --alert-above found users above the limit.") + "\n")
	b.WriteString(".SH FILES\n.TP\n.I /etc/fluent\\-bit/courier\\-traffic/\n" +
		roffEscape("Fluent Bit configuration of the output plugin (fluent-bit.conf or fluent-bit.yaml, plugins.conf, parsers.conf)") + "\n" +
		".TP\n.I /usr/lib/courier\\-traffic/out_courier_influxdb.so\n" + roffEscape("the Fluent Bit output plugin courier_influxdb") + "\n" +
		".TP\n.I /usr/share/courier\\-traffic/\n" +
		roffEscape("Flux task, InfluxDB 2.x template, InfluxQL and SQL queries, Grafana and Chronograf dashboards") + "\n")
	b.WriteString(".SH SEE ALSO\n" + roffEscape("/usr/share/doc/courier-traffic/, https://docs.fluentbit.io/") + "\n")
	return b.String()
}
