// Package eventbus puts the service's events on an Amazon EventBridge bus:
// for now the sweeper's "Client Secret Expiring" warnings.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"identityservice/shared/sweep"
)

// DetailTypeSecretExpiring is the detail-type of a warning event.
const DetailTypeSecretExpiring = "Client Secret Expiring"

// API is the part of the EventBridge client the bus uses.
type API interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Bus puts events on one event bus under one source.
type Bus struct {
	api    API
	name   string
	source string
}

var _ sweep.Publisher = (*Bus)(nil)

// New returns the bus named name ("default": the account's default bus),
// whose events carry source.
func New(api API, name, source string) *Bus {
	return &Bus{api: api, name: name, source: source}
}

// SecretExpiringDetail is the detail of a "Client Secret Expiring" event.
type SecretExpiringDetail struct {
	TenantID   string `json:"tenantId"`
	ClientID   string `json:"clientId"`
	SecretID   string `json:"secretId"`
	Expiration string `json:"expiration"` // RFC 3339, UTC
	DaysLeft   int    `json:"daysLeft"`   // whole days left, rounded up
	WindowDays int    `json:"windowDays"` // the warning window that was reached
}

// SecretExpiring puts one warning event. An entry EventBridge did not
// accept is an error, so that the sweeper releases its claim and retries.
func (b *Bus) SecretExpiring(ctx context.Context, w sweep.Warning) error {
	detail, err := json.Marshal(SecretExpiringDetail{
		TenantID:   w.TenantID,
		ClientID:   w.ClientID,
		SecretID:   w.SecretID,
		Expiration: w.Expiration.UTC().Format(time.RFC3339),
		DaysLeft:   w.DaysLeft,
		WindowDays: w.WindowDays,
	})
	if err != nil {
		return err
	}
	out, err := b.api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(b.name),
		Source:       aws.String(b.source),
		DetailType:   aws.String(DetailTypeSecretExpiring),
		Detail:       aws.String(string(detail)),
	}}})
	if err != nil {
		return fmt.Errorf("put event: %w", err)
	}
	if out.FailedEntryCount > 0 {
		for _, e := range out.Entries {
			if e.ErrorCode != nil {
				return fmt.Errorf("put event: %s: %s", aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
			}
		}
		return fmt.Errorf("put event: %d entries failed", out.FailedEntryCount)
	}
	return nil
}
