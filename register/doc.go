// Package register keeps a helpline's register of the kits it prepares: one JSON line per
// event (a kit built, its keys changed, its tools refreshed), appended to a file the
// helpline keeps. Nothing in it can unlock anything: kit names, dates, versions, the LUKS
// UUID and the names of the colleagues holding escrow, never a key, a share or a recipient.
// From it, Due lists the kits whose recovery key or tools are due for renewal.
//
// Imports: i18n, kit and internal packages only.
package register
