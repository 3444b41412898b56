// Package setup prepares a host for Berth's sandbox drivers and reports what each needs:
// the engine behind `berth setup` and `berth doctor`.
//
// Every compiled-in driver is built with the server's options; a driver that implements
// sandbox.Installer names the Debian packages it needs and builds its artifacts (base root
// filesystem, guest kernel, images) under the data directory. Setup installs the missing
// packages with apt-get, then runs each driver's Install; both steps are idempotent, so a
// second run installs and rebuilds nothing. Doctor installs nothing: it lists, per driver,
// whether it can run here (Driver.Available), which packages are missing, and which driver
// `--sandbox auto` would pick.
package setup
