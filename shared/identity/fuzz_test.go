package identity_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"identityservice/infra/testenv"
	"identityservice/shared/identity"
)

// FuzzParseTime holds ParseTime to: no panic; a refusal is an invalid-input
// error (400) that names the field; an accepted date-time formats back to
// RFC 3339 (as every answer shows it) and parses again to the same instant.
// Seeds: the dates of the sample events, and edge cases.
func FuzzParseTime(f *testing.F) {
	for _, dir := range []string{"clientcredentialclients", "hybridclients", "clientsecrets", "applicationsecrets"} {
		events, err := testenv.Events(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range events {
			for _, s := range quotedDates(string(e.Body)) {
				f.Add(s)
			}
		}
	}
	for _, s := range []string{"2031-06-30", "2031-06-30T00:00:00", "2031-06-30T00:00:00.123456789+05:30",
		"0000-01-01T00:00:00+23:59", "2031-01-01T00:00:00+24:00", "2031-01-01T00:00:00+05:60", "9999-12-31T23:59:59-23:59", "2031-02-30", "2031-13-01", "", "now", "2031-06-30T24:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := identity.ParseTime("Expiration", s)
		if err != nil {
			var e *identity.Error
			if !errors.As(err, &e) || e.Kind != identity.KindInvalid || !strings.Contains(e.Message, "Expiration") {
				t.Fatalf("ParseTime(%q) error %v: want an invalid-input error naming the field", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v: want UTC", s, got)
		}
		if !validOffset(s) {
			t.Fatalf("ParseTime(%q) = %v: accepted an offset outside -23:59..+23:59", s, got)
		}
		shown := got.Format(time.RFC3339Nano)
		again, err := identity.ParseTime("Expiration", shown)
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, shown as %q, which parses to %v, %v", s, got, shown, again, err)
		}
	})
}

// validOffset reports whether s ends in Z, or in an offset of at most
// 23:59 with minutes below 60, or has no offset.
func validOffset(s string) bool {
	if len(s) < 6 || (s[len(s)-6] != '+' && s[len(s)-6] != '-') || s[len(s)-3] != ':' {
		return true
	}
	var hh, mm int
	if _, err := fmt.Sscanf(s[len(s)-5:], "%02d:%02d", &hh, &mm); err != nil {
		return false
	}
	return hh < 24 && mm < 60
}

// quotedDates returns the JSON string values of body that look like dates.
func quotedDates(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `"`) {
		if len(part) >= 10 && part[4] == '-' && part[7] == '-' {
			out = append(out, part)
		}
	}
	return out
}
