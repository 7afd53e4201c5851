// Package ssss splits a secret into Shamir shares and combines them, byte-compatible with
// Debian's ssss 0.5 (ssss-split and ssss-combine, by B. Poettering): shares that
// `ssss-split -t K -n N` prints are combined here, and `ssss-combine -t K` combines the
// shares made here. Only ssss's default mode is implemented: the secret is text (ASCII
// mode), its security level is 8 bits per character, and the diffusion layer is on.
//
// The scheme: in GF(2^m), the secret (after diffusion) is the constant term of a random
// polynomial of degree K-1; share i is its value at x = i. ssss adds the term x^K to the
// polynomial before evaluating, and takes it off again when combining, so K is part of the
// scheme: shares only combine under the threshold they were made with.
//
// Imports: internal packages only.
package ssss
