package scram

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// saslPrep prepares a password as PostgreSQL's pg_saslprep does before
// deriving a verifier (RFC 4013 SASLprep), so that a password with
// non-ASCII characters gives the verifier PostgreSQL would store and
// libpq's clients, which prepare it too, log in with it: non-ASCII
// spaces become spaces, characters mapped to nothing go, the result is
// NFKC-normalised. A password that is not valid UTF-8 or that holds a
// prohibited character is used as it is, as PostgreSQL does. Unlike
// PostgreSQL this does not check for code points unassigned in Unicode
// 3.2, which PostgreSQL also takes as they are.
func saslPrep(password string) string {
	ascii := true
	for i := 0; i < len(password); i++ {
		if password[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || !utf8.ValidString(password) {
		return password
	}
	mapped := make([]rune, 0, len(password))
	for _, r := range password {
		switch {
		case mappedToNothing(r):
		case r != ' ' && unicode.Is(unicode.Zs, r):
			mapped = append(mapped, ' ')
		default:
			mapped = append(mapped, r)
		}
	}
	out := norm.NFKC.String(string(mapped))
	for _, r := range out {
		if prohibited(r) {
			return password
		}
	}
	return out
}

// mappedToNothing is RFC 3454 table B.1.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x1806, r >= 0x180B && r <= 0x180D, r >= 0x200B && r <= 0x200D,
		r == 0x2060, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF:
		return true
	}
	return false
}

// prohibited is SASLprep's prohibited output (RFC 4013 §2.3): spaces
// other than ASCII's, control characters, private use, non-characters,
// surrogates, and the characters RFC 3454 tables C.6 to C.9 list.
func prohibited(r rune) bool {
	switch {
	case r != ' ' && unicode.Is(unicode.Zs, r):
		return true
	case unicode.IsControl(r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return true
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE:
		return true
	case r >= 0xFFF9 && r <= 0xFFFD, r >= 0x2FF0 && r <= 0x2FFB, r == 0x0340, r == 0x0341,
		r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x206A && r <= 0x206F,
		r == 0xE0001, r >= 0xE0020 && r <= 0xE007F:
		return true
	case r >= 0x2028 && r <= 0x2029, r == 0x180E, r >= 0x1D173 && r <= 0x1D17A:
		return true
	}
	return false
}
