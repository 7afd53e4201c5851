// Package tpmbind binds a LUKS2 volume to a TPM2 exactly as systemd-cryptenroll does: a
// keyslot whose passphrase is a secret sealed to the TPM, a systemd-tpm2 token naming that
// keyslot, and travelkit's PCR record token beside it (to name the PCRs that changed when
// the TPM refuses). It lists, enrols, reseals, drops and unseals such bindings.
//
// It is the one place that knows both packages luks and tpm, which know nothing of each
// other. It must not import drive, builder, kit or the CLI: those call it.
//
// Imports: luks, tpm and internal packages only. It must not import drive, builder, kit or
// the CLI: those call it.
package tpmbind
