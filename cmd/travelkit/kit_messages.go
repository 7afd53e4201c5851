package main

// Helpers for the messages of the commands that make and change kits (build, keys,
// refresh, remote, copy): the builder's stage names and errors with their cause.

// causeT is wrapT with the cause's text, in the person's language where the catalogue
// has words for it, as the message's last argument.
func causeT(err error, key string, args ...any) error {
	return wrapT(err, key, append(args, describeError(err))...)
}

// stageKeys name the builder's progress stages in the catalogue.
var stageKeys = map[string]string{
	"clearing the old partition table":               "cli.stage.clear",
	"creating the encrypted volume (key derivation)": "cli.stage.volume",
	"adding the recovery key":                        "cli.stage.recovery",
	"creating the encrypted filesystem":              "cli.stage.filesystem",
	"writing the partition table":                    "cli.stage.table",
	"binding the kit to the TPM":                     "cli.stage.tpm",
	"filling the data partition with random data":    "cli.stage.wipe",
	"writing the tools partition":                    "cli.stage.tools",
}

// stageLabel is a builder stage in the person's language (as it is when the catalogue
// does not know it).
func stageLabel(stage string) string {
	if k, ok := stageKeys[stage]; ok {
		return tr.T(k)
	}
	return stage
}
