// Package testservers starts real servers on 127.0.0.1 for the remote tests: OpenSSH's
// sshd (Debian's openssh-server) with throwaway keys, an S3 server (versitygw over a
// folder, built pinned by scripts/build-test-servers.sh) and a server of restic's REST
// protocol (rclone serve restic, from Debian). Every server gets a free loopback port,
// its own folder, and is stopped when the test ends. Two test runs on one machine (two
// clones, CI beside a developer) can want the same port: a server counts as started only
// when its own process holds the listening socket, and a first start whose port another
// process took goes to another port. Secrets go to the servers through
// files and the environment, never their command lines.
//
// ScriptCmds gives the same servers to testscript scripts (`server sshd|s3|rest NAME`,
// and kill/start/restart), one command for cmd/travelkit's remote scripts and wintest's
// (travelkit.exe's clients under Wine, the servers on Linux).
//
// Only tests import this package; it runs on Linux (where the tests start servers);
// elsewhere ScriptCmds is empty.
//
// Imports: internal packages only. Today it imports none.
package testservers
