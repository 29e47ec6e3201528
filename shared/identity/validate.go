package identity

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

const nilGUID = "00000000-0000-0000-0000-000000000000"

// ParseGUID checks that value is a GUID in its 36-character form and returns
// it in lower case, the form ids are stored and compared in.
func ParseGUID(field, value string) (string, error) {
	if !guidPattern.MatchString(value) {
		return "", Invalid("%s %q is not a GUID.", "Use a GUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301.", field, truncate(value, 64))
	}
	v := strings.ToLower(value)
	if v == nilGUID {
		return "", Invalid("%s must not be the empty GUID.", "Use a GUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301.", field)
	}
	return v, nil
}

// ValidateName checks a client's Name: required, at most MaxNameLength
// characters, no control or invisible formatting characters.
func ValidateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return Invalid("Name is required and must not be blank.", fmt.Sprintf("Send a Name of 1 to %d characters.", MaxNameLength))
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return Invalid("Name has %d characters; the limit is %d.", "Shorten the Name.", n, MaxNameLength)
	}
	if hasControl(name) {
		return Invalid("Name contains control characters.", "Remove line breaks, tabs and other control characters from the Name.")
	}
	return refuseInvisible("Name", name)
}

// NormalizeTags validates tags and returns them without duplicates, in the
// order first given.
func NormalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		if strings.TrimSpace(t) == "" {
			return nil, Invalid("Tags[%d] is blank.", "Remove blank tags.", i)
		}
		if n := utf8.RuneCountInString(t); n > MaxTagLength {
			return nil, Invalid("Tags[%d] has %d characters; the limit is %d.", "Shorten the tag.", i, n, MaxTagLength)
		}
		if hasControl(t) {
			return nil, Invalid("Tags[%d] contains control characters.", "Remove control characters from the tag.", i)
		}
		if err := refuseInvisible(fmt.Sprintf("Tags[%d]", i), t); err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, Invalid("%d distinct Tags were sent; the limit is %d.", fmt.Sprintf("Send at most %d tags.", MaxTags), len(out), MaxTags)
	}
	return out, nil
}

// NormalizeRoleIDs validates the roles of a client created or updated
// through the tenant API: GUIDs of tenant roles that include Account Member.
// Cluster roles are refused: granting them here would be privilege escalation.
func NormalizeRoleIDs(ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	seen := map[string]bool{}
	member := false
	for i, raw := range ids {
		id, err := ParseGUID(fmt.Sprintf("RoleIds[%d]", i), raw)
		if err != nil {
			return nil, err
		}
		role, ok := RoleByID(id)
		if !ok {
			return nil, Invalid("RoleIds[%d] %s is not a known role.", fmt.Sprintf("Use tenant role ids: Account Administrator %s, Account Member %s.", RoleAccountAdministrator, RoleAccountMember), i, id)
		}
		if role.Cluster {
			return nil, Invalid("RoleIds[%d] is the cluster role %q, which cannot be granted through the tenant API.", "Remove it; only tenant roles (Account Administrator, Account Member) can be assigned here.", i, role.Name)
		}
		if id == RoleAccountMember {
			member = true
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if !member {
		return nil, Invalid("RoleIds must include the Account Member role.", fmt.Sprintf("Add %s (Account Member) to RoleIds.", RoleAccountMember))
	}
	return out, nil
}

// knownRoles checks that every id is a known role, of any kind.
func knownRoles(ids []string) ([]string, error) {
	out := []string{}
	for i, id := range ids {
		role, ok := RoleByName(id)
		if !ok {
			return nil, Invalid("Role %d %q is not a known role.", "Use Account Administrator, Account Member, Cluster Operator or Cluster Support.", i, id)
		}
		if !slices.Contains(out, role.ID) {
			out = append(out, role.ID)
		}
	}
	if len(out) == 0 {
		return nil, Invalid("At least one role is needed.", "Name a role.")
	}
	return out, nil
}

// ValidateDescription checks a secret description.
func ValidateDescription(field, d string) error {
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLength {
		return Invalid("%s has %d characters; the limit is %d.", "Shorten it.", field, n, MaxDescriptionLength)
	}
	if hasControl(d) {
		return Invalid("%s contains control characters.", "Remove control characters.", field)
	}
	return refuseInvisible(field, d)
}

// Time layouts accepted on input, tried in order. A time without an offset
// is taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

// ParseTime parses a date-time sent by a caller. Its UTC year must be 1 to
// 9999, so that it shows as RFC 3339 again ("9999-12-31T23:59:59-23:59"
// is in the year 10000 in UTC, which RFC 3339 cannot write).
func ParseTime(field, s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if !offsetInRange(s) {
				return time.Time{}, Invalid("%s %q has an offset out of range.", "Use an offset from -23:59 to +23:59, e.g. 2030-01-31T12:00:00-07:00.", field, truncate(s, 64))
			}
			if y := t.UTC().Year(); y < 1 || y > 9999 {
				return time.Time{}, Invalid("%s %q is out of range: in UTC it falls in the year %d.", "Send a date-time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.", field, truncate(s, 64), y)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, Invalid("%s %q is not a date-time.", "Use ISO 8601 / RFC 3339, e.g. 2030-01-31T12:00:00Z or 2030-01-31T12:00:00-07:00.", field, truncate(s, 64))
}

// offsetInRange reports whether a numeric offset at the end of s, if any,
// is a valid RFC 3339 one (hours 00-23, minutes 00-59); time.Parse takes
// +24:00 and +05:60.
func offsetInRange(s string) bool {
	if len(s) < 6 || (s[len(s)-6] != '+' && s[len(s)-6] != '-') || s[len(s)-3] != ':' {
		return true
	}
	hh, mm := s[len(s)-5:len(s)-3], s[len(s)-2:]
	return hh <= "23" && mm <= "59"
}

// ValidateExpiration checks that an expiration, if any, is in the future.
func ValidateExpiration(field string, exp *time.Time, now time.Time) error {
	if exp != nil && !exp.After(now) {
		return Invalid("%s %s is not in the future.", "Send a later date, or null for a secret that never expires.", field, exp.Format(time.RFC3339))
	}
	return nil
}

// ValidateRedirectURI checks a redirect or post-logout redirect URI:
// absolute, no fragment, https unless the host is a loopback address; a
// custom scheme (for native apps) is allowed.
func ValidateRedirectURI(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return Invalid("%s %q is not an absolute URI.", "Send an absolute URI such as https://app.example.com/callback.", field, truncate(raw, 100))
	}
	if len(raw) > MaxURILength {
		return Invalid("%s is longer than %d characters.", "Shorten the URI.", field, MaxURILength)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return Invalid("%s %q has a fragment.", "Remove the #fragment: redirect URIs must not have one.", field, truncate(raw, 100))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		if u.Host == "" {
			return Invalid("%s %q has no host.", "Send a URI such as https://app.example.com/callback.", field, truncate(raw, 100))
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return Invalid("%s %q uses http with a host that is not loopback.", "Use https, or http only with localhost, 127.0.0.1 or [::1].", field, truncate(raw, 100))
		}
	case "javascript", "data", "file", "vbscript":
		return Invalid("%s %q uses the %s scheme, which is not allowed.", "Use https, loopback http, or a custom scheme for a native app.", field, truncate(raw, 100), u.Scheme)
	}
	return nil
}

// ValidateWebURI checks ClientUri and LogoUri: absolute http(s) URIs.
func ValidateWebURI(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return Invalid("%s %q is not an absolute http(s) URI.", "Send a URI such as https://app.example.com/.", field, truncate(raw, 100))
	}
	if len(raw) > MaxURILength {
		return Invalid("%s is longer than %d characters.", "Shorten the URI.", field, MaxURILength)
	}
	return nil
}

// isLoopback reports whether a URI's host is loopback: localhost, or an IP
// address in 127.0.0.0/8 or ::1 (not a DNS name that merely starts "127.").
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// refuseInvisible refuses Unicode format characters (category Cf: bidi
// overrides and isolates, zero-width spaces and joiners, the byte order
// mark) and the line and paragraph separators: they change how a name reads
// without showing, so "admin\u202e" would pass for "admin" on a consent
// screen or in the portal. The answer names the code point, which the
// caller cannot see.
func refuseInvisible(field, s string) error {
	i := strings.IndexFunc(s, func(r rune) bool {
		return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
	})
	if i < 0 {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return Invalid("%s contains the invisible formatting character U+%04X at byte %d.", "Remove bidi overrides, zero-width and other invisible formatting characters.", field, r, i)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
