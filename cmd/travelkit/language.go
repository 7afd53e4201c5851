package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"travelkit/drive"
	"travelkit/i18n"
	"travelkit/image/ext4"
	"travelkit/internal/bytesize"
	"travelkit/internal/termsafe"
	"travelkit/kit"
	"travelkit/luks"
	"travelkit/mirror"
	"travelkit/remote"
	"travelkit/repo"
	"travelkit/target"
	"travelkit/tpm"
	"travelkit/tpmbind"
)

// tr writes what the person reads (prompts, progress lines, errors, hints and results)
// in their language: --lang, else LANGUAGE, LC_ALL, LC_MESSAGES, LANG, else the
// system's preferred languages (i18n.Choose), else English. Set once in run, before the
// command line is parsed, so that even a bad flag is reported in that language. --json
// output and what scripts parse (IDs, paths, sizes) are not translated. It is the
// command line's one printer: the passphrase-strength lines use it, and the wizard starts
// in tr.Lang(); nothing else chooses a language.
var tr = i18n.New("en")

// english writes the English text of messages (Error() and Hint() of errors: logs,
// scripts, wrapped errors).
var english = i18n.New("en")

// setLanguage chooses tr's language from the command line and the environment.
func setLanguage(args []string) {
	tr = i18n.New(i18n.Choose(langArg(args), i18n.OS()))
}

// langArg is the value of --lang in args (before a "--"), or "".
func langArg(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--lang="); ok {
			return v
		}
		if a == "--lang" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// errorT is an error a person reads in their language (its Error() is English).
func errorT(key string, args ...any) error { return i18n.Errorf(key, args...) }

// wrapT is errorT with a cause, for errors.Is and errors.As.
func wrapT(err error, key string, args ...any) error {
	e := i18n.Errorf(key, args...)
	e.Err = err
	return e
}

// usageErrorT is usageErrorf in the person's language.
func usageErrorT(key string, args ...any) error {
	return &cliError{code: ExitUsage, err: i18n.Errorf(key, args...)}
}

// withCodeT is withCode with a hint in the person's language.
func withCodeT(code int, err error, hintKey string, args ...any) error {
	if err == nil {
		return nil
	}
	m := i18n.M(hintKey, args...)
	return &cliError{code: code, err: err, hint: m.In(english), hintMsg: &m}
}

// hintIn is err's hint, in p's language when it has one.
func hintIn(err error, p *i18n.Printer) string {
	var ce *cliError
	if errors.As(err, &ce) && ce.hintMsg != nil {
		return ce.hintMsg.In(p)
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// describeError is err for the person: the first message of the catalogue in its chain,
// in their language; else, for the errors of the packages below that a person meets
// (packageErrors), the catalogue's words for them; else err's English text.
func describeError(err error) string {
	var ie *i18n.Error
	if errors.As(err, &ie) || tr.Lang() == "en" {
		return tr.Error(err)
	}
	var gu *mirror.GaveUpError // a file of a copy that failed every try: its cause, and the tries
	if errors.As(err, &gu) {
		return tr.T("cli.cause.gave_up", describeError(gu.Err), gu.Tries)
	}
	if m, ok := packageError(err); ok {
		return m.In(tr)
	}
	return err.Error()
}

// packageError is the catalogue's message for err when one of packageErrors matches it.
func packageError(err error) (i18n.Message, bool) {
	for _, pe := range packageErrors {
		if m, ok := pe(err); ok {
			return m, true
		}
	}
	return i18n.Message{}, false
}

// is matches an error of the packages below (errors.Is) to a message without arguments.
func is(target error, key string) func(error) (i18n.Message, bool) {
	return func(err error) (i18n.Message, bool) { return i18n.M(key), errors.Is(err, target) }
}

// as matches an error type of the packages below (errors.As) to a message made from it.
func as[E error](msg func(E) i18n.Message) func(error) (i18n.Message, bool) {
	return func(err error) (i18n.Message, bool) {
		var e E
		if !errors.As(err, &e) {
			return i18n.Message{}, false
		}
		return msg(e), true
	}
}

// packageErrors are the errors of the packages below that a person meets while finding,
// unlocking, backing up to and restoring from a kit or a repository, most specific first.
// Their English text stays in logs and in English output; the rest print their English
// text after the translated "error:".
var packageErrors = []func(error) (i18n.Message, bool){
	as(func(*repo.LockedError) i18n.Message { return i18n.M("cli.err.locked") }),
	is(repo.ErrWrongPassword, "cli.err.wrong_password"),
	is(repo.ErrNoRepository, "cli.err.no_repository"),
	is(repo.ErrNoRoom, "cli.err.no_room"),
	is(repo.ErrExists, "cli.cause.exists"),
	is(repo.ErrNoSubtree, "cli.cause.restore_no_subtree"),
	is(repo.ErrFolderNotCreated, "cli.cause.restore_no_folder"),
	is(repo.ErrLinkTargetFailed, "cli.cause.restore_link"),
	as(func(e *repo.NotRegularError) i18n.Message { return i18n.M("cli.cause.not_regular", fileKind(e.Mode)) }),
	as(func(e *repo.NotFolderError) i18n.Message { return i18n.M("cli.cause.not_folder", fileKind(e.Mode)) }),
	as(func(e *repo.MissingBlobError) i18n.Message {
		return i18n.M("cli.cause.restore_blob_missing", e.ID, "travelkit check --read-data")
	}),
	as(func(e *repo.SizeMismatchError) i18n.Message {
		return i18n.M("cli.cause.restore_size", num(e.Size), strconv.FormatUint(e.Recorded, 10))
	}),
	is(repo.ErrTooLarge, "cli.cause.too_large"),
	is(repo.ErrUnauthenticated, "cli.cause.unauthenticated"),
	is(luks.ErrWrongPassphrase, "cli.unlock.wrong"),
	is(luks.ErrWrongVolumeKey, "cli.cause.wrong_volume_key"),
	is(luks.ErrNotLUKS, "cli.cause.not_encrypted"),
	as(func(e *luks.MemoryError) i18n.Message {
		return i18n.M("cli.cause.memory", bytesize.Format(int64(e.NeedKiB)<<10), bytesize.Format(int64(e.AvailableKiB)<<10))
	}),
	as(func(e *drive.LostTableError) i18n.Message {
		return i18n.M("cli.cause.lost_table", termsafe.Name(e.Label))
	}),
	is(drive.ErrNotKit, "cli.cause.not_kit"),
	is(drive.ErrNoEscrowFiles, "cli.cause.no_escrow_files"),
	is(drive.ErrNoEscrowOpens, "cli.cause.no_escrow_opens"),
	as(func(e *drive.SharesNeededError) i18n.Message {
		return i18n.M("cli.cause.more_shares", e.Need-e.Have, e.Have, e.Need)
	}),
	as(func(e *kit.NeedMoreError) i18n.Message {
		return i18n.M("cli.cause.more_shares", e.Need-e.Have, e.Have, e.Need)
	}),
	is(kit.ErrIsShare, "cli.cause.is_share"),
	is(kit.ErrIncorrectIdentity, "cli.cause.wrong_identity"),
	is(kit.ErrBadRecoveryKey, "cli.cause.bad_recovery_key"),
	as(func(e *kit.TamperedError) i18n.Message { return i18n.M("cli.cause.tampered", len(e.Problems)) }),
	as(func(e *drive.TooSmallError) i18n.Message {
		return i18n.M("cli.cause.disk_too_small", bytesize.Format(e.Disk), bytesize.Format(e.Tools), bytesize.Format(e.Need))
	}),
	as(func(e *target.ReadBlockError) i18n.Message {
		return i18n.M("cli.cause.read_block", num(e.Off), e.Err.Error()) // the system's own words
	}),
	is(target.ErrNeedAdmin, "cli.cause.need_admin"),
	is(target.ErrWriteProtected, "cli.cause.write_protected"),
	as(func(e *target.RefusedError) i18n.Message {
		var reason any = e.Reason
		if e.ReasonMsg.Key != "" {
			reason = e.ReasonMsg // written in the person's language
		}
		return i18n.M("cli.cause.refused", e.Path, reason)
	}),
	is(tpmbind.ErrNotBound, "cli.cause.tpm_not_bound"),
	is(tpm.ErrNoTPM, "cli.cause.no_tpm"),
	as(func(*tpm.WrongPINError) i18n.Message { return i18n.M("cli.cause.tpm_wrong_pin") }),
	as(func(*tpm.LockoutError) i18n.Message { return i18n.M("cli.cause.tpm_lockout") }),
	as(func(e *tpm.PCRMismatchError) i18n.Message { return i18n.M("cli.cause.tpm_changed", e.Error()) }),
	as(func(*tpm.WrongTPMError) i18n.Message { return i18n.M("cli.cause.tpm_other") }),
	is(remote.ErrAuth, "cli.cause.remote_auth"),
	is(remote.ErrMissing, "cli.cause.remote_missing"),
	as(func(e *remote.NoSpaceError) i18n.Message {
		if e.Left > 0 {
			return i18n.M("cli.cause.remote_no_space_left", e.Host, bytesize.Format(e.Free), bytesize.Format(e.Left))
		}
		return i18n.M("cli.cause.remote_no_space_room", e.Host, bytesize.Format(e.Free), bytesize.Format(e.Need))
	}),
	is(remote.ErrNoSpace, "cli.cause.remote_no_space"),
	is(remote.ErrUnreachable, "cli.cause.remote_unreachable"),
	is(remote.ErrUntrusted, "cli.cause.remote_untrusted"),
	is(remote.ErrOtherRepository, "cli.cause.remote_other"),
	is(remote.ErrRefused, "cli.cause.remote_refused"),
	as(func(e *drive.KitFullError) i18n.Message {
		return i18n.M("cli.cause.kit_full", bytesize.Format(e.Free), bytesize.Format(e.Need), drive.ForgetCommand)
	}),
	is(ext4.ErrNoSpace, "cli.cause.volume_full"),
	is(ext4.ErrNeedsFsck, "cli.cause.volume_check"),
	as(func(e *repo.DiskFullError) i18n.Message {
		if e.Need > 0 {
			return i18n.M("cli.cause.folder_full_need", bytesize.Format(e.Need))
		}
		return i18n.M("cli.cause.folder_full")
	}),
	is(syscall.ENOSPC, "cli.cause.disk_full"),
	is(context.Canceled, "cli.cause.interrupted"),
	func(err error) (i18n.Message, bool) {
		return i18n.M("cli.err.permission", err.Error()), errors.Is(err, os.ErrPermission)
	},
	func(err error) (i18n.Message, bool) {
		return i18n.M("cli.err.not_found", err.Error()), errors.Is(err, os.ErrNotExist)
	},
}

// fileKind is what a file of mode m is (repo.KindOf), in the catalogue's words.
func fileKind(m os.FileMode) i18n.Message {
	switch repo.KindOf(m) {
	case repo.KindFIFO:
		return i18n.M("cli.cause.kind.fifo")
	case repo.KindCharDevice:
		return i18n.M("cli.cause.kind.char_device")
	case repo.KindBlockDevice:
		return i18n.M("cli.cause.kind.block_device")
	case repo.KindSocket:
		return i18n.M("cli.cause.kind.socket")
	case repo.KindSymlink:
		return i18n.M("cli.cause.kind.symlink")
	case repo.KindFolder:
		return i18n.M("cli.cause.kind.folder")
	case repo.KindReparsePoint:
		return i18n.M("cli.cause.kind.reparse_point")
	}
	return i18n.M("cli.cause.kind.file")
}

// prose escapes what could control the terminal in text for the person (termsafe.Text:
// names from a drive or a repository may be inside), but keeps the zero-width non-joiner
// and joiner, which Persian writes with every day and which control nothing.
func prose(s string) string { return joiners.Replace(termsafe.Text(s)) }

var joiners = strings.NewReplacer(`\u200c`, "\u200c", `\u200d`, "\u200d")

// num writes n in plain ASCII digits, as scripts read them: the catalogue's %d writes
// numbers the language's way (4,096 in English, ۴٬۰۹۶ in Persian), which suits counts
// but not byte sizes, offsets and other numbers a person may type again.
func num[T ~int | ~int64 | ~uint8 | ~uint32 | ~uint64](n T) string {
	return strconv.FormatInt(int64(n), 10)
}
