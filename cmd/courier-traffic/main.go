package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	// time_zone takes IANA names; the zone database is embedded so that they
	// resolve on hosts and images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"golang.org/x/term"
)

// env is everything a command touches outside its arguments, so that tests
// run commands in-process with their own streams and clock.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	isTerminal     func(w io.Writer) bool // progress bars only on a terminal
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		now:        time.Now,
		isTerminal: fileIsTerminal,
	})
	stop()
	os.Exit(code)
}

func fileIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const usage = `courier-traffic: per-user Courier IMAP/POP3 traffic from mail logs

Usage:
  courier-traffic report   [flags] [FILE...]   the classic daily report from log files (default /var/log/mail.log)
  courier-traffic report   --journal [flags]   the same report from the systemd journal (Debian 12+ without rsyslog)
  courier-traffic report   --influx-url URL [flags]   the same report from InfluxDB
  courier-traffic backfill [flags] FILE...     write log history into InfluxDB, like the plugin does
  courier-traffic backfill --journal [--since T] [--until T] [flags]   the same from the journal
  courier-traffic influxql install|print|uninstall [flags]   InfluxDB 1.x: the continuous queries of the daily sums
  courier-traffic version                      package version, commit, build date and Go version (also --version)
  courier-traffic completion bash              the bash completion script

Run "courier-traffic COMMAND -h" for the flags of a command.
`

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the work failed; the reason is on stderr
	exitUsage = 2
)

// errUsage marks errors in the command line (exit 2); errUsageShown those
// the flag package has already printed with the usage.
var (
	errUsage      = errors.New("usage")
	errUsageShown = errors.New("usage shown")
)

func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "report":
		err = runReport(ctx, args[1:], e)
	case "backfill":
		err = runBackfill(ctx, args[1:], e)
	case "influxql":
		err = runInfluxQL(ctx, args[1:], e)
	case "version", "-version", "--version":
		err = runVersion(args[1:], e)
	case "completion":
		err = runCompletion(args[1:], e)
	case "man": // hidden: packaging/build.sh makes courier-traffic(1) with it
		err = runMan(args[1:], e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(e.stderr, "courier-traffic: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsageShown):
		return exitUsage
	case errors.Is(err, errAlert):
		return exitAlert
	case errors.Is(err, errUsage):
		fmt.Fprintf(e.stderr, "courier-traffic %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "courier-traffic %s: %v\n", args[0], err)
		return exitFail
	}
}

// usageError wraps err so that run exits with status 2.
func usageError(err error) error {
	return fmt.Errorf("%w: %w", errUsage, err)
}
