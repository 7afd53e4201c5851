// Package kit produces what a travel kit carries besides the encrypted data: the recovery
// key, the escrow files that hold it for colleagues, the RESTORE instructions in several
// languages, and the manifest and SHA256SUMS that let `travelkit verify` detect a tools
// partition that was tampered with.
//
// Everything here is a standard format: the recovery key has the shape of systemd's
// recovery keys, escrow files are age files that the stock `age -d -i IDENTITY` opens, and
// SHA256SUMS is read by `sha256sum -c`. The package knows nothing about disks, partitions
// or LUKS: the builder writes what it returns, and hands it a view of the files to verify.
//
// Building the tools content of a kit, in order:
//
//	key, _ := kit.GenerateRecoveryKey()        // keyslot 1's passphrase, as is
//	for each escrow entry:
//	    file, _ := kit.Escrow(key, recipient)  // write at kit.EscrowPath(name)
//	pages, _ := kit.RestorePages(kit.RestoreInfo{...})
//	m := &kit.Manifest{KitID: ..., Created: ..., Version: ..., LUKSUUID: ..., Keyslots: ..., Escrow: ...}
//	for each file written (binaries at kit.BinaryPath(platform), pages, escrow files):
//	    m.Add(path, contents)
//	manifestJSON, sums, _ := m.Encode()
//	// write both at the root of the tools partition (kit.ManifestName, kit.SumsName) and,
//	// as the trusted copy, under kit.TrustedDir ("travelkit/") inside the encrypted volume.
//
// Verifying: kit.Verify(tree, trustedManifest, trustedSums) with the tools partition as a
// kit.Tree; the Report names every missing, extra and modified file.
//
// Imports: ssss and internal packages only. It must not import luks, image, repo, target,
// drive or builder: it knows nothing about disks, partitions or LUKS.
package kit
