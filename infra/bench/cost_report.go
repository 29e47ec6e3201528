package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// dollarTables renders the section "What it costs in AWS".
func (r *report) dollarTables(b *strings.Builder) {
	m := r.dollars
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## What it costs in AWS\n\n")
	if m == nil {
		p("Not computed in this run.\n\n")
		return
	}
	pr := m.prices
	p("List prices of %s as of %s (`infra/bench/prices.json`, each with its page) times what this run measured: the AWS calls and capacity units of a warm request (above), the bytes its handler logged, ", pr.Region, pr.AsOf)
	p("and a Lambda duration modelled from our CPU per request and the p50 wall time at concurrency 1 (latency table below). No per-request cost is typed in anywhere.\n\n")
	p("The model and its assumptions:\n\n")
	p("- **Duration** at a function's `MemorySize` M: `wait + cpu × 1769 / M` (M ≤ 1,769 MB), where `cpu` is this process's CPU per request at concurrency 1 and `wait = p50 − cpu` is the time spent waiting for DynamoDB Local and moto, ")
	p("taken as what DynamoDB and Secrets Manager take in region. Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB; a core of this machine and a Graviton core are taken as equally fast. Billed per started ms, arm64 price.\n")
	p("- **Logs**: the bytes the handler logged for the request (measured) plus Lambda's own platform.start and platform.report records, estimated at %.0f bytes, plus CloudWatch's %.0f bytes per event.\n", platformLogBytes, logEventOverhead)
	p("- **KMS**: one request per Secrets Manager call that reads or writes a secret value (Decrypt, GenerateDataKey), priced at the list request price (an upper bound: the template's secrets use the AWS managed key).\n")
	p("- **Warm instances** (monthly bills): a function keeps `ceil(%.0f × rate × duration)` instances, at least one (Little's law at a peak %.0f× the average), each replaced every %.0f hours. ", peakFactor, peakFactor, instanceHours)
	p("A busy instance reads its keys again once a minute (shared/auth KeyRefresh): measured as a new instance's first request less a warm one (token function: %s; bearer-checking functions: %s). ", m.tokenRefresh, m.bearerRefresh)
	p("The token function reads a verifier pack on a cache miss (measured: %s) and caches its %d verifiers; its cache holds %d verifiers (%d packs) and empties when full, and clients are taken to request tokens evenly.\n", m.verifierFetch, packSize, verifierCacheSize, verifierCacheSize/packSize)
	p("- **X-Ray** (`Tracing: Active`): the default sampling, the first request each second and %.0f%% of the rest, per function.\n", 100*xrayRate)
	p("- Free tiers are left out; storage is the bench table's bytes by DynamoDB's item-size rules (%s bytes per client, %s per secret record with its ByExpiry index copy).\n\n",
		groupDigits(int64(m.storage.perClient)), groupDigits(int64(m.storage.perSecret)))

	// Per route.
	p("### Dollars per million requests, per route\n\n")
	var rows [][]string
	group := func(rm *routeModel, items ...string) float64 {
		t := 0.0
		for _, l := range rm.lines {
			for _, it := range items {
				if l.item == it {
					t += l.usd
				}
			}
		}
		return t * 1e6
	}
	for _, k := range m.order {
		rm := m.routes[k]
		rows = append(rows, []string{"`" + k + "`", itoa(rm.in.memoryMB), ms(rm.in.cpuMS), ms(rm.in.wallMS), ms(rm.durMS), groupDigits(int64(rm.in.logBytes)),
			usdf(group(rm, "API Gateway HTTP API requests")), usdf(group(rm, "Lambda requests", "Lambda duration")),
			usdf(group(rm, "DynamoDB reads", "DynamoDB writes")), usdf(group(rm, "Secrets Manager API calls", "KMS requests (by Secrets Manager)")),
			usdf(group(rm, "CloudWatch Logs ingestion")), "**" + usdf(rm.usd()*1e6) + "**"})
	}
	mdTable(b, []string{"route", "MB", "our CPU ms", "p50 ms (local, c=1)", "modelled Lambda ms", "log bytes", "API Gateway", "Lambda", "DynamoDB", "Secrets Manager + KMS", "Logs", "total per million"}, rows)

	// MemorySize.
	p("### MemorySize: modelled duration and Lambda dollars per million at each size\n\n")
	p("For each function, its route with the most CPU per request. In this model a request's CPU costs the same GB-seconds at any size up to 1,769 MB, while its waiting costs more the more memory: the choice is latency bought against the Lambda line. ")
	p("The model's choice is the smallest size whose duration is within 2 ms or 25%% of the duration at one full vCPU (1,769 MB); template.yaml's comments give the choice made.\n\n")
	heaviest := map[string]*routeModel{}
	for _, k := range m.order {
		rm := m.routes[k]
		if h, ok := heaviest[rm.function]; !ok || rm.in.cpuMS > h.in.cpuMS {
			heaviest[rm.function] = rm
		}
	}
	fns := make([]string, 0, len(heaviest))
	for f := range heaviest {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	head := []string{"function", "route", "MemorySize now"}
	for _, c := range memoryCandidates {
		head = append(head, fmt.Sprintf("%d MB", c))
	}
	head = append(head, "model's choice")
	rows = nil
	for _, f := range fns {
		rm := heaviest[f]
		row := []string{f, "`" + rm.key + "`", itoa(rm.in.memoryMB)}
		for _, c := range memoryCandidates {
			d := modelDuration(rm.in.cpuMS, rm.in.wallMS, c)
			usd := billedMS(d) / 1000 * float64(c) / 1024 * pr.unit(pLambdaGBs) * 1e6
			row = append(row, fmt.Sprintf("%s ms, %s", ms(d), usdf(usd)))
		}
		row = append(row, itoa(chooseMemory(rm.in.cpuMS, rm.in.wallMS)))
		rows = append(rows, row)
	}
	mdTable(b, head, rows)

	// Monthly bills.
	p("### A month of reference workloads\n\n")
	p("Management calls divide among the routes as: ")
	var mix []string
	for _, x := range managementMix {
		mix = append(mix, fmt.Sprintf("%.0f%% `%s`", 100*x.share, x.route))
	}
	p("%s. Cognito: the same token requests and one machine-to-machine app client per client.\n\n", strings.Join(mix, ", "))
	for _, w := range referenceWorkloads {
		bl, err := m.monthly(w)
		if err != nil {
			p("%s: not computed (%v).\n\n", w.name, err)
			continue
		}
		r.billTable(b, bl)
		stored := 0.0
		for _, l := range bl.lines {
			if strings.HasPrefix(l.item, "Secrets Manager secrets stored") {
				stored = l.usd
			}
		}
		own := float64(w.clients*w.secretsPerClient) + 1
		p("Secrets stored: %s of %s, %.0f%% of the bill (verifiers packed %d to a secret, docs/storage.md). One secret per verifier, the layout before packs, would store %s secrets: %s a month.\n\n",
			usdf(stored), usdf(bl.total()), 100*stored/bl.total(), packSize, groupDigits(int64(own)), usdf(own*pr.unit(pSecretMonth)))
	}
	if m.sweep != nil {
		r.billTable(b, m.housekeeping(hoursPerMonth))
	}
	p("### Prices used\n\n")
	keys := make([]string, 0, len(pr.Prices))
	for k := range pr.Prices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows = nil
	for _, k := range keys {
		e := pr.Prices[k]
		price := "$" + strconv.FormatFloat(e.USD, 'f', -1, 64)
		if e.Per != 1 {
			price += " per " + groupDigits(int64(e.Per))
		}
		rows = append(rows, []string{"`" + k + "`", price, e.Unit, e.Source})
	}
	mdTable(b, []string{"price", "USD", "of", "source"}, rows)
}

// billTable renders one monthly bill, with Cognito's beside it.
func (r *report) billTable(b *strings.Builder, bl bill) {
	fmt.Fprintf(b, "**%s**\n\n", bl.name)
	var rows [][]string
	for _, l := range bl.lines {
		rows = append(rows, []string{l.item, qtyf(l.qty) + " " + l.unit, usdf(l.usd)})
	}
	rows = append(rows, []string{"**total a month**", "", "**" + usdf(bl.total()) + "**"})
	if len(bl.cognito) > 0 {
		for _, l := range bl.cognito {
			rows = append(rows, []string{"Amazon Cognito: " + l.item, qtyf(l.qty) + " " + l.unit, usdf(l.usd)})
		}
		rows = append(rows, []string{"**Amazon Cognito M2M, total a month**", "", fmt.Sprintf("**%s** (%.0f× this service)", usdf(bl.cognitoTotal()), bl.cognitoTotal()/bl.total())})
	}
	mdTable(b, []string{"line", "quantity", "USD a month"}, rows)
}
