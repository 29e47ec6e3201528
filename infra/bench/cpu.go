package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// cpuResult is the CPU bill of the token endpoint and of a client GET, at
// concurrency 16, each figure per run.
type cpuResult struct {
	tokensPerSec    spread
	cpuPerToken     spread // ms of this process per token
	dynPerToken     spread // ms of DynamoDB Local per token
	signature       spread // ms of one RS256-2048 signature, alone, in the same run
	beyondSignature spread // cpuPerToken - signature, per run
	getsPerSec      spread
	cpuPerGet       spread
	dynPerGet       spread
	rawGetCPU       spread // ms of this process per raw SDK GetItem, same run
	es256           spread // ms of one ES256 (ECDSA P-256) signature, measured like signature
}

// signatureCost times RSA-2048 PKCS#1 v1.5 signatures of a SHA-256 digest
// (what RS256 is) by process CPU, on 16 goroutines as in the token load:
// under that concurrency a signature costs more CPU than one after another
// (preemption, caches), and the token's share of it must not be counted
// as ours.
func signatureCost(n int) (time.Duration, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("eyJhbGciOiJSUzI1NiJ9.a token's header and claims, about four hundred bytes long"))
	return onSixteen(n, func() error { _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); return err })
}

// es256Cost times ECDSA P-256 signatures of a SHA-256 digest (ES256) the
// same way: what a token's signature would cost with an ES256 key.
func es256Cost(n int) (time.Duration, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("eyJhbGciOiJFUzI1NiJ9.a token's header and claims, about four hundred bytes long"))
	return onSixteen(n, func() error { _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); return err })
}

// onSixteen runs f n times on 16 goroutines, after one warm-up run, and
// returns this process's CPU per run.
func onSixteen(n int, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	errs := make(chan error, 16)
	cpu0 := processCPU()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				if err := f(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	cpu := processCPU() - cpu0
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return cpu / time.Duration(n), nil
}

// tokenLoad and getLoad are the two CPU loads: c workers, n requests.
func (b *bench) tokenLoad(n int) [][][]byte {
	req := tokenRequest(b.fx.read.clientID, b.fx.read.secret)
	return split(16, n, func(int, int) request { return req })
}

func (b *bench) getLoad(n int) [][][]byte {
	req := b.get(b.fx.read, fmt.Sprintf(ocsCCC, b.fx.read.tenant)+"/"+b.fx.ccc[0].id, nil)
	return split(16, n, func(int, int) request { return req })
}

func (b *bench) measureCPU(ctx context.Context) error {
	r := &b.rep.cpu
	tok, get := b.s.fn("functions/token"), b.s.fn("functions/clientcredentialclients")
	// Warm both functions.
	if _, err := b.load(ctx, tok, b.tokenLoad(16)); err != nil {
		return err
	}
	if _, err := b.load(ctx, get, b.getLoad(16)); err != nil {
		return err
	}
	for run := range b.o.runs {
		b.log("  run %d/%d", run+1, b.o.runs)
		sig, err := signatureCost(b.o.signatures)
		if err != nil {
			return err
		}
		t, err := b.load(ctx, tok, b.tokenLoad(b.o.cpuRequests))
		if err != nil {
			return fmt.Errorf("token load: %w", err)
		}
		g, err := b.load(ctx, get, b.getLoad(b.o.cpuRequests))
		if err != nil {
			return fmt.Errorf("GET load: %w", err)
		}
		raw, err := b.rawGetCPU(ctx, b.o.cpuRequests)
		if err != nil {
			return fmt.Errorf("raw GetItem: %w", err)
		}
		r.rawGetCPU = append(r.rawGetCPU, toMS(raw))
		es, err := es256Cost(b.o.signatures)
		if err != nil {
			return err
		}
		r.signature = append(r.signature, toMS(sig))
		r.es256 = append(r.es256, toMS(es))
		r.tokensPerSec = append(r.tokensPerSec, t.perSecond())
		r.cpuPerToken = append(r.cpuPerToken, toMS(t.cpuPer()))
		r.dynPerToken = append(r.dynPerToken, toMS(t.dynCPU)/float64(t.n()))
		r.beyondSignature = append(r.beyondSignature, toMS(t.cpuPer()-sig))
		r.getsPerSec = append(r.getsPerSec, g.perSecond())
		r.cpuPerGet = append(r.cpuPerGet, toMS(g.cpuPer()))
		r.dynPerGet = append(r.dynPerGet, toMS(g.dynCPU)/float64(g.n()))
	}
	return nil
}

// rawGetCPU is this process's CPU per raw SDK GetItem of one client item's
// size, at concurrency 16: what one DynamoDB call costs us before any of
// our code runs.
func (b *bench) rawGetCPU(ctx context.Context, n int) (time.Duration, error) {
	in := &dynamodb.GetItemInput{TableName: aws.String(rawTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "P"}, "SK": &types.AttributeValueMemberS{Value: "S00"}}}
	cpu0 := processCPU()
	res, err := b.rawLoad(ctx, 16, n, func() error { _, err := b.s.raw.GetItem(ctx, in); return err })
	if err != nil {
		return 0, err
	}
	return (processCPU() - cpu0) / time.Duration(max(res.n(), 1)), nil
}

// profileLoad runs one load (token or get) at concurrency 16 for
// -profile-for under the CPU profiler.
func (b *bench) profileLoad(ctx context.Context) error {
	var f *function
	var load func(int) [][][]byte
	switch b.o.profile {
	case "token":
		f, load = b.s.fn("functions/token"), b.tokenLoad
	case "get":
		f, load = b.s.fn("functions/clientcredentialclients"), b.getLoad
	default:
		return fmt.Errorf("-profile %q: want token or get", b.o.profile)
	}
	if _, err := b.load(ctx, f, load(32)); err != nil { // warm
		return err
	}
	if err := os.MkdirAll(filepath.Dir(b.o.cpuprofile), 0o755); err != nil {
		return err
	}
	out, err := os.Create(b.o.cpuprofile)
	if err != nil {
		return err
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		return err
	}
	var total loadResult
	deadline := time.Now().Add(b.o.profileFor)
	for time.Now().Before(deadline) {
		res, err := b.load(ctx, f, load(320))
		if err != nil {
			pprof.StopCPUProfile()
			return err
		}
		total.lat = append(total.lat, res.lat...)
		total.wall += res.wall
		total.cpu += res.cpu
		total.dynCPU += res.dynCPU
	}
	pprof.StopCPUProfile()
	b.log("profiled %d %s requests: %.0f/s, %.3f ms of our CPU each (DynamoDB Local %.3f ms); profile in %s",
		total.n(), b.o.profile, total.perSecond(), toMS(total.cpuPer()), toMS(total.dynCPU)/float64(total.n()), b.o.cpuprofile)
	return nil
}
