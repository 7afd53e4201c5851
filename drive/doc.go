// Package drive knows the layout of a travel kit drive and opens one: a GPT with
// partition 1, the FAT32 tools partition (label TRAVELKIT), and partition 2, a LUKS2
// volume holding ext4. It reads and unlocks kits; package builder writes them.
//
// Imports: image, image/ext4, image/fat32, image/gpt, kit, luks, remote, repo, ssss, target
// and internal packages only. It must not import builder, profile, tpm or the CLI: builder
// writes kits through it.
package drive
