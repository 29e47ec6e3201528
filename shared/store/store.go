// Package store keeps the service's aggregates in one DynamoDB table,
// each its own type behind its own narrow interface: Tenants, Clients,
// Secrets and Credentials (identity's interfaces), SweepQueue
// (sweep.Store), PublishedKeys (auth.PublicKeyStore) and SweepRuns (the
// sweeper's last run). They share base (the DynamoDB client, the table's
// name, transactions and batch reads) and the table's layout (keys and
// item encoding: shared/store/layout). Each enforces the conditions the
// domain hands it and names no limit of its own. A new aggregate is new
// files here: a type that embeds base, its interface in its domain's
// package, and its contract tests (docs/storage.md, "Adding an aggregate").
package store

import "identityservice/shared/identity"

// Dynamo is every aggregate kept in the table, each its own type behind
// its own interface, for wiring: a process takes the ones it uses.
type Dynamo struct {
	Tenants     *Tenants
	Clients     *Clients
	Secrets     *Secrets
	Credentials *Credentials
	SweepQueue  *SweepQueue
	Keys        *PublishedKeys
	Runs        *SweepRuns
}

// New returns the aggregates of the named table.
func New(api API, table string) *Dynamo {
	b := base{api: api, table: table}
	return &Dynamo{
		Tenants:     &Tenants{b},
		Clients:     &Clients{b},
		Secrets:     &Secrets{b},
		Credentials: &Credentials{b},
		SweepQueue:  &SweepQueue{b},
		Keys:        &PublishedKeys{b},
		Runs:        &SweepRuns{b},
	}
}

// Identity is what identity.Service acts on.
func (d *Dynamo) Identity() identity.Stores {
	return identity.Stores{Tenants: d.Tenants, Clients: d.Clients, Secrets: d.Secrets, Credentials: d.Credentials}
}
