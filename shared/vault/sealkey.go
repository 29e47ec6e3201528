package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// SealKey is the keys of token item seals (identity/seal.go) in Secrets
// Manager, <prefix>/token-item-seal. template.yaml creates it with a
// generated value, readable by the client functions, the token function
// and the operator only, written by the operator only; where it does not
// exist (the emulators) the first reader makes it.
//
// Its value is either a bare key (as generated: version 0, the key of
// seals made before keys had versions) or, once the operator has rotated
// it, a SealKeyState: the current key and, during a rotation, the next or
// the previous one.
type SealKey struct {
	api  SealKeyAPI
	name string
}

// SealKeyAPI is the part of the Secrets Manager client the seal keys
// use: the functions read (and on the emulators create); the operator's
// rotation also writes (PutSecretValue).
type SealKeyAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

var _ identity.SealKeys = (*SealKey)(nil)

// NewSealKey returns the seal keys under prefix.
func NewSealKey(api SealKeyAPI, prefix string) *SealKey {
	return &SealKey{api: api, name: SealKeyName(prefix)}
}

// SealKeyName is the secret's name.
func SealKeyName(prefix string) string { return prefix + "/token-item-seal" }

// firstSealKeyToken makes the first value idempotent: of two processes
// that make the key at once, one creates it and the other is refused
// (ResourceExistsException) and reads the winner's.
const firstSealKeyToken = "first-token-item-seal-key-000000001"

// SealKeyState is the stored value once keys have versions.
type SealKeyState struct {
	Format   string        `json:"format"` // sealKeyFormat
	Current  SealKeyEntry  `json:"current"`
	Next     *SealKeyEntry `json:"next,omitempty"`     // accepted, not yet sealing (a rotation's first step)
	Previous *SealKeyEntry `json:"previous,omitempty"` // still accepted until every item is sealed again
	// ChangedAt is when this state was written: a rotation's next step
	// waits until every process has read it.
	ChangedAt time.Time `json:"changedAt"`

	versionID string // the Secrets Manager version read
}

// SealKeyEntry is one key: its version and its bytes (base64).
type SealKeyEntry struct {
	Version uint32 `json:"version"`
	Key     string `json:"key"`
}

const sealKeyFormat = "token-item-seal-keys/v1"

// Set is the keys of the state.
func (st SealKeyState) Set() (identity.SealKeySet, error) {
	cur, err := st.Current.key()
	if err != nil {
		return identity.SealKeySet{}, err
	}
	set := identity.SealKeySet{Current: cur}
	for _, e := range []*SealKeyEntry{st.Next, st.Previous} {
		if e == nil {
			continue
		}
		k, err := e.key()
		if err != nil {
			return identity.SealKeySet{}, err
		}
		set.Others = append(set.Others, k)
	}
	return set, nil
}

func (e SealKeyEntry) key() (identity.SealKey, error) {
	b, err := base64.StdEncoding.DecodeString(e.Key)
	if err != nil {
		return identity.SealKey{}, fmt.Errorf("token item seal key version %d: %w", e.Version, err)
	}
	return identity.SealKey{Version: e.Version, Key: b}, nil
}

// NewSealKeyEntry makes a key of version v: 48 random bytes.
func NewSealKeyEntry(v uint32) (SealKeyEntry, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return SealKeyEntry{}, err
	}
	return SealKeyEntry{Version: v, Key: base64.StdEncoding.EncodeToString(b)}, nil
}

// SealKeySet reads the keys, making the secret when it does not exist.
func (k *SealKey) SealKeySet(ctx context.Context) (identity.SealKeySet, error) {
	st, err := k.State(ctx)
	if err != nil {
		return identity.SealKeySet{}, err
	}
	return st.Set()
}

// State reads the stored keys, making the secret when it does not exist.
// A bare key is the state of one key of version 0.
func (k *SealKey) State(ctx context.Context) (SealKeyState, error) {
	for attempt := 0; ; attempt++ {
		out, err := k.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &k.name})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) && attempt == 0 {
			if err := k.create(ctx); err != nil {
				return SealKeyState{}, err
			}
			continue
		}
		if err != nil {
			return SealKeyState{}, fmt.Errorf("read token item seal key: %w", err)
		}
		value := aws.ToString(out.SecretString)
		st := SealKeyState{versionID: aws.ToString(out.VersionId)}
		if !strings.HasPrefix(value, "{") {
			st.Current = SealKeyEntry{Version: 0, Key: base64.StdEncoding.EncodeToString([]byte(value))}
			return st, nil
		}
		if err := json.Unmarshal([]byte(value), &st); err != nil || st.Format != sealKeyFormat {
			return SealKeyState{}, fmt.Errorf("token item seal keys: a value this service does not write (format %q, %v)", st.Format, err)
		}
		return st, nil
	}
}

// Write replaces the state read (from) with next: a new Secrets Manager
// version whose request token derives from the version read, so that of
// two rotations writing over the same version with different keys one is
// refused (and one run again writes the same version).
func (k *SealKey) Write(ctx context.Context, from, next SealKeyState) error {
	next.Format = sealKeyFormat
	body, err := json.Marshal(next)
	if err != nil {
		return err
	}
	_, err = k.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           &k.name,
		SecretString:       aws.String(string(body)),
		ClientRequestToken: aws.String(uuid.NewSHA1(sealKeyNamespace, []byte(from.versionID)).String()),
	})
	if err != nil {
		return fmt.Errorf("write token item seal keys: %w", err)
	}
	return nil
}

var sealKeyNamespace = uuid.MustParse("0f6d2c8a-4b1e-4e57-9d3a-7c5b1a2e8f40")

func (k *SealKey) create(ctx context.Context) error {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	_, err := k.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:               &k.name,
		SecretString:       aws.String(base64.RawURLEncoding.EncodeToString(b)),
		ClientRequestToken: aws.String(firstSealKeyToken),
		Description:        aws.String("Keys of the token items' seals (what a token says of its client)."),
	})
	var exists *types.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create token item seal key: %w", err)
	}
	return nil
}
