// Package fbconf edits the shipped Fluent Bit configuration (conf/) the
// way its comments tell an admin to, for the tests that prove it: the
// classic file marks each alternative input (syslog, systemd) as a
// commented block between "# --- BEGIN alternative: NAME ---" and
// "# --- END alternative ---"; Enable removes the first '#' of each line
// inside one, so its property lines become active and its "##"
// explanations stay comments.
//
// Test infrastructure: conf/conftest and internal/e2e use it; nothing in
// the product imports it. Functions are pure and safe for concurrent use.
package fbconf
