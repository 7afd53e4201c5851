// Package builder plans and builds a travel kit on a target: it is where the whole story
// is known — partitions, the LUKS2 volume and its keyslots, ext4 inside, the tools
// partition's content, escrow — and the order of writes that never leaves a drive that
// looks like a good kit when the build did not finish.
//
// Imports: boot, drive, i18n, image, image/ext4, image/fat32, image/gpt, kit, luks, repo, target, tpm,
// tpmbind and internal packages only. It must not import profile (it takes a Config, so
// that any face can build) or the CLI.
package builder
