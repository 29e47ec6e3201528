package testenv

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"identityservice/infra/emulator"
)

// Event is the part of an API Gateway v2 sample event under events/ that
// fuzz targets seed from.
type Event struct {
	Name    string            // file name without .json
	Headers map[string]string `json:"headers"`
	Body    []byte            // decoded from base64 when isBase64Encoded
}

// Events reads the sample events of events/<dir> in file name order, for
// fuzz seed corpora.
func Events(dir string) ([]Event, error) {
	root, err := emulator.RepoRoot()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(root, "events", dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Event
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var e struct {
			Headers         map[string]string `json:"headers"`
			Body            string            `json:"body"`
			IsBase64Encoded bool              `json:"isBase64Encoded"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, err
		}
		body := []byte(e.Body)
		if e.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
				return nil, err
			}
		}
		name := filepath.Base(f)
		out = append(out, Event{Name: name[:len(name)-len(".json")], Headers: e.Headers, Body: body})
	}
	return out, nil
}
