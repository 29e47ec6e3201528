package identity

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Paging limits of every list.
const (
	DefaultListCount = 100
	MaxListCount     = 1000
	// MaxSkip bounds skip so that skip+count, the items a page reads from
	// the start of its order, always fits the int32 of a DynamoDB Query's
	// Limit.
	MaxSkip = math.MaxInt32 - MaxListCount
)

// ListOptions select a page of a list: Skip items, then at most Count;
// for client lists, only those that carry at least one of Tags (none:
// every client).
type ListOptions struct {
	Skip  int
	Count int
	Tags  []string
}

// ParseListOptions reads a list's skip (default 0), count (default
// DefaultListCount) and tags as a caller sent them, and validates them
// (ListOptions.Valid).
func ParseListOptions(skip, count string, tags []string) (ListOptions, error) {
	o := ListOptions{Skip: 0, Count: DefaultListCount, Tags: tags}
	var err error
	if o.Skip, err = intOption("skip", skip, 0, 0, MaxSkip); err != nil {
		return o, err
	}
	if o.Count, err = intOption("count", count, DefaultListCount, 1, MaxListCount); err != nil {
		return o, err
	}
	return o.Valid()
}

// Valid returns the options with their tags made distinct, or a 400 that
// names what is out of bounds: skip beyond MaxSkip, count outside 1 to
// MaxListCount, more than MaxTags distinct tags, or a tag longer than
// MaxTagLength (no client can carry it). Each distinct tag costs a read
// of its entries, so their number is bounded before anything is read.
func (o ListOptions) Valid() (ListOptions, error) {
	if o.Skip < 0 || o.Skip > MaxSkip {
		return o, rangeError("skip", strconv.Itoa(o.Skip), 0, 0, MaxSkip)
	}
	if o.Count < 1 || o.Count > MaxListCount {
		return o, rangeError("count", strconv.Itoa(o.Count), DefaultListCount, 1, MaxListCount)
	}
	var tags []string
	for i, tag := range o.Tags {
		if n := utf8.RuneCountInString(tag); n > MaxTagLength {
			return o, &Error{Kind: KindInvalid, Code: CodeInvalid, Field: "tags", Limit: MaxTagLength, Count: n,
				Message: fmt.Sprintf("tags[%d] has %d characters; the limit is %d, so no client carries it.", i, n, MaxTagLength),
				Hint:    "Send tags of at most " + strconv.Itoa(MaxTagLength) + " characters."}
		}
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
		if len(tags) > MaxTags {
			return o, &Error{Kind: KindInvalid, Code: CodeInvalid, Field: "tags", Limit: MaxTags, Count: len(tags),
				Message: fmt.Sprintf("More than %d distinct tags were sent; the limit is %d.", MaxTags, MaxTags),
				Hint:    fmt.Sprintf("Send at most %d tags; a client matches if it carries any of them.", MaxTags)}
		}
	}
	o.Tags = tags
	return o, nil
}

func intOption(name, raw string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		return 0, rangeError(name, raw, def, lo, hi)
	}
	return v, nil
}

// rangeError is the 400 of a paging option out of its range.
func rangeError(name, raw string, def, lo, hi int) error {
	return &Error{Kind: KindInvalid, Code: CodeInvalid, Field: name, Limit: hi,
		Message: fmt.Sprintf("%s=%s is not valid: it must be an integer from %d to %d.", name, truncate(raw, 64), lo, hi),
		Hint:    fmt.Sprintf("Send a whole number in that range, e.g. %s=%d.", name, def)}
}
