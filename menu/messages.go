package menu

// The menu's texts are in the kit's message catalogue (package i18n), one file per
// language: i18n/messages/<lang>.toml, table [menu]. Every call names its key literally
// (a.T("menu.main.body")), so that i18n's TestKeysExist finds it.

// drawsArabic reports whether d joins Arabic letters and writes right to left (a display
// that says so with a DrawsArabic method: the framebuffer's). A text console cannot.
func drawsArabic(d Display) bool {
	a, ok := d.(interface{ DrawsArabic() bool })
	return ok && a.DrawsArabic()
}
