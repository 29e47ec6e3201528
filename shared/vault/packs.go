package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// Verifier packs: many verifiers per Secrets Manager secret, so that a
// stored secret (billed per month) holds up to identity.PackSize of them.
// A tenant's pack n is the secret <prefix>/verifiers/<tenant>/<n>, under
// the tenant's name so that IAM stays scoped by name; its value is
//
//	{"v":1,"e":{"<secret id>":"<client id> <verifier, base64url> <added, unix s>"}}
//
// about 135 bytes an entry: a full pack is under 55 KB of the 64 KB a
// value may hold (TestFullPackFitsASecretValue).
//
// Every write is a compare-and-swap: read the pack (GetSecretValue of
// AWSCURRENT, with its VersionId), change one entry, PutSecretValue with
// the ClientRequestToken derived from the version read (packToken). Two
// writers that read the same version send the same token with different
// values; Secrets Manager keeps the first and refuses the second
// (ResourceExistsException: a version's token cannot be reused for other
// content), which reads again and retries. No lock, no lost entry.

// packFormat is the version of a pack's value.
const packFormat = 1

// maxPackAttempts bounds a pack write's compare-and-swap; then the write
// is identity.ErrPackBusy (a 409 Concurrent update). Each lost attempt
// means another writer's write went in.
const maxPackAttempts = 30

// packBackoff is the wait after a lost compare-and-swap: full jitter,
// exponential from 10 ms to at most 200 ms, so that many writers of one
// pack spread out instead of all reading the same version again.
func packBackoff(attempt int) time.Duration {
	ceiling := min(10<<min(attempt, 5), 200)
	return time.Duration(rand.IntN(ceiling)+1) * time.Millisecond
}

// maxSecretValue is Secrets Manager's limit of a secret value, in bytes.
const maxSecretValue = 65536

// PackName is the Secrets Manager name of a tenant's pack n.
func (n naming) PackName(tenantID string, pack int) string {
	return fmt.Sprintf("%s/verifiers/%s/%d", n.prefix, tenantID, pack)
}

// VerifiersPrefix is the name prefix under which every pack lives.
func (n naming) VerifiersPrefix() string { return n.prefix + "/verifiers/" }

// ParsePackName returns the tenant and pack number a pack name stands for.
func (n naming) ParsePackName(name string) (tenantID string, pack int, ok bool) {
	rest, ok := strings.CutPrefix(name, n.VerifiersPrefix())
	if !ok {
		return "", 0, false
	}
	tenantID, num, ok := strings.Cut(rest, "/")
	if !ok {
		return "", 0, false
	}
	if g, err := identity.ParseGUID("id", tenantID); err != nil || g != tenantID {
		return "", 0, false
	}
	pack, err := strconv.Atoi(num)
	if err != nil || pack < 1 || strconv.Itoa(pack) != num {
		return "", 0, false
	}
	return tenantID, pack, true
}

// PackEntry is one verifier of a pack.
type PackEntry struct {
	ClientID string
	Verifier []byte
	// Added is when the entry was written: the sweeper leaves younger
	// entries without a record alone (their record may be being written).
	Added time.Time
}

// Pack is a pack's value as read, with the version it was read at (""
// when the pack does not exist).
type Pack struct {
	Version string
	Entries map[string]PackEntry // by secret id
}

type packValue struct {
	V int               `json:"v"`
	E map[string]string `json:"e"`
}

func encodePack(entries map[string]PackEntry) (string, error) {
	v := packValue{V: packFormat, E: make(map[string]string, len(entries))}
	for id, e := range entries {
		v.E[id] = e.ClientID + " " + base64.RawURLEncoding.EncodeToString(e.Verifier) + " " + strconv.FormatInt(e.Added.Unix(), 10)
	}
	b, err := json.Marshal(v) // map keys sorted: the same entries, the same bytes
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretValue {
		return "", fmt.Errorf("verifier pack of %d entries is %d bytes, over the %d a secret value may hold", len(entries), len(b), maxSecretValue)
	}
	return string(b), nil
}

func decodePack(s string) (map[string]PackEntry, error) {
	var v packValue
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode verifier pack: %w", err)
	}
	if v.V != packFormat {
		return nil, fmt.Errorf("verifier pack of format %d; this version reads %d", v.V, packFormat)
	}
	out := make(map[string]PackEntry, len(v.E))
	for id, raw := range v.E {
		parts := strings.Split(raw, " ")
		if len(parts) != 3 {
			return nil, fmt.Errorf("verifier pack entry %s: want three fields", id)
		}
		ver, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return nil, fmt.Errorf("verifier pack entry %s: %w", id, err)
		}
		added, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("verifier pack entry %s: %w", id, err)
		}
		out[id] = PackEntry{ClientID: parts[0], Verifier: ver, Added: time.Unix(added, 0).UTC()}
	}
	return out, nil
}

// packAPI is what reading and writing packs takes.
type packAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// packs reads and writes a prefix's packs.
type packs struct {
	api packAPI
	naming
	now func() time.Time
}

// ReadPack reads a tenant's pack (AWSCURRENT) and the version read; a
// pack that does not exist is empty, with no version.
func (p packs) ReadPack(ctx context.Context, tenantID string, pack int) (Pack, error) {
	out, err := p.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(p.PackName(tenantID, pack))})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return Pack{Entries: map[string]PackEntry{}}, nil
	}
	if err != nil {
		return Pack{}, fmt.Errorf("read verifier pack: %w", err)
	}
	entries, err := decodePack(aws.ToString(out.SecretString))
	if err != nil {
		return Pack{}, err
	}
	return Pack{Version: aws.ToString(out.VersionId), Entries: entries}, nil
}

// packTokenSpace is the UUIDv5 namespace of pack write tokens.
var packTokenSpace = uuid.MustParse("6f1d2a4c-9b3e-5c7a-8d20-4e6f1b2c3d4e")

// packToken is the ClientRequestToken of a write of pack name over the
// version read: every writer that read that version sends the same one.
func packToken(name, version string) string {
	return uuid.NewSHA1(packTokenSpace, []byte(name+"\n"+version)).String()
}

// changePack applies change to the pack's entries and writes the result
// over the version read, reading again whenever another writer won; no
// change (change returns false) writes nothing. After maxPackAttempts
// lost races it answers identity.ErrPackBusy.
func (p packs) changePack(ctx context.Context, tenantID string, pack int, change func(map[string]PackEntry) (bool, error)) error {
	name := p.PackName(tenantID, pack)
	for attempt := 1; attempt <= maxPackAttempts; attempt++ {
		cur, err := p.ReadPack(ctx, tenantID, pack)
		if err != nil {
			return err
		}
		changed, err := change(cur.Entries)
		if err != nil || !changed {
			return err
		}
		body, err := encodePack(cur.Entries)
		if err != nil {
			return err
		}
		if cur.Version == "" {
			_, err = p.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
				Name:         aws.String(name),
				SecretString: aws.String(body),
				Description:  aws.String("Verifiers (SHA-256) of OAuth client secrets of one tenant; the secrets themselves are not stored."),
				Tags: []types.Tag{
					{Key: aws.String("identity:tenant"), Value: aws.String(tenantID)},
					{Key: aws.String("identity:pack"), Value: aws.String(strconv.Itoa(pack))},
				},
			})
		} else {
			_, err = p.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId:           aws.String(name),
				SecretString:       aws.String(body),
				ClientRequestToken: aws.String(packToken(name, cur.Version)),
			})
		}
		var exists *types.ResourceExistsException
		if errors.As(err, &exists) {
			// Another writer created the pack, or wrote over the version
			// read first: read again.
			sleep(ctx, packBackoff(attempt))
			continue
		}
		if err != nil {
			return fmt.Errorf("write verifier pack: %w", err)
		}
		return nil
	}
	return identity.ErrPackBusy
}

// addEntry puts a verifier into its pack.
func (p packs) addEntry(ctx context.Context, ref identity.MaterialRef, verifier []byte) error {
	added := p.clock()
	return p.changePack(ctx, ref.TenantID, ref.Pack, func(es map[string]PackEntry) (bool, error) {
		if _, ok := es[ref.SecretID]; !ok && len(es) >= identity.PackSize {
			// The slots make this impossible; should it happen, nothing
			// is written and the add fails.
			return false, fmt.Errorf("verifier pack %d of tenant %s is full (%d entries)", ref.Pack, ref.TenantID, len(es))
		}
		es[ref.SecretID] = PackEntry{ClientID: ref.ClientID, Verifier: verifier, Added: added}
		return true, nil
	})
}

// removeEntry takes a verifier out of its pack; one already gone (or a
// pack that does not exist) is not an error.
func (p packs) removeEntry(ctx context.Context, ref identity.MaterialRef) error {
	return p.removeEntries(ctx, ref.TenantID, ref.Pack, []identity.MaterialRef{ref})
}

// removeEntries takes verifiers out of one pack (refs all name it) in
// one write; one already gone (or a pack that does not exist) is not an
// error, and none to take out writes nothing.
func (p packs) removeEntries(ctx context.Context, tenantID string, pack int, refs []identity.MaterialRef) error {
	return p.changePack(ctx, tenantID, pack, func(es map[string]PackEntry) (bool, error) {
		changed := false
		for _, ref := range refs {
			if e, ok := es[ref.SecretID]; ok && e.ClientID == ref.ClientID {
				delete(es, ref.SecretID)
				changed = true
			}
		}
		return changed, nil
	})
}

// entryOf is ref's verifier in a pack read, or ErrNoMaterial.
func entryOf(p Pack, ref identity.MaterialRef) ([]byte, error) {
	e, ok := p.Entries[ref.SecretID]
	if !ok || e.ClientID != ref.ClientID {
		return nil, identity.ErrNoMaterial
	}
	return e.Verifier, nil
}

func (p packs) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
