// Package i18n holds every message a person reads from travelkit (the wizard, the CLI,
// the boot menu) in the kit's six languages, and chooses the language.
//
// # For translators
//
// Each language is one file, messages/<lang>.toml (en, es, fr, ar, ru, fa); en.toml is the
// reference. Messages are grouped in tables by where they appear ([wizard.unlock], ...).
// A placeholder such as %[1]s (text) or %[2]d (a number) is filled in by the program:
// keep every placeholder of the English message, numbered as there; a translation may put
// them in another order. %% is a percent sign. A message whose words change with a number
// is a table of forms, by the language's plural categories (CLDR):
//
//	[wizard.progress.files]
//	one = "%[1]d file"
//	other = "%[1]d files"
//
// Russian needs one, few, many and other; Arabic zero, one, two, few, many and other.
// The number that chooses the form is argument 1 unless the table says `arg = 2`. A form
// may leave that number out ("one = 'one file'"). TestCatalogue fails when a message is
// missing in a language, has a placeholder too many or too few, lacks a plural form the
// language needs, or puts a technical word (LUKS, keyslot, Argon2...) before the person.
//
// # When the English changes
//
// Next to each translation, messages/<lang>.source records which English each message
// was translated from: a short hash (8 hex digits of SHA-256) of en.toml's text, then
// the key. When an English message changes, TestTranslationsCurrent fails for each of
// the five languages, naming the key: update the translation (or find it still right),
// then accept it, which rewrites the record:
//
//	go test ./i18n/ -run TestTranslationsCurrent -accept fr:cli.copy.sent
//
// -accept takes a key, a table (fr:cli.copy), a language (fr) or all, comma-separated.
// A new message needs accepting in each language too, once it is translated.
//
// # Glossary: one word for one thing
//
// A frightened person reads "recovery key" on the printed page, the boot menu, the wizard
// and the command line: in each language it must be the same words everywhere. Each
// messages/<lang>.toml therefore holds a [glossary] (just before [strength]) with one
// table per thing the person meets: passphrase, recovery_key, kit, backup, snapshot,
// colleague, escrow, drive, tools_partition, encrypted_volume, administrator.
//
//	[glossary.recovery_key]
//	forms = ["clé de récupération", "clés de récupération"]
//	avoid = ["clé de secours", "clés de secours"]
//
// forms are the one chosen word as sentences need it (plural; Russian cases; Arabic and
// Persian attached forms: a form counts where it starts a word and may run on into a
// longer one, so "حقيبت" covers حقيبتك and حقيبتها, "снимк" covers снимка and снимков);
// avoid are rival words, wrong anywhere in that language. Vowel marks, the Persian
// half-space and line breaks do not matter. In en.toml, forms are the English words
// that call for the term, and not lists English phrases that only look like it ("header
// backup", "age passphrase", the folder named escrow) and skip lists tables the term is
// not checked in, rival words included (drive: --help speaks of any disk). TestGlossary
// fails when a message whose English uses a term has a translation with none of its
// forms, or any rival word; kit's TestGlossaryRestorePages checks the printed RESTORE
// pages (kit/messages_*.go) the same way. Where a sentence rightly leaves the term out,
// add "lang:key:term" with a reason to glossaryExceptions in glossary_test.go, or
// better, reword.
//
// The glossary sits in each language's own file, not in a file of its own, so that a
// translator still has one file per language and sees the words to use where the
// messages are; the loader skips [glossary] (it holds no message). The word chosen for
// each language is the one its messages already used most, and the one the wizard, the
// boot menu and the RESTORE pages use. "Repository" is not in it: the messages a person
// reads say "the backups" instead, and only --help names the repository.
//
// # For programmers
//
//	p := i18n.New(i18n.Choose(flagLang, i18n.OS()))
//	fmt.Println(p.T("wizard.unlock.title"))
//	fmt.Println(p.T("wizard.progress.files", n))
//
// Keys are literal strings at the call (TestKeysExist finds every p.T("...") in the
// module and fails for a key en.toml lacks). Numbers given to %d are written the
// language's way (1,234 in English, ١٬٢٣٤ in Arabic, ۱٬۲۳۴ in Persian): pass a year, a
// kit id or a port as a string. Printer.HTML escapes the arguments and isolates each in a
// <bdi> element so that a Latin file name inside Arabic text keeps its order. Message
// and Error carry a key and its arguments through a package that does not know the
// language, to be written out by the face (wizard, CLI, menu) that does.
//
// A language's file is parsed when a printer for it is first made (New), en.toml with
// it (the reference and the fallback): a program reads the languages it speaks, not all
// six.
//
// Imports: internal packages only. Every other package may import it; it imports none of them.
package i18n
