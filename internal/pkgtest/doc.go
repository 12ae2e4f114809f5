// Package pkgtest holds the test of the .deb and .rpm packages (it has no
// code of its own). TestPackages builds the amd64 packages with
// packaging/build.sh, as `make package` does, and checks them as an admin
// would meet them: lintian, the file list and conffiles, the ELF objects
// (architecture, exported entry points, the oldest glibc they need, a static
// CLI), a real dpkg install into a scratch root, the installed CLI printing
// the demo report, the installed plugin loading in the C test host, removal
// keeping the conffiles, and the .rpm's file list with rpm -qlp.
//
// With COURIER_PKG_DIST=DIR it checks the packages already in DIR instead
// (every architecture there; `make package` runs it on build/dist), and
// installs only the ones of the machine's architecture.
package pkgtest
