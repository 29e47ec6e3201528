package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"identityservice/shared/signin"
	"identityservice/shared/store/layout"
)

// The operations dashboard's sessions, in partitions of their own
// (PortalFunction's policy names them):
//
//	DASHBOARD#<session id>  #SESSION  the person, the tokens, the cookie secret as SHA-256
var _ signin.DashboardSessions = (*SignIn)(nil)

func dashboardPK(id string) string { return "DASHBOARD#" + id }

// CreateDashboardSession implements signin.DashboardSessions.
func (d *SignIn) CreateDashboardSession(ctx context.Context, s signin.DashboardSession) error {
	return ownRetry(d.put(ctx, "create dashboard session", dashboardPK(s.ID), skSession, s, s.Expires, "attribute_not_exists(PK)"))
}

// GetDashboardSession implements signin.DashboardSessions. A session past
// its end (which TTL has not deleted yet) is not found.
func (d *SignIn) GetDashboardSession(ctx context.Context, id string) (signin.DashboardSession, error) {
	var s signin.DashboardSession
	ok, err := d.get(ctx, "read dashboard session", dashboardPK(id), skSession, &s)
	if err != nil {
		return signin.DashboardSession{}, err
	}
	if !ok || !s.Live(time.Now()) {
		return signin.DashboardSession{}, signin.ErrNotFound
	}
	return s, nil
}

// EndDashboardSession implements signin.DashboardSessions.
func (d *SignIn) EndDashboardSession(ctx context.Context, id string) error {
	if _, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: layout.Key(dashboardPK(id), skSession)}); err != nil {
		return storageError("end dashboard session", err)
	}
	return nil
}
