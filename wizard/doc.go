// Package wizard is travelkit's restore wizard in the browser: a small web server on
// 127.0.0.1 that walks a frightened person with a mouse through getting their files back
// from a kit, one decision a screen, in their language (package i18n). It drives the same
// package functions as the CLI and the boot menu: drive (Find, Open, Verify, Unlock,
// ReadEscrow), repo (Snapshots, Walk, Restore) and builder (ChangePassphrase).
//
// The steps: 1 language; 2 the kit found, named and checked (drive.Verify without a
// secret); 3 unlock with the passphrase, the recovery key or colleagues' escrow files, then
// checked again against the trusted copy inside the volume; 4 a snapshot; 5 everything or
// some folders; 6 where (Restored in the home folder by default); 7 progress; 8 done, with
// "open the folder" and the advice for borrowed computers. Reading a disk needs
// administrator rights: the wizard relaunches itself elevated the way the system asks for
// them (Windows UAC, macOS's administrator prompt, pkexec or sudo on Linux; Elevator) and
// hands the browser over to the elevated copy.
//
// Security, for a local server that handles secrets (each attacked by the tests):
//   - it listens on 127.0.0.1 only, on a random port;
//   - the URL it opens carries a random one-time token in its path, exchanged on first
//     use for an HttpOnly, SameSite=Strict session cookie; a replayed token is refused;
//   - every request's Host must be 127.0.0.1:PORT and its Origin, when sent (always on a
//     POST), http://127.0.0.1:PORT: a page elsewhere (DNS rebinding, another site, another
//     local port) gets 403; no CORS header is ever sent;
//   - a strict Content-Security-Policy (only its own scripts and styles; no inline code, no
//     frames, forms only to itself), no-store caching and no referrer to other origins;
//   - secrets travel only in POST bodies, never in URLs, and nothing is logged;
//   - it stops when the page is closed (the page says goodbye, and a missing heartbeat is
//     noticed) or after an idle time, and then closes the kit (the volume key is wiped)
//     and clears the secrets it holds.
//
// Imports: builder, drive, i18n, kit, luks, repo, ssss, strength, target and internal
// packages only.
package wizard
