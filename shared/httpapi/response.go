package httpapi

import (
	"net/http"
)

// Response is a handler's successful answer: a status, headers, and a body
// that is JSON-encoded (Body), sent as it is (Raw, with ContentType), or
// absent (both nil).
type Response struct {
	Status      int
	Header      map[string]string
	Body        any    // encoded as JSON (Content-Type: application/json; charset=utf-8)
	Raw         []byte // an already encoded body, sent as it is
	ContentType string // of Raw
}

// NoStore adds to headers (nil: none) those of an answer that carries a
// secret (a client secret, an access token): no cache may keep it
// (RFC 6749 5.1).
func NoStore(headers map[string]string) map[string]string {
	out := map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache"}
	for k, v := range headers {
		out[k] = v
	}
	return out
}

// Handler is the one way every route answers: a Response, or an error,
// which the route family's error format (the table errorFormats) writes.
// w is there for what must see the connection (http.MaxBytesReader in
// DecodeJSON) and for headers that belong on every answer of a route,
// errors included (the token endpoint's Cache-Control); a handler does not
// write a body to it.
type Handler func(w http.ResponseWriter, r *http.Request) (Response, error)

// serve runs h and writes its answer.
func serve(h Handler, w http.ResponseWriter, r *http.Request) {
	res, err := h(w, r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	for k, v := range res.Header {
		w.Header().Set(k, v)
	}
	switch {
	case res.Raw != nil:
		if res.ContentType != "" {
			w.Header().Set("Content-Type", res.ContentType)
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Raw)
	case res.Body != nil:
		WriteJSON(w, res.Status, res.Body)
	default:
		w.WriteHeader(res.Status)
	}
}
