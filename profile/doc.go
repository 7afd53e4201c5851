// Package profile reads kit profiles: short TOML files that say what a travel kit holds
// (name, languages of the instructions, sizes, LUKS2 parameters, recovery key, escrow
// recipients, platforms, TPM2 enrolment). Parsing is strict: an unknown key, a value of the
// wrong type or an invalid value is an error that names the file and line, as
// `profile.toml:7: unknown key "luks.sector_sise" (did you mean "luks.sector_size"?)`.
//
// Imports: image/fat32, kit, luks, ssss and internal packages only. It must not import
// builder, drive, target or tpm: the CLI turns a profile into a builder.Config.
package profile
