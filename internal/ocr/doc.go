// Package ocr reads the text of a picture of a screen with Debian's tesseract-ocr (with
// tesseract-ocr-ara and tesseract-ocr-fas, installed by scripts/install-test-deps.sh),
// for tests that check what a person sees: the boot menu drawn in Arabic and Persian.
// For tests only.
//
// Imports: internal packages only.
package ocr
