// SPDX-License-Identifier: BSD-3-Clause
// Drives Debian's Chromium (through playwright-core, no downloaded browser) against the
// dashboard that a running vigild serves, and checks what a user would check. Started by
// tests/e2e/test_dashboard.sh, which passes everything in the environment:
//   DASH_URL        the dashboard, http://127.0.0.1:PORT/
//   VIEWER_TOKEN, OPERATOR_TOKEN, ADMIN_TOKEN
//   CHROMIUM        the browser binary
//   PROFILE_DIR     a fresh, empty user data directory
//   SHOT            where the full-page screenshot goes (PNG); SHOT_NARROW for a phone width
//   CLIENT_IP       the traffic source whose alert and flows the page must show
//   NS_A, SERVER_IP the client's namespace and the server's address (traffic while learning)
//   BPF, BPF_DIR    1 when the policy has the eBPF programs of BPF_DIR (the built objects)
// API answers are checked with curl, apart from the browser. The page's accessibility is
// checked with axe-core (WCAG 2.1 A and AA rules: labels, contrast, roles, names). Exit status
// 0: every check passed; otherwise the first failure is printed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const env = (k) => {
	if (!process.env[k]) throw new Error(`${k} is not set`);
	return process.env[k];
};
const URL_ = env('DASH_URL');
const VIEWER = env('VIEWER_TOKEN');
const OPERATOR = env('OPERATOR_TOKEN');
const ADMIN = env('ADMIN_TOKEN');
const CLIENT_IP = env('CLIENT_IP');
const origin = new URL(URL_).origin;

const log = (m) => console.log(`dashboard: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The API as curl sees it, with the viewer token.
function curlJson(path) {
	const out = execFileSync(
		'curl',
		[
			'-sS',
			'--max-time',
			'5',
			'-H',
			`Authorization: Bearer ${VIEWER}`,
			`${origin}/api/v1${path}`,
		],
		{ encoding: 'utf8' },
	);
	return JSON.parse(out);
}

// A write as curl sends it, with the admin token: [status, JSON].
function curlAdmin(method, path, body, ctype = 'application/json') {
	const out = execFileSync(
		'curl',
		[
			'-sS',
			'--max-time',
			'10',
			'-X',
			method,
			'-H',
			`Authorization: Bearer ${ADMIN}`,
			'-H',
			`Content-Type: ${ctype}`,
			'--data-binary',
			'@-',
			'-w',
			'\n%{http_code}',
			`${origin}/api/v1${path}`,
		],
		{ encoding: 'utf8', input: body },
	);
	const nl = out.lastIndexOf('\n');
	return [Number(out.slice(nl + 1)), JSON.parse(out.slice(0, nl))];
}

// Poll fn until it returns a truthy value; fail with what was last seen.
async function until(what, fn, timeoutMs = 10000) {
	const end = Date.now() + timeoutMs;
	let last;
	for (;;) {
		try {
			last = await fn();
			if (last) return last;
		} catch (e) {
			last = e.message;
		}
		if (Date.now() > end)
			throw new Error(
				`${what}: not seen within ${timeoutMs / 1000} s (last: ${JSON.stringify(last)})`,
			);
		await sleep(200);
	}
}

const num = (s) => Number(String(s).replace(/[^0-9.]/g, ''));

const ctx = await chromium.launchPersistentContext(env('PROFILE_DIR'), {
	executablePath: env('CHROMIUM'),
	headless: true,
	args: [
		'--no-sandbox',
		'--disable-gpu',
		'--disable-quic',
		'--no-first-run',
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
	],
	viewport: { width: 1400, height: 1000 },
	timeout: 20000,
});
const failures = [];
const foreign = [];
let page;
try {
	page = ctx.pages()[0] || (await ctx.newPage());
	page.setDefaultTimeout(10000);
	page.on('pageerror', (e) => failures.push(`script error in the page: ${e.message}`));
	// The page's Content-Security-Policy must not get in the dashboard's own way.
	page.on('console', (m) => {
		if (/Content Security Policy/i.test(m.text()))
			failures.push(`the CSP refused something the dashboard needs: ${m.text()}`);
	});
	page.on('request', (r) => {
		const u = new URL(r.url());
		if (u.protocol !== 'data:' && u.origin !== origin) foreign.push(r.url());
	});

	// 1. No token yet: the API answers 401 and the page asks for one. The page says that no
	// other origin may frame it.
	const first = await page.goto(URL_);
	const hdr = first.headers();
	if (
		!/frame-ancestors 'none'/.test(hdr['content-security-policy'] || '') ||
		hdr['x-frame-options'] !== 'DENY'
	)
		throw new Error(
			`the dashboard may be framed: CSP '${hdr['content-security-policy']}', X-Frame-Options '${hdr['x-frame-options']}'`,
		);
	await until('the token prompt', () => page.locator('#auth').isVisible());
	const reason = await page.locator('#auth-reason').innerText();
	if (!/token/i.test(reason))
		throw new Error(`the token prompt does not say why: '${reason}'`);
	await until('the 401 in the status panel', async () =>
		/bearer token/i.test(await page.locator('#p-status .err').innerText()),
	);
	log(`without a token the page asks for one: '${reason}'`);

	// 2. A viewer token: port names and counters that rise.
	await page.fill('#token-input', VIEWER);
	await page.click('#token-form button[type=submit]');
	await until(
		'the token prompt to close',
		async () => !(await page.locator('#auth').isVisible()),
	);
	const cell = (port, field) =>
		page.locator(`#ports tr[data-port="${port}"] td[data-field="${field}"]`);
	for (const port of ['outside', 'inside'])
		await until(`port ${port} in the ports table`, () =>
			cell(port, 'rx_packets').count(),
		);
	const rx1 = await until('non-zero RX packets on outside', async () =>
		num(await cell('outside', 'rx_packets').innerText()),
	);
	await sleep(2500);
	const rx2 = num(await cell('outside', 'rx_packets').innerText());
	if (!(rx2 > rx1)) throw new Error(`RX packets on outside did not rise: ${rx1} then ${rx2}`);
	const pps = await until('a packet rate on outside', async () =>
		num(await cell('outside', 'rx_pps').innerText()),
	);
	const txin = num(await cell('inside', 'tx_packets').innerText());
	if (!(txin > 0))
		throw new Error(
			'TX packets on inside stay 0 though outside receives traffic for it',
		);
	const dropped = await until(
		'dropped packets on outside (UDP the policy denies)',
		async () => num(await cell('outside', 'dropped').innerText()),
	);
	log(
		`ports outside and inside shown; outside RX ${rx1} -> ${rx2} packets, ${pps} pkt/s; ${dropped} dropped; inside TX ${txin}`,
	);
	// The taps forward from other namespaces, where vigild cannot see their link: the
	// dashboard must not call a port that forwards "down" (it says "unknown").
	for (const port of ['outside', 'inside']) {
		const badge = await page
			.locator(`#ports tr[data-port="${port}"] td .badge`)
			.innerText();
		if (badge !== 'unknown')
			throw new Error(`port ${port}'s link shows '${badge}', not 'unknown'`);
	}
	// How link changes reach vigild (interrupt or poll), as the status says, in the badge's
	// tooltip.
	const statusPorts = curlJson('/status').ports;
	for (const port of ['outside', 'inside']) {
		const want = statusPorts.find((x) => x.name === port).link.notify;
		const b = page.locator(`#ports tr[data-port="${port}"] td .badge`);
		const notify = await b.getAttribute('data-notify');
		const title = (await b.getAttribute('title')) || '';
		if (!want || notify !== want)
			throw new Error(`port ${port}: badge says notify '${notify}', the status '${want}'`);
		if (want === 'poll' && !title.includes('polled'))
			throw new Error(`port ${port}: the badge's tooltip does not say it is polled: '${title}'`);
	}
	const legend = await page.locator('#legend-pps').innerText();
	if (!/outside RX/.test(legend) || !/inside RX/.test(legend))
		throw new Error(`the packets/s chart has no series per port: '${legend}'`);

	// 2b. The eBPF panel: the pre-filter of outside and the stream rule's program, running.
	if (process.env.BPF === '1') {
		const bcell = (k, field) =>
			page.locator(`#bpf tr[data-bpf="${k}"] td[data-field="${field}"]`);
		const pre1 = await until('runs of the pre-filter in the eBPF panel', async () =>
			num(await bcell('pre:outside-pass', 'runs').innerText()),
		);
		const rule1 = await until('runs of the stream rule\'s program', async () =>
			num(await bcell('rule:stream', 'runs').innerText()),
		);
		await sleep(2500);
		const pre2 = num(await bcell('pre:outside-pass', 'runs').innerText());
		if (!(pre2 > pre1))
			throw new Error(`the pre-filter's runs did not rise: ${pre1} then ${pre2}`);
		const where = await page
			.locator('#bpf tr[data-bpf="pre:outside-pass"] td')
			.first()
			.innerText();
		if (where !== 'pre-filter of outside')
			throw new Error(`the pre-filter's row says it runs on '${where}'`);
		const pass = num(await bcell('pre:outside-pass', 'pass').innerText());
		const drop = await bcell('pre:outside-pass', 'drop').innerText();
		if (!(pass > 0) || drop !== '0')
			throw new Error(`the pre-filter's verdicts: pass '${pass}', drop '${drop}'`);
		await until('a runs/s rate for the pre-filter', async () =>
			num(await bcell('pre:outside-pass', 'runs_ps').innerText()),
		);
		log(`eBPF panel: pre-filter runs ${pre1} -> ${pre2}, rule program runs ${rule1}`);

		// Its maps, as GET /api/v1/bpf/maps has them: the knock rule's two hash maps, after
		// the one knock the test sent (knock_config filled from its file, read by the program;
		// knock_state written by it).
		const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 }).format;
		const mapFields = ['of', 'program', 'kind', 'entries', 'lookups', 'hits', 'updates',
			'deletes', 'full'];
		const want = (m) => ({
			of: `rule ${m.rule}`,
			program: m.program,
			kind: `hash, key ${m.key}`,
			entries: `${fmt(m.count)} / ${fmt(m.max_entries)}`,
			lookups: fmt(m.lookups),
			hits: fmt(m.hits),
			updates: fmt(m.updates),
			deletes: fmt(m.deletes),
			full: fmt(m.full),
		});
		const shownMap = async (k) => {
			const o = {};
			for (const f of mapFields)
				o[f] = await page
					.locator(`#bpf-maps tr[data-map="${k}"] td[data-field="${f}"]`)
					.innerText({ timeout: 1000 });
			return o;
		};
		const maps = await until('the knock in the maps (API)', () => {
			const items = curlJson('/bpf/maps').items;
			const st = items.find((m) => m.name === 'knock_state');
			return st && st.count === 1 && st.updates === 1 ? items : null;
		});
		if (maps.length !== 2 || maps.some((m) => m.rule !== 'knock'))
			throw new Error(`GET /api/v1/bpf/maps: ${JSON.stringify(maps)}`);
		await until('a row per map in the maps table', async () => {
			const n = await page.locator('#bpf-maps tbody tr[data-map]').count();
			if (n !== maps.length) throw new Error(`${n} rows, the API ${maps.length} maps`);
			return true;
		});
		for (const m of maps) {
			const k = `rule:${m.rule}:${m.name}`;
			const got = await until(`map ${m.name} in the maps table as in the API`, async () => {
				const g = await shownMap(k);
				const w = want(curlJson('/bpf/maps').items.find((x) => x.name === m.name));
				if (JSON.stringify(g) !== JSON.stringify(w))
					throw new Error(`shown ${JSON.stringify(g)}, API ${JSON.stringify(w)}`);
				return g;
			});
			log(`maps table: ${m.name}: ${JSON.stringify(got)}`);
		}
		// What the knock did, whatever the API says: the file's 5 entries, read by the
		// program; its state, written once.
		const cfg = await shownMap('rule:knock:knock_config');
		const kst = await shownMap('rule:knock:knock_state');
		if (cfg.entries !== '5 / 8' || !(num(cfg.lookups) >= 5) || !(num(cfg.hits) >= 5))
			throw new Error(`knock_config after a knock: ${JSON.stringify(cfg)}`);
		if (kst.entries !== '1 / 4,096' || kst.updates !== '1' || kst.kind !== 'hash, key addr')
			throw new Error(`knock_state after a knock: ${JSON.stringify(kst)}`);

		// The uploads, as GET /api/v1/bpf/programs has them: none yet, then two of one name,
		// the newer one what upload:NAME means.
		await until('the uploads table\'s empty-state line', async () =>
			/No program has been uploaded/.test(await page.locator('#bpf-uploads tbody').innerText()),
		);
		const bdir = env('BPF_DIR');
		for (const o of ['pass', 'sampler']) {
			const [code, j] = curlAdmin(
				'POST',
				'/bpf/programs?name=dash',
				readFileSync(`${bdir}/${o}.o`),
				'application/octet-stream',
			);
			if (code !== 201) throw new Error(`upload ${o}.o: ${code} ${JSON.stringify(j)}`);
			await sleep(5); // two uploads, two times
		}
		const upFields = ['sha256', 'size', 'instructions', 'mode', 'by', 'means'];
		const ups = curlJson('/bpf/programs').items;
		if (ups.length !== 2 || !ups[0].current || ups[1].current)
			throw new Error(`GET /api/v1/bpf/programs: ${JSON.stringify(ups)}`);
		const upRows = await until('the two uploads in the uploads table, as in the API', async () => {
			const rows = page.locator('#bpf-uploads tbody tr');
			const got = [];
			for (let i = 0; i < (await rows.count()); i++) {
				const o = { sha: await rows.nth(i).getAttribute('data-upload') };
				o.name = await rows.nth(i).locator('th').innerText();
				for (const f of upFields)
					o[f] = await rows.nth(i).locator(`td[data-field="${f}"]`).innerText();
				got.push(o);
			}
			const w = ups.map((u) => ({
				sha: u.sha256,
				name: u.name,
				sha256: u.sha256.slice(0, 12),
				size: fmt(u.size),
				instructions: fmt(u.instructions),
				mode: u.mode,
				by: 'dash-admin',
				means: u.current ? 'upload:dash' : 'an earlier upload',
			}));
			if (JSON.stringify(got) !== JSON.stringify(w))
				throw new Error(`shown ${JSON.stringify(got)}, API ${JSON.stringify(w)}`);
			return got;
		});
		const sha = (o) =>
			createHash('sha256').update(readFileSync(`${bdir}/${o}.o`)).digest('hex');
		if (upRows[0].sha !== sha('sampler') || upRows[1].sha !== sha('pass'))
			throw new Error(`the uploads table's order: ${JSON.stringify(upRows)}`);
		log(`uploads table: ${upRows.map((x) => `${x.name} ${x.sha256} ${x.means}`).join('; ')}`);
	}

	// 2c. Workers and queues: each worker of GET /api/v1/workers with its lcore and queues, a
	// packet rate while the stream flows, its flows, drops and handoffs; a row per queue.
	const api = curlJson('/workers');
	if (!Array.isArray(api.workers) || api.workers.length === 0)
		throw new Error(`GET /api/v1/workers has no workers: ${JSON.stringify(api)}`);
	const wcell = (id, field) =>
		page.locator(`#wtraffic tr[data-worker="${id}"] td[data-field="${field}"]`);
	const shown = await page.locator('#wtraffic tbody tr').count();
	if (shown !== api.workers.length)
		throw new Error(`the workers panel has ${shown} rows, the API ${api.workers.length} workers`);
	for (const w of api.workers) {
		const lcore = await wcell(w.id, 'lcore').innerText();
		const queues = await wcell(w.id, 'queues').innerText();
		const want = w.queues.map((q) => `${q.port}:${q.queue}`).join(' ');
		if (lcore !== String(w.lcore) || queues !== want)
			throw new Error(
				`worker ${w.id}: the panel shows lcore '${lcore}', queues '${queues}'; the API ${w.lcore}, '${want}'`,
			);
		const wpps = await until(`worker ${w.id}'s RX pkt/s in the workers panel`, async () =>
			num(await wcell(w.id, 'rx_pps').innerText()),
		);
		// Both from control's readings; the stream sends about 220 packets/s.
		const apiPps = curlJson('/workers').workers.find((x) => x.id === w.id).rx_pps;
		if (!(apiPps > 0) || wpps > 10 * apiPps || apiPps > 10 * wpps)
			throw new Error(`worker ${w.id}: the panel shows ${wpps} pkt/s, the API ${apiPps}`);
		const flows = num(await wcell(w.id, 'flows').innerText());
		const dropped = num(await wcell(w.id, 'dropped').innerText());
		const after = curlJson('/workers').workers.find((x) => x.id === w.id);
		// Counters only grow: what the page shows lies between zero and the API's later value.
		if (!(dropped > 0) || dropped > after.dropped)
			throw new Error(`worker ${w.id}: ${dropped} dropped in the panel, ${after.dropped} in the API after`);
		if (!(flows > 0))
			throw new Error(`worker ${w.id}: the panel shows no flow though the stream is one`);
		for (const k of ['out', 'in', 'lost']) {
			const v = num(await wcell(w.id, `handoff_${k}`).innerText());
			if (v !== after.handoff[k])
				throw new Error(`worker ${w.id}: handoff ${k} ${v} in the panel, ${after.handoff[k]} in the API`);
		}
		for (const q of w.queues) {
			const row = page.locator(`#wqueues tr[data-queue="${q.port}:${q.queue}"]`);
			const qw = await row.locator('td[data-field="worker"]').innerText();
			const qrx = num(await row.locator('td[data-field="rx_packets"]').innerText());
			const later = curlJson('/workers')
				.workers.find((x) => x.id === w.id)
				.queues.find((x) => x.port === q.port && x.queue === q.queue);
			if (qw !== String(w.id) || !(qrx > 0 || q.port !== 'outside') || qrx > later.rx_packets)
				throw new Error(
					`queue ${q.port}:${q.queue}: worker '${qw}', ${qrx} RX packets in the panel; the API ${w.id}, ${later.rx_packets}`,
				);
		}
		log(
			`workers panel: worker ${w.id} lcore ${lcore} queues ${queues}, ${wpps} pkt/s (API ${apiPps}), ${flows} flows, ${dropped} dropped`,
		);
	}

	// 3. The alert the traffic raised, with its explanation.
	const canary = page.locator('#alerts li.alert', { hasText: 'VIGIL TEST dashboard canary' });
	await until('the signature alert in the alerts panel', () => canary.count(), 20000);
	const summary = await canary.first().locator('summary').innerText();
	if (
		!summary.includes(CLIENT_IP) ||
		!/low|medium|high|critical/.test(summary) ||
		!/signature/.test(summary)
	)
		throw new Error(
			`the alert's summary lacks severity, kind or address: '${summary}'`,
		);
	await canary.first().locator('summary').click();
	const what = await canary.first().locator('dd.what').innerText();
	const why = await canary.first().locator('dd.why').innerText();
	const next = await canary.first().locator('dd.next').innerText();
	if (!what.includes(CLIENT_IP) || why.length < 20 || next.length < 20)
		throw new Error(
			`the explanation is missing or empty: what='${what}' why='${why}' next='${next}'`,
		);
	// The canary is in an HTTP request: the flow's application protocol is shown with it.
	const app = await canary.first().locator('dl.kv dt', { hasText: 'Application' }).count();
	const evidence = await canary.first().locator('dl.kv').innerText();
	if (!app || !/Application\s+http/.test(evidence) || !summary.includes('tcp/http'))
		throw new Error(
			`the alert does not name its flow's application protocol (http): summary '${summary}', evidence '${evidence.replace(/\s+/g, ' ')}'`,
		);
	log(`alert shown: ${summary.replace(/\s+/g, ' ')}`);
	log(`  what happened: ${what}`);
	log(`  what to do: ${next}`);
	// Filters: at critical the (low) canary goes; back at any, kind signature, it is there.
	await page.selectOption('#f-severity', 'critical');
	await until(
		'the canary to leave at severity critical',
		async () => (await canary.count()) === 0,
	);
	await page.selectOption('#f-severity', '');
	await page.selectOption('#f-kind', 'signature');
	await until('the canary back at kind signature', () => canary.count());
	await page.selectOption('#f-kind', '');
	log('alert filters: severity critical hides the low alert, kind signature shows it');
	// The signature's alerts are counted in the rule counters panel.
	const sigRow = page.locator('#sigs tbody tr', { hasText: '1:9999001' });
	await until('the canary signature in the counters', () => sigRow.count(), 10000);
	const sigText = await sigRow.first().locator('td.num').innerText();
	const sigAlerts = Number(sigText.replace(/\D/g, ''));
	if (!(sigAlerts >= 1))
		throw new Error(`the canary signature counts ${sigAlerts} alerts`);
	log(`signature counters: sid 9999001 with ${sigAlerts} alert(s)`);

	// 4. A viewer may not change the mode, and is told so.
	await page.click('#mode-dry');
	await until('"not allowed" for the viewer', async () =>
		/Not allowed/.test(await page.locator('#mode-msg').innerText()),
	);
	const denied = await page.locator('#mode-msg').innerText();
	if (!(await page.locator('#mode-msg').isVisible()))
		throw new Error('the "not allowed" message is not visible');
	if (
		!(await page.locator('#auth').isVisible()) ||
		!/operator/.test(await page.locator('#auth-reason').innerText())
	)
		throw new Error('the page did not ask for an operator token after the 403');
	if (curlJson('/mode').mode !== 'enforce')
		throw new Error('the mode changed although the viewer was refused');
	log(`viewer refused: '${denied.replace(/\s+/g, ' ')}'`);

	// 5. The operator switches to dry-run; the API and the page agree.
	await page.fill('#token-input', OPERATOR);
	await page.click('#token-form button[type=submit]');
	await page.click('#mode-dry');
	await until('the mode message', async () =>
		/Mode is now dry-run/.test(await page.locator('#mode-msg').innerText()),
	);
	const apiMode = curlJson('/mode').mode;
	if (apiMode !== 'dry-run')
		throw new Error(`GET /api/v1/mode says '${apiMode}' after the switch`);
	await until(
		'dry-run in the header',
		async () => (await page.locator('#mode-badge').innerText()) === 'dry-run',
	);
	await until(
		'the Dry-run button pressed',
		async () =>
			(await page.locator('#mode-dry').getAttribute('aria-pressed')) === 'true',
	);
	// What the policy would drop is now forwarded and counted: the drops chart shows it.
	const wouldDrop = await until(
		'a would-drop rate in the drops chart',
		async () => {
			const m = /would drop \(dry-run\): ([0-9.,]+)\/s/.exec(
				await page.locator('#legend-drops').innerText(),
			);
			return m && num(m[1]) > 0 ? num(m[1]) : 0;
		},
		12000,
	);
	log(
		`operator switched to dry-run: API says ${apiMode}, header says dry-run, ${wouldDrop} would-drop/s charted`,
	);

	// 6. Block an address, see it in the list and the API, remove it.
	const addr = '192.0.2.77';
	await page.fill('#b-addr', addr);
	await page.fill('#b-ttl', '600');
	await page.fill('#b-reason', 'dashboard test');
	await page.click('#block-form button[type=submit]');
	const row = page.locator(`#blocklist tr[data-addr="${addr}"]`);
	await until('the new block in the list', () => row.count());
	const entry = curlJson('/blocklist').items.find(
		(b) => b.addr === addr || b.address === addr,
	);
	if (!entry) throw new Error(`GET /api/v1/blocklist does not list ${addr}`);
	const rowText = await row.innerText();
	if (!rowText.includes('dashboard test') || !/in \d+ min/.test(rowText))
		throw new Error(`the block row lacks its reason or expiry: '${rowText}'`);
	log(`blocked ${addr}: row '${rowText.replace(/\s+/g, ' ')}', API source ${entry.source}`);
	await page.fill('#b-addr', '192.0.2.300');
	await page.click('#block-form button[type=submit]');
	await until('the API error for a bad address', async () =>
		/not '192\.0\.2\.300'/.test(await page.locator('#block-msg').innerText()),
	);
	log(
		`bad address refused: '${(await page.locator('#block-msg').innerText()).replace(/\s+/g, ' ')}'`,
	);
	await row.locator('button', { hasText: 'Remove' }).click();
	await until('the block to leave the list', async () => (await row.count()) === 0);
	if (curlJson('/blocklist').items.some((b) => b.addr === addr || b.address === addr))
		throw new Error(`GET /api/v1/blocklist still lists ${addr} after Remove`);
	log(`removed ${addr}: gone from the list and the API`);

	// 7. Flows: the filter by port shows the stream, with bytes; a bad address is explained.
	await page.fill('#f-port', '9001');
	await page.click('#flow-filters button[type=submit]');
	const flowRows = page.locator('#flows tbody tr');
	await until('the UDP stream alone under port 9001', async () => {
		const texts = await flowRows.allInnerTexts();
		return (
			texts.length > 0 &&
			texts.every((t) => t.includes(':9001')) &&
			texts.some((t) => t.includes(CLIENT_IP))
		);
	});
	const top = (await flowRows.first().innerText()).replace(/\s+/g, ' ');
	const bytes = num(await flowRows.first().locator('td[data-field=bytes]').innerText());
	if (!(bytes > 0)) throw new Error(`the stream's flow shows no bytes: '${top}'`);
	log(`flows filtered by port 9001: '${top}'`);
	await page.fill('#f-port', '9999');
	await page.click('#flow-filters button[type=submit]');
	const denied9999 = await until('the denied UDP flow under port 9999', async () => {
		const texts = await flowRows.allInnerTexts();
		return texts.length > 0 && texts.every((t) => t.includes(':9999')) && texts[0];
	});
	if (!/\bdrop\b/.test(denied9999) || !/\(default\)/.test(denied9999))
		throw new Error(
			`the denied flow does not show verdict drop by the default action: '${denied9999}'`,
		);
	log(`flows filtered by port 9999: '${denied9999.replace(/\s+/g, ' ')}'`);
	await page.fill('#f-port', '');
	await page.fill('#f-addr', '10.0.0.300');
	await page.click('#flow-filters button[type=submit]');
	await until('the API error in the flows panel', async () =>
		/'10\.0\.0\.300' is not an IPv4 or IPv6 address/.test(
			await page.locator('#p-flows .err').innerText(),
		),
	);
	log(
		`bad flow filter shown: '${(await page.locator('#p-flows .err').innerText()).replace(/\s+/g, ' ')}'`,
	);
	await page.click('#flow-clear');
	await until(
		'the flows panel to recover',
		async () => !(await page.locator('#p-flows .err').isVisible()),
	);

	// 7b. Learning: the operator starts it; the candidates show the traffic with what the
	// policy in force would deny; one is excluded; the proposal is generated and compared with
	// the policy in force; an admin applies it after a confirmation (a dismissed one changes
	// nothing); the preview shows what another candidate policy would change; a dry-run rule
	// is promoted to enforce with one click.
	const original = curlJson('/policy').text;
	await page.click('#mode-learn');
	await until('the mode message for learn', async () =>
		/Mode is now learn/.test(await page.locator('#mode-msg').innerText()),
	);
	if (curlJson('/mode').mode !== 'learn') throw new Error('GET /api/v1/mode is not learn');
	// The stream (9001, allowed) and the denied datagrams (9999) share source and destination:
	// one candidate with both ports, one of its two keys denied by the policy in force.
	const candRow = (text) => page.locator('#candidates tbody tr', { hasText: text });
	const udpRow = page.locator('#candidates tbody tr', {
		has: page.locator('td', { hasText: /^9001, 9999$/ }),
	});
	try {
		await until('the UDP candidate (9001, 9999)', async () => (await udpRow.count()) === 1, 30000);
	} catch (e) {
		log(`GET /api/v1/learn: ${JSON.stringify(curlJson('/learn').candidates.map((c) => c.ports))}`);
		log(`the panel: ${(await page.locator('#p-learn').innerText()).replace(/\s+/g, ' ').slice(0, 800)}`);
		throw e;
	}
	const cUdp = (await udpRow.innerText()).replace(/\s+/g, ' ');
	if (!cUdp.includes(CLIENT_IP) || !/udp/.test(cUdp) || !/\b1 of 2\b/.test(cUdp))
		throw new Error(`the UDP candidate lacks its evidence: '${cUdp}'`);
	log(`candidate: '${cUdp}'`);
	// A ping made while learning becomes a candidate of its own; exclude it.
	execFileSync('ip', ['netns', 'exec', env('NS_A'), 'ping', '-c', '2', '-W', '1', env('SERVER_IP')]);
	// (Not the ICMP the other way: B's port-unreachables for the 9999 datagrams.)
	const icmpRow = page
		.locator('#candidates tbody tr')
		.filter({ has: page.locator('td:nth-child(2)', { hasText: /^icmp$/ }) })
		.filter({ has: page.locator('td:nth-child(3)', { hasText: new RegExp(`^${CLIENT_IP}$`) }) });
	await until('the ping candidate', async () => (await icmpRow.count()) === 1, 20000);
	await icmpRow.locator('button', { hasText: 'Exclude' }).click();
	await until('the excluded candidate to leave the list', async () => (await icmpRow.count()) === 0, 15000);
	const ex = curlJson('/learn').state.exclude;
	if (ex.length !== 1 || ex[0].proto !== 1 || !ex[0].to.includes(env('SERVER_IP')))
		throw new Error(`the exclusion is not recorded: ${JSON.stringify(ex)}`);
	log(`excluded: ${JSON.stringify(ex[0])}`);

	await page.click('#learn-propose');
	await until('the proposal', async () =>
		/Proposal: \d+ rules, default drop; .* it allows \d+, all\./.test(
			await page.locator('#learn-msg').innerText(),
		),
	);
	const proposal = await page.locator('#proposal-text').innerText();
	const pingRule = new RegExp(`proto: icmp\\n    from: ${CLIENT_IP}\\n`);
	if (!/\[9001, 9999\]/.test(proposal) || pingRule.test(proposal))
		throw new Error(`the proposal misses UDP 9001/9999 or allows the excluded ping:\n${proposal}`);
	const diff = await page.locator('#proposal-diff').innerText();
	if (!/^\+ {3}- name: learned-1$/m.test(diff) || !/^- .*name: web/m.test(diff))
		throw new Error(`the diff against the policy in force is not shown:\n${diff}`);
	log(`proposal and diff shown (${proposal.split('\n').length} lines)`);

	if (!(await page.locator('#token-input').isVisible())) await page.click('#token-toggle');
	await page.fill('#token-input', ADMIN);
	await page.click('#token-form button[type=submit]');
	const before = curlJson('/policy').version;
	page.once('dialog', (d) => d.dismiss());
	await page.click('#learn-apply');
	await sleep(500);
	if (curlJson('/policy').version !== before)
		throw new Error('a dismissed confirmation applied the policy');
	page.once('dialog', (d) => d.accept());
	await page.click('#learn-apply');
	await until('the proposal applied', async () =>
		/Applied: policy version \d+/.test(await page.locator('#learn-msg').innerText()),
	);
	const applied = curlJson('/policy');
	if (applied.text.trim() !== proposal.trim() || applied.version === before)
		throw new Error('the policy in force is not the proposal');
	log(`proposal applied after confirmation: version ${applied.version}`);

	await page.click('#learn-to-preview');
	if ((await page.locator('#pv-text').inputValue()).trim() !== proposal.trim())
		throw new Error('Preview it did not put the proposal in the preview');
	const denyAll = 'version: 1\ndefault: drop\n';
	await page.fill('#pv-text', denyAll);
	await page.selectOption('#pv-since', '-1h');
	await page.click('#preview-form button[type=submit]');
	await until('the preview', async () =>
		/would change verdict/.test(await page.locator('#pv-msg').innerText()),
	);
	const [pst, pv] = curlAdmin('POST', '/policy/preview?since=-1h&limit=200', denyAll, 'text/plain');
	if (pst !== 200) throw new Error(`POST /api/v1/policy/preview: ${pst}`);
	const pvRows = await page.locator('#pv-changes tbody tr').allInnerTexts();
	if (pvRows.length !== pv.changes.length || pvRows.length === 0)
		throw new Error(`preview rows ${pvRows.length}, API changes ${pv.changes.length}`);
	if (!/allow \(rule learned-\d+\)/.test(pvRows[0]) || !/drop \(default\)/.test(pvRows[0]))
		throw new Error(`the first change is not allow (learned) -> drop (default): '${pvRows[0]}'`);
	log(`preview: '${(await page.locator('#pv-msg').innerText()).trim()}'; first row '${pvRows[0].replace(/\s+/g, ' ')}'`);

	const trial = `${applied.text.trimEnd()}\n  - name: trial\n    proto: udp\n    dport: 9999\n    action: drop\n    dry_run: true\n`;
	const [tst] = curlAdmin('PUT', '/policy', trial, 'application/yaml');
	if (tst !== 200) throw new Error(`PUT a policy with a dry-run rule: ${tst}`);
	const trialRow = page.locator('#rules tbody tr[data-rule="trial"]');
	await until('the dry-run rule with its Enforce button', async () =>
		/dry-run/.test(await trialRow.innerText()),
	);
	await trialRow.locator('button', { hasText: 'Enforce' }).click();
	await until('the promotion', async () =>
		/Rule trial is now enforce: policy version \d+/.test(await page.locator('#rule-msg').innerText()),
	);
	const promoted = curlJson('/policy').text;
	if (promoted !== trial.replace('dry_run: true', 'dry_run: false'))
		throw new Error('the promoted policy differs from the text in more than the flag');
	await until('the rule row to say enforce', async () =>
		/enforce/.test(await trialRow.innerText()),
	);
	log(`rule trial promoted to enforce with one click: '${(await page.locator('#rule-msg').innerText()).trim()}'`);
	await page.click('#mode-dry');
	await until('learning to stop', async () => curlJson('/learn').state.active === false);
	// The checks below expect the test's own policy again.
	const [rst] = curlAdmin('PUT', '/policy', original, 'application/yaml');
	if (rst !== 200) throw new Error(`restoring the policy: ${rst}`);

	// 7c. One pair of two learns alone: selected in the learning view and started there, it is
	// the one pair GET /api/v1/mode says learns (on its own), the global mode and the other
	// pair keep theirs, and the view says so; the preview then reads that pair's flows only
	// (pair= in its request); stopping it gives the pair the global mode back.
	const pairRow = (port) => page.locator(`#pair-modes tbody tr[data-pair="${port}"]`);
	const pairCell = (port, field) => pairRow(port).locator(`td[data-field="${field}"]`);
	await until(
		'both pairs in the learning view',
		async () => (await pairRow('outside').count()) === 1 && (await pairRow('east').count()) === 1,
	);
	const pairOpts = await page
		.locator('#learn-pair option')
		.evaluateAll((os) => os.map((o) => o.value));
	if (pairOpts.join(',') !== ',outside,east')
		throw new Error(`the pair selector offers '${pairOpts.join(',')}', not all pairs, outside, east`);
	const globalMode = curlJson('/mode').mode;
	await page.selectOption('#learn-pair', 'outside');
	await page.click('#learn-pair-start');
	await until('the message for the pair', async () =>
		/Pair outside ↔ inside is now learn\b/.test(await page.locator('#learn-pair-msg').innerText()),
	);
	const pm = curlJson('/mode');
	const learning = pm.pairs.filter((p) => p.mode === 'learn');
	const east = pm.pairs.find((p) => p.ports.includes('east'));
	if (
		pm.mode !== globalMode ||
		learning.length !== 1 ||
		learning[0].ports.join(',') !== 'outside,inside' ||
		!learning[0].own ||
		!east ||
		east.own ||
		east.mode !== globalMode
	)
		throw new Error(
			`after Learn this pair (outside), the global mode being ${globalMode}: GET /api/v1/mode ${JSON.stringify(pm)}`,
		);
	const ps = curlJson('/learn').state;
	if (!ps.active || JSON.stringify(ps.pair) !== '["outside","inside"]')
		throw new Error(`the learning session is not the pair's: ${JSON.stringify(ps)}`);
	await until(
		'learn on the pair\'s row and the global mode on the other',
		async () =>
			(await pairCell('outside', 'mode').innerText()) === 'learn' &&
			(await pairCell('outside', 'own').innerText()) === 'for this pair' &&
			(await pairCell('east', 'mode').innerText()) === globalMode &&
			(await pairCell('east', 'own').innerText()) === 'global mode',
	);
	await until('the learning state naming the pair', async () =>
		/^Learning pair outside ↔ inside since/.test(await page.locator('#learn-state').innerText()),
	);
	if (
		!(await page.locator('#learn-pair-start').isDisabled()) ||
		(await page.locator('#learn-pair-stop').isDisabled())
	)
		throw new Error('while the pair learns, Learn this pair is enabled or Stop disabled');
	log(
		`pair outside learns alone: GET /api/v1/mode ${JSON.stringify(pm)}; view: '${(await pairRow('outside').innerText()).replace(/\s+/g, ' ')}', '${(await pairRow('east').innerText()).replace(/\s+/g, ' ')}'`,
	);
	const pvReq = page.waitForRequest((r) => r.url().includes('/api/v1/policy/preview'));
	await page.click('#preview-form button[type=submit]');
	const pvUrl = new URL((await pvReq).url());
	if (pvUrl.searchParams.get('pair') !== 'outside')
		throw new Error(`the preview with pair outside selected asked for ${pvUrl.search}`);
	await until('the preview of the pair', async () =>
		/would change verdict on pair outside ↔ inside/.test(await page.locator('#pv-msg').innerText()),
	);
	log(`preview for the pair: ${pvUrl.pathname}${pvUrl.search}: '${(await page.locator('#pv-msg').innerText()).trim()}'`);
	await page.click('#learn-pair-stop');
	await until('the message for the stopped pair', async () =>
		/Pair outside ↔ inside is now the global mode/.test(
			await page.locator('#learn-pair-msg').innerText(),
		),
	);
	const pm2 = curlJson('/mode');
	if (pm2.mode !== globalMode || pm2.pairs.some((p) => p.own || p.mode !== globalMode))
		throw new Error(`after Stop learning this pair: GET /api/v1/mode ${JSON.stringify(pm2)}`);
	if (curlJson('/learn').state.active !== false)
		throw new Error('the pair\'s learning session did not end');
	await until(
		'the pair\'s row back to the global mode',
		async () =>
			(await pairCell('outside', 'mode').innerText()) === globalMode &&
			(await pairCell('outside', 'own').innerText()) === 'global mode',
	);
	await page.selectOption('#learn-pair', '');
	log(`pair outside stopped: GET /api/v1/mode ${JSON.stringify(pm2)}`);

	// 8. One endpoint failing and another not answering at all: each panel says so, and the
	// others keep updating meanwhile.
	await page.route('**/api/v1/rules/counters', (r) =>
		r.fulfill({
			status: 500,
			contentType: 'application/json',
			body: JSON.stringify({
				error: 'internal',
				message: 'injected failure for the test',
				details: {},
			}),
		}),
	);
	await page.route(
		(u) => u.pathname === '/api/v1/flows',
		() => {}, // never answered: the page's own timeout has to end the request
	);
	await until('the rule counters error', async () =>
		/injected failure for the test/.test(
			await page.locator('#p-rules .err').innerText(),
		),
	);
	const hangStart = Date.now();
	const a = num(await cell('outside', 'rx_packets').innerText());
	await sleep(2500);
	const b = num(await cell('outside', 'rx_packets').innerText());
	if (!(b > a))
		throw new Error(
			`the ports stopped updating while two endpoints failed (${a} then ${b})`,
		);
	await until(
		'the flows panel to report the request that got no answer',
		async () =>
			/no answer within/.test(await page.locator('#p-flows .err').innerText()),
		15000,
	);
	const flowErr = (await page.locator('#p-flows .err').innerText()).replace(/\s+/g, ' ');
	const c = num(await cell('outside', 'rx_packets').innerText());
	if (!(c > b))
		throw new Error(`the ports stopped updating while flows hung (${b} then ${c})`);
	await page.unrouteAll({ behavior: 'ignoreErrors' });
	await until(
		'the rule counters and flows to recover',
		async () =>
			!(await page.locator('#p-rules .err').isVisible()) &&
			!(await page.locator('#p-flows .err').isVisible()),
	);
	const rulesText = await page.locator('#rules tbody').innerText();
	if (!/stream/.test(rulesText) || !/\(default\)/.test(rulesText))
		throw new Error(`rule counters lack the policy's rules: '${rulesText}'`);
	log(
		`failing (500) and hanging endpoints shown in their panels ('${flowErr}' after ` +
			`${((Date.now() - hangStart) / 1000).toFixed(1)} s); the ports kept updating ` +
			`(${a} -> ${b} -> ${c} packets)`,
	);

	// 9. Pictures for a person to look at.
	await page.locator('#alerts li.alert summary').first().click(); // fold the alert again
	await page.locator('#alerts li.alert summary').first().click(); // and open it: full view
	await sleep(2200); // one more poll, so the charts have a few points
	await page.screenshot({ path: env('SHOT'), fullPage: true });
	if (process.env.SHOT_NARROW) {
		await page.setViewportSize({ width: 420, height: 900 });
		await sleep(500);
		await page.screenshot({ path: process.env.SHOT_NARROW, fullPage: true });
	}
	log(`screenshot: ${env('SHOT')}`);

	// 10. Accessibility, on the page as the user now has it (data in every panel, an alert
	// open). axe runs through the DevTools protocol, so the page's CSP stays as it is.
	await page.setViewportSize({ width: 1400, height: 1000 });
	const require = createRequire(import.meta.url);
	await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
	const ax = await page.evaluate(async () => {
		const r = await window.axe.run(document, {
			runOnly: {
				type: 'tag',
				values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'],
			},
		});
		return {
			passes: r.passes.length,
			violations: r.violations.map(
				(v) =>
					`${v.id} (${v.impact}): ${v.help}; ` +
					v.nodes
						.slice(0, 3)
						.map((n) => n.target.join(' '))
						.join(', '),
			),
		};
	});
	if (ax.violations.length)
		failures.push(`accessibility (axe-core): ${ax.violations.join(' | ')}`);
	else
		log(
			`accessibility: axe-core finds no WCAG 2.1 A/AA violation (${ax.passes} rules pass)`,
		);
	if (foreign.length)
		failures.push(
			`the page asked for resources off the appliance: ${foreign.join(', ')}`,
		);

	// 11. A page of another origin (another port of this host) frames the dashboard for a
	// clickjack and posts a 40 KB nested YAML to validate as text/plain, a "simple request" a
	// browser sends without asking: the browser refuses the frame (frame-ancestors 'none',
	// X-Frame-Options DENY), and vigild refuses the POST for its Origin before compiling.
	const evil = createServer((req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
		res.end(
			'<!doctype html><title>elsewhere</title>' +
				`<iframe id="f" src="${URL_}" width="900" height="600"></iframe><script>` +
				`fetch(${JSON.stringify(`${origin}/api/v1/policy/validate`)}, {method: 'POST', ` +
				"mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, " +
				"body: 'a: ' + '['.repeat(20000) + ']'.repeat(20000)}).catch(() => {});" +
				'</script>',
		);
	});
	await new Promise((r) => evil.listen(0, '127.0.0.1', r));
	try {
		const evilUrl = `http://127.0.0.1:${evil.address().port}/`;
		const p2 = await ctx.newPage();
		const refused = [];
		p2.on('console', (m) => {
			if (/frame-ancestors|X-Frame-Options/i.test(m.text())) refused.push(m.text());
		});
		const csrf = p2.waitForResponse((r) => r.url().endsWith('/api/v1/policy/validate'), {
			timeout: 10000,
		});
		await p2.goto(evilUrl);
		const answer = await csrf;
		if (answer.status() !== 403)
			throw new Error(
				`the cross-site POST from ${evilUrl} got ${answer.status()}, not 403 (Origin refused)`,
			);
		await until('the browser to refuse to frame the dashboard', () => refused.length > 0);
		const child = p2.frames().find((f) => f !== p2.mainFrame());
		const framed = child
			? await child
					.evaluate(() => !!document.querySelector('#token-form'))
					.catch(() => false)
			: false;
		if (framed) throw new Error(`${evilUrl} framed the dashboard`);
		log(
			`another origin (${evilUrl}): its POST answered ${answer.status()}; frame refused: '${refused[0]}'`,
		);
		await p2.close();
	} finally {
		evil.close();
	}
} catch (e) {
	failures.unshift(e.message);
	if (page && process.env.SHOT)
		await page.screenshot({ path: process.env.SHOT, fullPage: true }).catch(() => {});
} finally {
	await ctx.close();
}
if (failures.length) {
	for (const f of failures) console.error(`dashboard: FAIL: ${f}`);
	process.exit(1);
}
log('all checks passed');
