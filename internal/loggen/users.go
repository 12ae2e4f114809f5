package loggen

import (
	"strconv"
	"strings"
)

// addr is a client address. Courier's usual IPv6-enabled build prints IPv4
// clients as "::ffff:a.b.c.d"; v6 addresses are 2001:db8:g0:g1::g2 (all
// groups non-zero, so the compressed form is unambiguous) or "::1" (loop).
type addr struct {
	v4   uint32    // always set: Plesk (no IPv6 build) prints it bare
	v6   bool      // native IPv6
	loop bool      // with v6: "::1"
	g    [3]uint16 // v6 groups
}

func (a addr) key() uint64 {
	if !a.v6 {
		return uint64(a.v4)
	}
	k := uint64(1)<<63 | uint64(a.g[0])<<32 | uint64(a.g[1])<<16 | uint64(a.g[2])
	if a.loop {
		k |= 1 << 62
	}
	return k
}

// octets holds "0" .. "255": strconv per octet was a tenth of the run time.
var octets = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func appendV4(b []byte, v uint32) []byte {
	b = append(b, octets[v>>24]...)
	b = append(b, '.')
	b = append(b, octets[v>>16&0xff]...)
	b = append(b, '.')
	b = append(b, octets[v>>8&0xff]...)
	b = append(b, '.')
	return append(b, octets[v&0xff]...)
}

// appendCourier writes the address as Courier prints it inside ip=[...].
func (a addr) appendCourier(b []byte, plain bool) []byte {
	if plain {
		return appendV4(b, a.v4)
	}
	if !a.v6 {
		return appendV4(append(b, "::ffff:"...), a.v4)
	}
	if a.loop {
		return append(b, "::1"...)
	}
	b = append(b, "2001:db8:"...)
	b = strconv.AppendUint(b, uint64(a.g[0]), 16)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(a.g[1]), 16)
	b = append(b, "::"...)
	return strconv.AppendUint(b, uint64(a.g[2]), 16)
}

var loopV4 = addr{v4: 127<<24 | 1}
var loopV6 = addr{v4: 127<<24 | 1, v6: true, loop: true}

func (r *rng) publicV4() uint32 {
	// First octet 1-223 minus 10 and 127: looks like public unicast. These
	// are only printed, never contacted.
	for {
		a := uint32(r.between(1, 223))
		if a != 10 && a != 127 {
			return a<<24 | uint32(r.n(1<<24))
		}
	}
}

func (r *rng) addr(v6share float64) addr {
	a := addr{v4: r.publicV4()}
	if r.p(v6share) {
		a.v6 = true
		for i := range a.g {
			a.g[i] = uint16(r.between(1, 0xffff))
		}
	}
	return a
}

type user struct {
	name    string
	maildir string // Plesk: /var/qmail/mailnames/<domain>/<local>/Maildir
	ips     []addr
	webmail bool // mostly short sessions through a local webmail (127.0.0.1 / ::1)
	big     bool // imapsync-size uploads and downloads
	weight  float64
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy",
		"mallory", "oscar", "peggy", "rupert", "sybil", "trent", "victor", "walter", "jörg", "anna", "john", "maria", "li", "olga"}
	lastNames = []string{"smith", "doe", "jones", "miller", "schmidt", "novak", "rossi", "garcia", "berg", "kim", "obrien", "weber"}
	domains   = []string{"example.com", "example.org", "mail.example.net", "Example.COM", "uni-example.de", "sub.example.co.uk"}
	tags      = []string{"lists", "work", "shop", "x"}
)

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// makeUsers builds n distinct names in a fixed rotation of shapes, so that
// every shape occurs as soon as n >= 10.
func makeUsers(r *rng, n, big int) []user {
	us := make([]user, 0, n)
	seen := make(map[string]bool, n)
	for i := 0; len(us) < n; i++ {
		f := firstNames[r.n(int64(len(firstNames)))]
		if f == "jörg" {
			f = "joerg" // authenticated names come from the auth DB; keep them ASCII
		}
		l := lastNames[r.n(int64(len(lastNames)))]
		d := domains[r.n(int64(len(domains)))]
		var local, name string
		switch i % 10 {
		case 0:
			local = f
			name = f + "@" + d
		case 1:
			local = f + "." + l
			name = local + "@" + d
		case 2:
			local = f + "+" + tags[r.n(int64(len(tags)))]
			name = local + "@" + d
		case 3:
			local = title(f) + "." + strings.ToUpper(l)
			name = local + "@" + d
		case 4:
			local = f
			name = f
		case 5:
			local = f + " " + l + ", x" // a quoted LOGIN name: "john doe, x"
			name = local
		case 6:
			local = f + "." + l
			name = local
		case 7:
			local = f + "_" + l
			name = local + "@" + d
		case 8:
			local = title(f) + " " + title(l) // a space, no comma
			name = local
		case 9:
			local = l + ", " + f // "smith, alice": a comma inside, no space before it
			name = local + "@" + d
		}
		if seen[name] {
			suffix := strconv.Itoa(i)
			local += suffix
			if at := strings.IndexByte(name, '@'); at >= 0 {
				name = name[:at] + suffix + name[at:]
			} else {
				name += suffix
			}
			if seen[name] {
				continue
			}
		}
		seen[name] = true
		if !strings.Contains(name, "@") {
			d = "example.com"
		}
		u := user{name: name, maildir: "/var/qmail/mailnames/" + strings.ToLower(d) + "/" + local + "/Maildir"}
		nip := 1 + int(r.n(3))
		v6share := 0.1
		if r.p(0.2) {
			v6share = 0.8 // some users live mostly on IPv6
		}
		for j := 0; j < nip; j++ {
			u.ips = append(u.ips, r.addr(v6share))
		}
		u.webmail = r.p(0.2)
		// Activity is skewed: a few users make most sessions.
		u.weight = 1 / float64(1+len(us)%17) * (0.5 + r.f())
		us = append(us, u)
	}
	// Big users are drawn from a permutation so they are not always index 0.
	for _, i := range permutation(r, n)[:big] {
		us[i].big = true
		us[i].webmail = false
	}
	return us
}

func permutation(r *rng, n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(r.n(int64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// failedNames are what people and bots type at LOGIN FAILED: raw, with the
// courier_safe_printf treatment already applied (non-printables as '.').
var failedNames = []string{"admin", "test", "root", "info", "postmaster", "j..rg", " john ", "webmaster",
	"sales@example.com", "user", "guest", "support", "john doe, x", "ADMIN"}
