package httpapi

import (
	"net"
	"net/http"
)

// Loopback reports whether the request came to a loopback host (local
// development over http, where a browser would not keep a Secure cookie):
// the one case in which the service's cookies are not Secure.
func Loopback(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
