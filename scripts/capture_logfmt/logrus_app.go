// A tiny Go service that logs through logrus' TextFormatter (logfmt, as on a non-TTY).
// Built with Debian's golang-github-sirupsen-logrus-dev: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"errors"
	"os"
	"time"

	log "github.com/sirupsen/logrus"
)

func main() {
	log.SetOutput(os.Stdout)
	log.SetFormatter(&log.TextFormatter{DisableColors: true, FullTimestamp: true,
		TimestampFormat: time.RFC3339Nano})
	log.SetLevel(log.DebugLevel)
	log.Info("server listening on :8080")
	ids := []string{"4bf92f3577b34da6", "00f067aa0ba902b7", "b7ad6b7169203331"}
	for i, id := range ids {
		start := time.Now()
		time.Sleep(time.Duration(3+i*7) * time.Millisecond)
		entry := log.WithFields(log.Fields{"request_id": id, "method": "GET",
			"route": "/orders/{id}", "duration": time.Since(start).String()})
		if i == 1 {
			entry.WithError(errors.New(`pq: canceling statement due to statement timeout "orders"`)).
				Error("order lookup failed")
			continue
		}
		entry.Debug("order served")
	}
	log.WithField("queue", "mail").Warn("queue depth above 1000\nretrying in 5s")
}
