package identity

import (
	"context"
	"log/slog"
	"time"
)

// Actor is who made a management write: the client an access token was
// issued to and, for a person's token, the person (their subject, and
// their name when the token carries it); or an operator at the admin CLI.
// It never holds a secret or a token.
type Actor struct {
	ClientID string // the client of the access token
	Subject  string // a person's subject ("" for a machine client's token)
	Name     string // a person's name, when their token states it
	Operator string // the admin CLI: who ran it ("" otherwise)
}

// Kinds of actor (Actor.Kind).
const (
	ActorClient   = "client"
	ActorPerson   = "person"
	ActorOperator = "operator"
)

// Kind is "person" for a person's token, "client" for a machine client's,
// "operator" for the admin CLI, "" when unknown (a write with no actor in
// its context).
func (a Actor) Kind() string {
	switch {
	case a.Subject != "":
		return ActorPerson
	case a.ClientID != "":
		return ActorClient
	case a.Operator != "":
		return ActorOperator
	}
	return ""
}

// LogValue writes the actor as a group of its non-empty fields, so that a
// write's log line says who made it (slog.LogValuer).
func (a Actor) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", a.Kind())}
	for _, f := range []struct{ k, v string }{{"client", a.ClientID}, {"subject", a.Subject}, {"name", a.Name}, {"operator", a.Operator}} {
		if f.v != "" {
			attrs = append(attrs, slog.String(f.k, f.v))
		}
	}
	return slog.GroupValue(attrs...)
}

// Change is the latest management write of a stored item: who made it
// and when. Items written before it was recorded have none.
type Change struct {
	By Actor
	At time.Time
}

type actorKey struct{}

// WithActor returns ctx carrying the actor of the request's writes (the
// HTTP layer sets it from the verified access token, the admin CLI from
// its operator).
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf is the actor ctx carries (the zero Actor when none).
func ActorOf(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// changeOf is the change a write of ctx makes at now.
func changeOf(ctx context.Context, now time.Time) *Change {
	return &Change{By: ActorOf(ctx), At: now}
}
