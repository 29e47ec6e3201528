//go:build !linux

package main

// takeForeground does nothing outside Linux: Ctrl-C reaches make too, which
// then exits with the signal's status after this process has stopped.
func takeForeground() (restore func()) { return func() {} }
