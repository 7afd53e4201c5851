package kit

// messages holds the sentences of the RESTORE pages in one language. Placeholders in
// braces ({kit}, {date}, {drive}, {wintarget}, {unixtarget}, {mac}, {linux}, {linux2},
// {names}, {k}) are filled in by the renderer; commands are never translated and live in the
// templates. Button names are given in the language and, where the computer may well be
// set up in English, also in English.
type messages struct {
	Title, Subtitle, Calm, Tampered, Need string

	EasyTitle, Easy, EasyFallback string

	WarnTitle, Warn, WarnWindows, WarnMac string

	WinTitle, WinPlug, WinExplorer, WinAdmin, WinRun, WinRunARM, WinPassphrase, WinDone string

	MacTitle, MacPlug, MacChip, MacTerminal, MacRun, MacRunIntel, MacPassword, MacBlocked, MacDone string

	LinuxTitle, LinuxPlug, LinuxTerminal, LinuxRun, LinuxRunARM, LinuxPath, LinuxPassword, LinuxDone string

	BootTitle, BootIntro, BootKeys, BootSee, BootNo string

	NoProgram, Chown string

	UnlockTitle, RecoveryTitle, Recovery, RecoveryFile, TPMTitle, TPMNote string

	ColleagueTitle, Colleagues, ColleagueDecrypt, ColleagueHandover, ColleagueIdentity, NoColleagues string

	SharesColleagues, SharesDecrypt, SharesHandover, SharesStock string

	RevivalTitle, Revival, RevivalLimits string

	StockTitle, StockIntro, StockPassphrase string

	OffSiteTitle, OffSite, OffSiteStock string
	// OffSiteKept replaces OffSite on a kit whose repository is copied off-site
	OffSiteKept string

	VerifyTitle, VerifyWhy, VerifyWhat, VerifyStock string

	SafetyTitle, Safety, HelpTitle, Help, OtherLangs, Footer string
}

var catalogs = map[string]*messages{
	"en": &en, "es": &es, "fr": &fr, "ar": &ar, "ru": &ru, "fa": &fa,
}

var en = messages{
	Title:    "How to get your files back",
	Subtitle: "Travel kit {kit}, made on {date}",
	Calm: "Take a breath. Your files are safe: they are encrypted on this drive, and nobody can read them " +
		"without your passphrase, your recovery key, or the help of a colleague named below. Go step by step. " +
		"The one thing that can do harm is formatting the drive: the warning below tells you how to avoid it.",
	Tampered: "If the drive was out of your sight (taken at a border, seized, lent), first read " +
		"“Was the drive tampered with?” near the end.",
	Need: "You need: this drive; a computer with Windows, macOS or Linux; your passphrase or recovery key; " +
		"and the right to run programs as administrator on that computer. No internet connection is needed.",

	EasyTitle:    "The easy way: double-click travelkit",
	Easy:         "Plug in the drive and open TRAVELKIT in your file manager (File Explorer, Finder). In the folder bin, double-click the travelkit program for this computer: amd64 is for most Windows and Linux computers and for Macs with Intel, arm64 for Macs with Apple silicon and other ARM computers.",
	EasyFallback: "Your web browser opens and guides you step by step, in your language. Click the button that asks for permission and type the password of this computer, then your passphrase. No command to type. If nothing opens, or the computer refuses to run it, follow the steps for your computer below.",

	WarnTitle: "Never format the drive",
	Warn: "The drive has two parts: a small visible one named TRAVELKIT, with the programs and these " +
		"instructions, and a large encrypted one with your backups. Windows and macOS cannot read the " +
		"encrypted part and will offer to “initialize” or “format” it. Always say no: formatting " +
		"destroys your backups.",
	WarnWindows: "Windows: “You need to format the disk before you can use it” → click Cancel. " +
		"“Initialize Disk” → click Cancel.",
	WarnMac: "macOS: “The disk you attached was not readable by this computer” → click Ignore, never Initialize.",

	WinTitle:    "On Windows",
	WinPlug:     "Plug in the drive. If Windows offers to format a disk, click Cancel.",
	WinExplorer: "Open File Explorer and find the drive named TRAVELKIT. Note its letter, for example {drive}",
	WinAdmin: "Right-click the Start button and choose “Terminal (Admin)” or “Windows PowerShell (Admin)”. " +
		"Click Yes when Windows asks for permission.",
	WinRun:        "Type this command and press Enter. If the letter of TRAVELKIT is not {drive}, change it in the command:",
	WinRunARM:     "On a computer with an ARM processor (Snapdragon, for example), use this one instead:",
	WinPassphrase: "Type your passphrase when asked and press Enter. Nothing appears while you type: that is normal.",
	WinDone:       "Your files appear in the folder {wintarget}, under their original folder names.",

	MacTitle: "On macOS",
	MacPlug:  "Plug in the drive. If macOS says the disk is not readable, click Ignore.",
	MacChip: "Find out which processor this Mac has: Apple menu → About This Mac. “Chip: Apple M…” " +
		"means Apple silicon; “Processor: … Intel” means Intel.",
	MacTerminal: "Open Terminal: press Command+Space, type Terminal, press Enter.",
	MacRun:      "On a Mac with Apple silicon, type this command and press Enter:",
	MacRunIntel: "On a Mac with an Intel processor, type this one instead:",
	MacPassword: "Type the password of this Mac's user account (sudo asks for it), then your passphrase. " +
		"Nothing appears while you type: that is normal. If macOS asks whether Terminal may access " +
		"files on a removable volume, click Allow.",
	MacBlocked: "If macOS says that “travelkit” cannot be opened or that Apple could not verify it, " +
		"type this command, then the restore command again (or, in Finder, Control-click travelkit and choose Open):",
	MacDone: "Your files appear in the folder Restored in your home folder.",

	LinuxTitle:    "On Linux",
	LinuxPlug:     "Plug in the drive. If the desktop asks for a password to unlock it, click Cancel: travelkit opens it itself.",
	LinuxTerminal: "Open a terminal (often Ctrl+Alt+T).",
	LinuxRun:      "Type this command and press Enter:",
	LinuxRunARM:   "On a computer with an ARM processor, use this one instead:",
	LinuxPath:     "If the drive is not found there, replace {linux} with {linux2} in the command.",
	LinuxPassword: "Type your user password (sudo asks for it), then your passphrase. Nothing appears while you type: that is normal.",
	LinuxDone:     "Your files appear in the folder Restored in your home folder.",

	BootTitle: "Or start the computer from this drive (PCs and Intel Macs)",
	BootIntro: "On a borrowed computer, or one that no longer starts, you can start the computer from this drive instead of its own system. Your passphrase is then never typed into that system, nothing is installed, and no administrator rights are needed. Secure Boot can stay on.",
	BootKeys:  "Shut the computer down and plug in the drive. Switch it on and at once press the boot-menu key again and again until a list of drives appears, then choose the USB drive (it may be called “UEFI: USB” or carry the name of the stick). The key depends on the maker:",
	BootSee:   "A text menu appears with the name of this kit, and it says whether Secure Boot is on. Move with the arrow keys and Enter, or type the number of a line. Unlock the kit, then choose Restore (your files onto this computer or another drive) or Rescue (save this computer's own files into the kit, for example from a laptop that no longer starts). Choose Power off at the end: the kit is then closed safely.",
	BootNo:    "Macs with Apple silicon (M1, M2…) and PCs with an ARM processor cannot start from this drive: use the steps for macOS or Windows above.",

	NoProgram: "This kit carries no program for this system. Use another computer, or the standard tools on Linux described below.",
	Chown:     "On macOS and Linux, if you cannot open the restored files, type:",

	UnlockTitle:   "Other ways to unlock",
	RecoveryTitle: "With the recovery key",
	Recovery: "The recovery key is 64 letters in 8 groups separated by dashes. Type it when travelkit " +
		"asks for the passphrase.",
	RecoveryFile: "Or save it in a text file named recovery-key.txt and add this at the end of the restore command:",

	TPMTitle: "With your laptop's security chip (TPM)",
	TPMNote:  "This kit is also bound to the TPM of the laptop it was made on. On that laptop only, add this at the end of the restore command, and type your PIN if asked. After a firmware or Secure Boot update this may stop working: then use your passphrase or recovery key.",

	ColleagueTitle: "With a colleague's help",
	Colleagues: "These people hold a sealed copy of the recovery key of this kit: {names}. " +
		"Each copy is also in the folder escrow on this drive. Only that person's secret key opens it.",
	ColleagueDecrypt: "Contact one of them. On a computer they trust, they open their copy with this command " +
		"(with their key file in place of KEY-FILE); it shows the recovery key:",
	ColleagueHandover: "They give you the key in person or over a secure channel such as Signal. Use it as the recovery key above.",
	ColleagueIdentity: "If you have the colleague's key file with you, add this at the end of the restore command instead:",
	NoColleagues:      "No colleague holds a copy of the recovery key of this kit.",
	SharesColleagues: "These people each hold a sealed share of the recovery key of this kit: {names}. " +
		"{k} of them must help together: one share alone reveals nothing. Each share is also in the folder " +
		"escrow on this drive; only that person's secret key opens it.",
	SharesDecrypt: "Contact {k} of them. On a computer they trust, each one opens their copy with this command " +
		"(with their key file in place of KEY-FILE); it shows one line, their share:",
	SharesHandover: "They give you their lines in person or over a secure channel such as Signal. Save each line in " +
		"a file of its own, and add this at the end of the restore command, once for each file:",
	SharesStock: "Without travelkit, on a Linux computer with the ssss package, this command asks for the {k} lines " +
		"and shows the recovery key:",
	RevivalTitle: "If no key opens the drive any more",
	Revival: "The drive may have been erased on purpose before a border (travelkit erase): its keys were " +
		"destroyed, your backups were not. A colleague named above keeps a copy of the drive's header " +
		"(luks-header.age, in their copy of the escrow folder). Once you are safe, they bring the drive back " +
		"with these commands (in place of DRIVE: the name of the drive, as in “Was the drive tampered " +
		"with?”); then your old passphrase opens it again, with every backup:",
	RevivalLimits: "This works only while that colleague can be reached and still has the copy. It does not " +
		"change the encryption key: anyone who kept an old copy of the header and a passphrase of that time " +
		"can open the drive too.",

	OffSiteTitle: "If this drive is lost or taken: the off-site copy",
	OffSite: "The person or helpline who made this kit may keep an encrypted copy of its backups on a server of " +
		"theirs. Ask them whether there is one and for its location (it starts with sftp:, s3: or rest:). " +
		"On any computer, without this drive, the recovery key opens it: save the key in a text file named " +
		"recovery-key.txt and run travelkit (from another kit, or from the person who made this one) with the " +
		"location in place of LOCATION:",
	OffSiteStock: "restic, a standard program for Windows, macOS and Linux, opens the copy too:",
	OffSiteKept: "This kit's backups are also copied, encrypted, to a server of the person or helpline who made it. " +
		"Ask them for its location (it starts with sftp:, s3: or rest:). " +
		"On any computer, without this drive, the recovery key opens it: save the key in a text file named " +
		"recovery-key.txt and run travelkit (from another kit, or from the person who made this one) with the " +
		"location in place of LOCATION:",

	StockTitle: "On Linux without travelkit (standard tools)",
	StockIntro: "If travelkit does not run, a Linux computer with cryptsetup and restic installed can restore the " +
		"files. The command lsblk shows the drives: replace /dev/sdX2 with the second partition of this drive " +
		"(for example /dev/sdb2).",
	StockPassphrase: "cryptsetup asks for your passphrase; the recovery key works too.",

	VerifyTitle: "Was the drive tampered with?",
	VerifyWhy: "Someone who had the drive could have replaced the programs on its visible part, to steal your " +
		"passphrase. The encrypted part keeps a list of every file as it was made. Check the drive with a " +
		"travelkit you trust (from another kit, or from the person who made this one), not with the one on " +
		"this drive; use the name of the drive that travelkit shows:",
	VerifyWhat: "travelkit asks for your passphrase and names every file that was changed, added or removed. " +
		"If it reports a problem, do not run the programs on this drive: ask for help.",
	VerifyStock: "With the standard tools on Linux, after the cryptsetup open and mount commands above:",

	SafetyTitle: "On a borrowed computer",
	Safety: "Restore only what you need. When you are done, delete the Restored folder, empty the Recycle " +
		"Bin or Trash, and eject the drive before unplugging it.",
	HelpTitle: "If you are stuck",
	Help: "Write down the exact error message. Contact the person or organisation that gave you this kit, or " +
		"a colleague named above, and tell them the name of the kit: {kit}.",
	OtherLangs: "These instructions in other languages, on this drive:",
	Footer:     "Made with travelkit for the kit {kit} on {date}.",
}
