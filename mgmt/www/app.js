// SPDX-License-Identifier: BSD-3-Clause
// The Vigil dashboard. Polls /api/v1 every 2 s (never two polls at once), draws its own charts
// on <canvas>, and sends the operator's changes (mode, blocklist) with the bearer token kept in
// sessionStorage. Every panel fails on its own: an endpoint that errors shows its message in
// its panel and the others keep updating. Text from the appliance (alert explanations,
// addresses, rule names) only ever goes into the page as text nodes, never as markup.
'use strict';

const API = '/api/v1';
const POLL_MS = 2000;
const SLOW_EVERY = 5; // policy and signature versions: every 5th poll (10 s)
const WINDOW_MS = 5 * 60 * 1000; // chart width in time
const FETCH_TIMEOUT_MS = 8000;
const MIN_RATE_S = 1.0; // readings closer than this are too noisy to make a rate from
const FLOW_FETCH = 1000; // flows asked for; the page picks the top N by bytes
const ALERT_PAGE = 50;
const ALERT_MAX = 1000; // the API's largest page
const TOKEN_KEY = 'vigil.token';
const COLORS = ['#1f5fbf', '#b3261e', '#1b7f3b', '#8a4b00', '#6b3fa0', '#00727a', '#5c5c5c'];

// ---- small helpers --------------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);

// Build an element. attrs: class, text, data-*/aria-* and other attributes, on<event> handlers.
function h(tag, attrs = {}, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'text') el.textContent = v;
		else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat()) {
		if (c === undefined || c === null || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fmtInt(n) {
	return typeof n === 'number' && Number.isFinite(n) ? intFmt.format(n) : '—';
}

function fmtRate(r) {
	if (r === null || r === undefined || !Number.isFinite(r)) return '—';
	if (r > 0 && r < 10) return r.toFixed(1);
	return intFmt.format(Math.round(r));
}

// Short form for chart axes: 950, 1.2k, 3.4M.
function fmtShort(v) {
	const a = Math.abs(v);
	if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + 'G';
	if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
	if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k';
	return a > 0 && a < 10 ? v.toFixed(1) : String(Math.round(v));
}

function fmtTick(v) {
	return v >= 1000 ? fmtShort(v) : String(Number(v.toPrecision(3)));
}

function fmtBytes(n) {
	if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return (i === 0 ? String(n) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
}

function fmtBits(bps) {
	if (bps === null || !Number.isFinite(bps)) return '—';
	return fmtShort(bps) + 'bit/s';
}

function fmtDuration(s) {
	if (typeof s !== 'number' || !Number.isFinite(s)) return '—';
	s = Math.max(0, Math.floor(s));
	const d = Math.floor(s / 86400),
		hr = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60),
		sec = s % 60;
	if (d > 0) return `${d} d ${hr} h`;
	if (hr > 0) return `${hr} h ${m} min`;
	if (m > 0) return `${m} min ${sec} s`;
	return `${sec} s`;
}

function fmtTime(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	const d = new Date(ms);
	const now = new Date();
	const t = d.toLocaleTimeString('en-GB', { hour12: false });
	if (d.toDateString() === now.toDateString()) return t;
	return d.toISOString().slice(0, 10) + ' ' + t;
}

function fmtAgo(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	const s = (Date.now() - ms) / 1000;
	return s < 1 ? 'now' : fmtDuration(s) + ' ago';
}

const nsToMs = (ns) => (typeof ns === 'number' ? ns / 1e6 : null);

function hostPort(addr, port, proto) {
	const a = addr && addr.includes(':') ? `[${addr}]` : addr;
	if (proto === 'icmp' || proto === 'icmpv6' || port === undefined || port === null) return a;
	return `${a}:${port}`;
}

// Per-second rate of a counter between two readings; null when it cannot be known (first
// reading, a counter that went back because the appliance restarted).
function rate(cur, prev, dt) {
	if (typeof cur !== 'number' || typeof prev !== 'number' || !(dt > 0) || cur < prev)
		return null;
	return (cur - prev) / dt;
}

const sum = (xs) => xs.reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);

// ---- API ------------------------------------------------------------------------------------

class ApiError extends Error {
	constructor(status, body, method, path) {
		super(body && typeof body.message === 'string' ? body.message : `HTTP ${status}`);
		this.status = status;
		this.code = body && body.error ? String(body.error) : `http_${status}`;
		this.details = body && typeof body.details === 'object' ? body.details : null;
		this.method = method;
		this.path = path;
	}
}

function token() {
	try {
		return sessionStorage.getItem(TOKEN_KEY) || '';
	} catch {
		return '';
	}
}

async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	const tok = token();
	if (tok) headers.Authorization = `Bearer ${tok}`;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	let resp;
	try {
		resp = await fetch(API + path, {
			method,
			headers,
			body: body !== undefined ? JSON.stringify(body) : undefined,
			cache: 'no-store',
			credentials: 'omit',
			signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
		});
	} catch (e) {
		// Timed out: this endpoint is stuck, the appliance may be fine. Otherwise the
		// connection itself failed.
		const body =
			e && e.name === 'TimeoutError'
				? {
						error: 'timeout',
						message: `${method} ${API + path}: no answer within ${FETCH_TIMEOUT_MS / 1000} s`,
					}
				: { error: 'unreachable', message: `cannot reach the appliance (${e.message})` };
		throw new ApiError(0, body, method, path);
	}
	if (resp.status === 204) return null;
	const text = await resp.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch {
		json = null;
	}
	if (!resp.ok) {
		const err = new ApiError(
			resp.status,
			json && json.message
				? json
				: {
						error: `http_${resp.status}`,
						message: `${method} ${API + path}: HTTP ${resp.status} ${resp.statusText}`,
					},
			method,
			path,
		);
		if (resp.status === 401)
			auth.ask(`The appliance asks for a token: ${err.message}.`, false);
		throw err;
	}
	if (json === null)
		throw new ApiError(
			resp.status,
			{
				error: 'bad_reply',
				message: `${method} ${API + path}: the reply is not JSON`,
			},
			method,
			path,
		);
	return json;
}

// An API error as the user reads it: the message, then the code and the details.
function errorNodes(err) {
	const out = [h('strong', { text: err.message })];
	const bits = [];
	if (err.code) bits.push(`error: ${err.code}`);
	if (err.status) bits.push(`HTTP ${err.status}`);
	const d = err.details || {};
	for (const [k, v] of Object.entries(d)) {
		if (k === 'diagnostics') continue;
		bits.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
	}
	if (bits.length) out.push(h('span', { class: 'err-code', text: bits.join(' · ') }));
	if (Array.isArray(d.diagnostics) && d.diagnostics.length) {
		out.push(
			h(
				'ul',
				{ class: 'diags' },
				d.diagnostics.map((g) =>
					h('li', {
						text: `${g.file || ''}:${g.line}:${g.column}: ${g.severity}: ${g.message}`,
					}),
				),
			),
		);
	}
	return out;
}

function panelError(panelId, err) {
	const panel = document.getElementById(panelId);
	const p = $('.err', panel);
	if (!err) {
		if (!p.hidden) {
			p.hidden = true;
			p.replaceChildren();
			panel.classList.remove('failed');
		}
		return;
	}
	p.replaceChildren(...errorNodes(err));
	p.hidden = false;
	panel.classList.add('failed');
}

// A write was refused or failed: say so where the user acted, and ask for a better token
// when the role was the problem.
function actionError(msgEl, err) {
	msgEl.className = 'msg bad';
	if (err.status === 401) auth.ask(`The appliance asks for a token: ${err.message}.`, true);
	if (err.status === 403) {
		const need =
			err.details && err.details.required ? err.details.required : 'operator';
		msgEl.replaceChildren(
			h('strong', { text: 'Not allowed: ' }),
			err.message,
			h('span', {
				class: 'err-code',
				text: `Enter a token with the ${need} role to do this.`,
			}),
		);
		auth.ask(`Not allowed: ${err.message}. Enter a token with the ${need} role.`, true);
		return;
	}
	msgEl.replaceChildren(...errorNodes(err));
}

function actionOk(msgEl, text) {
	msgEl.className = 'msg ok';
	msgEl.textContent = text;
}

// ---- token ----------------------------------------------------------------------------------

const auth = {
	shown: false,
	dismissed: false, // closed by the user: polls do not open it again, actions do
	ask(reason, focus) {
		const box = $('#auth');
		$('#auth-reason').textContent = reason;
		if (!focus && this.dismissed) return;
		if (!this.shown) {
			box.hidden = false;
			this.shown = true;
			focus = true;
		}
		if (focus) $('#token-input').focus();
	},
	hide() {
		$('#auth').hidden = true;
		this.shown = false;
	},
	init() {
		$('#token-form').addEventListener('submit', (e) => {
			e.preventDefault();
			const v = $('#token-input').value.trim();
			if (!v) return;
			sessionStorage.setItem(TOKEN_KEY, v);
			$('#token-input').value = '';
			this.hide();
			this.dismissed = false;
			updateTokenButton();
			poller.soon();
		});
		$('#token-forget').addEventListener('click', () => {
			sessionStorage.removeItem(TOKEN_KEY);
			$('#token-input').value = '';
			$('#auth-reason').textContent = 'Token forgotten.';
			updateTokenButton();
			poller.soon();
		});
		$('#token-close').addEventListener('click', () => {
			this.hide();
			this.dismissed = true;
		});
		$('#token-toggle').addEventListener('click', () => {
			if (this.shown) this.hide();
			else
				this.ask(
					token()
						? 'A token is in use; enter another to replace it.'
						: 'No token is in use.',
					true,
				);
		});
		updateTokenButton();
	},
};

function updateTokenButton() {
	$('#token-toggle').textContent = token() ? 'API token (set)…' : 'API token…';
}

// ---- charts ---------------------------------------------------------------------------------

// History of readings for the charts: times (ms) and, per series, values (null: unknown).
class History {
	constructor() {
		this.t = [];
		this.series = new Map();
	}
	push(t, values) {
		this.t.push(t);
		for (const [name, v] of Object.entries(values)) {
			if (!this.series.has(name))
				this.series.set(name, new Array(this.t.length - 1).fill(null));
		}
		for (const [name, arr] of this.series)
			arr.push(name in values ? values[name] : null);
		while (this.t.length > 2 && this.t[0] < t - WINDOW_MS - POLL_MS) {
			this.t.shift();
			for (const arr of this.series.values()) arr.shift();
		}
	}
	clear() {
		this.t = [];
		this.series.clear();
	}
}

function niceCeil(v) {
	if (!(v > 0)) return 1;
	const p = Math.pow(10, Math.floor(Math.log10(v)));
	for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
	return 10 * p;
}

function drawChart(canvas, legend, hist, opts) {
	const dpr = window.devicePixelRatio || 1;
	const w = Math.max(200, canvas.clientWidth),
		hgt = Math.max(120, canvas.clientHeight);
	if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
		canvas.width = Math.round(w * dpr);
		canvas.height = Math.round(hgt * dpr);
	}
	const g = canvas.getContext('2d');
	g.setTransform(dpr, 0, 0, dpr, 0, 0);
	g.clearRect(0, 0, w, hgt);
	const css = getComputedStyle(document.body);
	const ink = css.getPropertyValue('--ink').trim() || '#1a1a1a';
	const muted = css.getPropertyValue('--muted').trim() || '#555';
	const grid = css.getPropertyValue('--grid').trim() || '#ddd';
	const left = 48,
		right = 8,
		top = 8,
		bottom = 22;
	const pw = w - left - right,
		ph = hgt - top - bottom;
	const now = hist.t.length ? hist.t[hist.t.length - 1] : Date.now();
	const t0 = now - WINDOW_MS;
	let max = 0;
	for (const arr of hist.series.values())
		for (const v of arr) if (typeof v === 'number' && v > max) max = v;
	// Four grid steps of a round size: 0.5, 1, 2, 2.5, 5, 10, ...
	const step = niceCeil(max / 4);
	const ymax = 4 * step;
	g.font = '11px system-ui, sans-serif';
	g.lineWidth = 1;
	g.textBaseline = 'middle';
	g.textAlign = 'right';
	for (let i = 0; i <= 4; i++) {
		const y = top + ph - (ph * i) / 4;
		g.strokeStyle = grid;
		g.beginPath();
		g.moveTo(left, Math.round(y) + 0.5);
		g.lineTo(left + pw, Math.round(y) + 0.5);
		g.stroke();
		g.fillStyle = muted;
		g.fillText(fmtTick(step * i), left - 6, y);
	}
	g.textBaseline = 'top';
	g.textAlign = 'center';
	for (let m = 0; m <= 5; m++) {
		const x = left + (pw * m) / 5;
		g.fillStyle = muted;
		g.fillText(
			m === 5 ? 'now' : `−${5 - m} min`,
			Math.min(x, left + pw - 12),
			top + ph + 6,
		);
	}
	g.strokeStyle = ink;
	g.beginPath();
	g.moveTo(left + 0.5, top);
	g.lineTo(left + 0.5, top + ph + 0.5);
	g.lineTo(left + pw, top + ph + 0.5);
	g.stroke();

	const items = [];
	let ci = 0;
	for (const [name, arr] of hist.series) {
		const color = COLORS[ci++ % COLORS.length];
		const dashed = opts.dashed && opts.dashed(name);
		g.strokeStyle = color;
		g.lineWidth = 2;
		g.setLineDash(dashed ? [6, 4] : []);
		g.beginPath();
		let pen = false;
		for (let i = 0; i < arr.length; i++) {
			const v = arr[i];
			if (typeof v !== 'number') {
				pen = false;
				continue;
			}
			const x = left + ((hist.t[i] - t0) / WINDOW_MS) * pw;
			const y = top + ph - (Math.min(v, ymax) / ymax) * ph;
			if (x < left) continue;
			if (pen) g.lineTo(x, y);
			else g.moveTo(x, y);
			pen = true;
		}
		g.stroke();
		g.setLineDash([]);
		let last = null;
		for (let i = arr.length - 1; i >= 0 && last === null; i--)
			if (typeof arr[i] === 'number') last = arr[i];
		items.push({ name, color, dashed, last });
	}
	if (!items.length) {
		g.fillStyle = muted;
		g.textAlign = 'center';
		g.textBaseline = 'middle';
		g.fillText('waiting for two readings…', left + pw / 2, top + ph / 2);
	}
	legend.replaceChildren(
		...items.map((it) => {
			const sw = h('span', { class: 'swatch' + (it.dashed ? ' dashed' : '') });
			sw.style.borderColor = it.color;
			return h(
				'li',
				{},
				sw,
				`${it.name}: `,
				h('strong', { text: `${fmtRate(it.last)}/s` }),
			);
		}),
	);
	canvas.setAttribute(
		'aria-label',
		`${opts.label}, last 5 minutes. Latest: ` +
			(items.length
				? items
						.map(
							(it) =>
								`${it.name} ${fmtRate(it.last)} per second`,
						)
						.join('; ')
				: 'no reading yet') +
			'.',
	);
}

// The last few readings of a counter document, so that a rate is always taken over at least
// MIN_RATE_S, also when a poll comes early after a change.
class Readings {
	constructor() {
		this.list = [];
	}
	push(t, v) {
		this.list.push({ t, v });
		if (this.list.length > 4) this.list.shift();
	}
	last() {
		return this.list.length ? this.list[this.list.length - 1] : null;
	}
	base(t) {
		for (let i = this.list.length - 1; i >= 0; i--)
			if (t - this.list[i].t >= MIN_RATE_S) return this.list[i];
		return null;
	}
	clear() {
		this.list = [];
	}
}

// ---- state ----------------------------------------------------------------------------------

const st = {
	statusReadings: new Readings(),
	status: null,
	ppsHist: new History(),
	dropHist: new History(),
	rules: [], // policy rule counters, by index
	rulesReadings: new Readings(),
	alertLimit: ALERT_PAGE, // grows by a page with "Older alerts"
	alertOpen: new Set(),
	lastOk: null,
	lastErr: null,
	versions: { policy: null, signatures: null },
};

// ---- status, ports, charts ------------------------------------------------------------------

async function pollStatus() {
	let s;
	try {
		s = await api('GET', '/status');
	} catch (e) {
		for (const id of ['p-status', 'p-ports', 'p-wtraffic', 'p-chart-pps', 'p-chart-drops'])
			panelError(id, e);
		st.lastErr = e;
		return;
	}
	for (const id of ['p-status', 'p-ports', 'p-wtraffic', 'p-chart-pps', 'p-chart-drops'])
		panelError(id, null);
	st.lastErr = null;
	st.lastOk = Date.now();
	const t = performance.now() / 1000;
	const last = st.statusReadings.last();
	// A restarted appliance starts its counters again: forget the old readings.
	if (
		last &&
		typeof s.uptime_s === 'number' &&
		typeof last.v.uptime_s === 'number' &&
		s.uptime_s < last.v.uptime_s
	) {
		st.statusReadings.clear();
		st.ppsHist.clear();
		st.dropHist.clear();
	}
	const prev = st.statusReadings.base(t);
	const dt = prev ? t - prev.t : 0;
	renderHeader(s);
	renderStatus(s, prev ? prev.v : null, dt);
	const rates = renderPorts(s, prev ? prev.v : null, dt);
	renderBpf(s, prev ? prev.v : null, dt);
	renderWorkerTraffic(s);
	if (prev) {
		st.ppsHist.push(Date.now(), rates.pps);
		st.dropHist.push(Date.now(), rates.drops);
	}
	drawCharts();
	st.statusReadings.push(t, s);
	st.status = s;
}

function drawCharts() {
	drawChart($('#chart-pps'), $('#legend-pps'), st.ppsHist, {
		label: 'Packets per second received per port',
	});
	drawChart($('#chart-drops'), $('#legend-drops'), st.dropHist, {
		label: 'Drops per second',
		dashed: (name) => name.startsWith('would drop'),
	});
}

function renderMode(mode) {
	const badge = $('#mode-badge');
	badge.textContent = mode || '?';
	badge.className =
		'badge ' +
		(mode === 'enforce'
			? 'mode-enforce'
			: mode === 'dry-run' || mode === 'learn'
				? 'mode-dry'
				: '');
	$('#mode-now').textContent = mode || '?';
	for (const b of document.querySelectorAll('#p-mode .seg button'))
		b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
}

function renderHeader(s) {
	$('#hdr-version').textContent = s.version || '?';
	$('#hdr-uptime').textContent = fmtDuration(s.uptime_s);
	renderMode(s.mode);
}

function kvRow(label, ...value) {
	return h('div', {}, h('dt', { text: label }), h('dd', { 'data-kv': label }, ...value));
}

function versionNodes(v) {
	if (!v) return ['…'];
	if (v.err) return [h('span', { class: 'muted', text: `not available: ${v.err.message}` })];
	const j = v.json;
	const parts = [h('strong', { text: `version ${j.version}` })];
	if (j.sha256)
		parts.push(
			' · ',
			h('code', { title: j.sha256, text: String(j.sha256).slice(0, 12) }),
		);
	if (j.source) parts.push(' · ', j.source);
	if (typeof j.applied_at_ns === 'number')
		parts.push(' · applied ', fmtTime(nsToMs(j.applied_at_ns)));
	return parts;
}

function renderStatus(s, p, dt) {
	const fl = s.flows || {};
	const fill = typeof fl.fill === 'number' ? fl.fill : null;
	const bar = h(
		'span',
		{ class: 'bar', role: 'presentation' },
		h('span', { class: 'bar-fill' }),
	);
	bar.firstChild.style.width = `${Math.min(100, (fill || 0) * 100)}%`;
	const ins = s.inspection || {};
	const pol = s.policy || {};
	const ev = s.events || {};
	const rows = [
		kvRow('Version', s.version || '?'),
		kvRow('Uptime', fmtDuration(s.uptime_s)),
		kvRow(
			'Mode',
			h('span', {
				class:
					'badge ' +
					(s.mode === 'enforce' ? 'mode-enforce' : 'mode-dry'),
				text: s.mode || '?',
			}),
		),
		kvRow('Workers', String((s.workers || []).length)),
		kvRow(
			'Flow table',
			`${fmtInt(fl.active)} of ${fmtInt(fl.capacity)} (${fill === null ? '—' : (fill * 100).toFixed(fill < 0.01 ? 3 : 1)} %)`,
			bar,
		),
		kvRow(
			'Flows created',
			fmtInt(fl.created),
			p && p.flows
				? ` (${fmtRate(rate(fl.created, p.flows.created, dt))}/s)`
				: '',
		),
		kvRow('Policy', ...versionNodes(st.versions.policy)),
		kvRow('Signatures', ...versionNodes(st.versions.signatures)),
		kvRow(
			'Policy verdicts',
			`${fmtInt(pol.dropped)} dropped · ${fmtInt(pol.would_drop)} would drop · ${fmtInt(pol.blocked)} blocked · ${fmtInt(pol.rejects_sent)} rejects sent`,
		),
		kvRow(
			'Inspection',
			`${fmtInt(ins.packets)} packets · ${fmtInt(ins.alerts)} alerts · ${fmtInt(ins.dropped)} dropped`,
		),
		kvRow('Events to control', `${fmtInt(ev.sent)} sent · ${fmtInt(ev.lost)} lost`),
	];
	$('#status-kv').replaceChildren(...rows);

	const hz = typeof s.tsc_hz === 'number' ? s.tsc_hz : null;
	const pw = new Map(((p && p.workers) || []).map((w) => [w.id, w]));
	$('#workers tbody').replaceChildren(
		...(s.workers || []).map((w) => {
			const q = pw.get(w.id);
			const busy = q && hz ? rate(w.busy_cycles, q.busy_cycles, dt) : null;
			const wd = w.watchdog || {};
			return h(
				'tr',
				{},
				h('td', { text: String(w.id) }),
				h('td', { text: String(w.lcore) }),
				h('td', {
					class: 'num',
					text:
						busy === null
							? '—'
							: `${Math.min(100, (busy / hz) * 100).toFixed(1)} %`,
				}),
				h('td', { class: 'num', text: fmtInt(w.flows && w.flows.active) }),
				h('td', { class: 'num', text: fmtInt(w.events && w.events.lost) }),
				h(
					'td',
					{},
					h('span', {
						class: 'badge ' + (wd.stalled ? 'warn' : 'ok'),
						text: wd.stalled
							? `stalled ${fmtInt(wd.stalled_ms)} ms` +
								(wd.failed_over
									? ` · failed over: ${fmtInt(wd.failopen && wd.failopen.packets)} forwarded uninspected`
									: wd.failure === 'closed'
										? ' · queues not forwarded'
										: '')
							: wd.stalls
								? `ok (${fmtInt(wd.stalls)} stalls)`
								: 'ok',
					}),
				),
			);
		}),
	);
}

// Per worker and per queue: rates as control computes them from its readings a second apart
// (ctl_rates.h; the same as GET /api/v1/workers and vigilctl workers), so this needs no reading
// of its own; counters, flows and handoffs as the status has them.
function renderWorkerTraffic(s) {
	const workers = s.workers || [];
	const total = sum(workers.map((w) => w.rx_pps));
	const num = (field, v) => h('td', { class: 'num', 'data-field': field, text: v });
	const ho = (w, k) => fmtInt(w.handoff && w.handoff[k]);
	$('#wtraffic tbody').replaceChildren(
		...workers.map((w) => {
			const share = typeof w.rx_pps === 'number' && total > 0 ? w.rx_pps / total : null;
			const bar = h(
				'span',
				{ class: 'bar', role: 'presentation' },
				h('span', { class: 'bar-fill' }),
			);
			bar.firstChild.style.width = `${((share || 0) * 100).toFixed(1)}%`;
			return h(
				'tr',
				{ 'data-worker': String(w.id) },
				h('th', { scope: 'row', text: String(w.id) }),
				h('td', { 'data-field': 'lcore', text: String(w.lcore) }),
				h('td', {
					'data-field': 'queues',
					text: (w.queues || []).map((q) => `${q.port}:${q.queue}`).join(' ') || 'none',
				}),
				num('rx_pps', fmtRate(w.rx_pps)),
				h(
					'td',
					{ 'data-field': 'share' },
					bar,
					share === null ? ' —' : ` ${(share * 100).toFixed(0)} %`,
				),
				num('tx_pps', fmtRate(w.tx_pps)),
				num('rx_bps', fmtBits(typeof w.rx_bps === 'number' ? w.rx_bps : null)),
				num('flows', fmtInt(w.flows && w.flows.active)),
				num('dropped', fmtInt(w.dropped)),
				num('handoff_out', ho(w, 'out')),
				num('handoff_in', ho(w, 'in')),
				h(
					'td',
					{ class: 'num', 'data-field': 'handoff_lost' },
					h('span', {
						class: w.handoff && w.handoff.lost > 0 ? 'badge warn' : '',
						text: ho(w, 'lost'),
					}),
				),
			);
		}),
	);
	const qrows = [];
	for (const w of workers)
		for (const q of w.queues || [])
			qrows.push(
				h(
					'tr',
					{ 'data-queue': `${q.port}:${q.queue}` },
					h('th', { scope: 'row', text: q.port }),
					h('td', { text: String(q.queue) }),
					h('td', { 'data-field': 'worker', text: String(w.id) }),
					num('rx_pps', fmtRate(q.rx_pps)),
					num('tx_pps', fmtRate(q.tx_pps)),
					num('rx_packets', fmtInt(q.rx_packets)),
					num('tx_packets', fmtInt(q.tx_packets)),
					num('dropped', fmtInt(q.dropped)),
				),
			);
	$('#wqueues tbody').replaceChildren(...qrows);
}

function portLost(pt) {
	return sum([pt.rx_missed, pt.rx_nombuf, pt.tx_full]);
}

// The eBPF programs of the policy in force: pre-filters (per port) first, then rules' programs.
function renderBpf(s, p, dt) {
	const key = (kind, x) => `${kind}:${x.name}`;
	const prevRuns = new Map();
	for (const x of (p && p.bpf_prefilters) || []) prevRuns.set(key('pre', x), x.runs);
	for (const x of (p && p.bpf) || []) prevRuns.set(key('rule', x), x.runs);
	const row = (kind, x, where) => {
		const q = prevRuns.get(key(kind, x));
		const num = (field, v) => h('td', { class: 'num', 'data-field': field, text: v });
		return h(
			'tr',
			{ 'data-bpf': key(kind, x) },
			h('th', { scope: 'row', text: x.name }),
			h('td', { text: where }),
			h('td', { class: 'dev', text: x.file || '' }),
			h('td', { text: x.mode || '' }),
			num('runs', fmtInt(x.runs)),
			num('runs_ps', fmtRate(q === undefined ? null : rate(x.runs, q, dt))),
			num('pass', fmtInt(x.pass)),
			num('drop', fmtInt(x.drop)),
			num('reject', fmtInt(x.reject)),
			num('allow', fmtInt(x.allow)),
			num('invalid', fmtInt(x.invalid)),
			num('alerts', fmtInt(x.alerts)),
			num(
				'cycles_per_run',
				typeof x.cycles_per_run === 'number' && x.runs > 0
					? fmtInt(Math.round(x.cycles_per_run))
					: '',
			),
		);
	};
	const rows = [
		...(s.bpf_prefilters || []).map((x) =>
			row('pre', x, `pre-filter of ${(x.in || []).join(', ')}`),
		),
		...(s.bpf || []).map((x) => row('rule', x, `rule ${x.name}`)),
	];
	if (rows.length === 0)
		rows.push(
			h('tr', {}, h('td', { colspan: 13, class: 'help', text: 'No eBPF program in the policy in force.' })),
		);
	$('#bpf tbody').replaceChildren(...rows);
}

// The maps of the programs in force and the uploaded programs: a poll of their own, so that a
// failing read shows in this panel alone, and an appliance without a store (no uploads: 409
// not_available) says so in the table.
async function pollBpfTables() {
	const one = async (path) => {
		try {
			return { json: await api('GET', path) };
		} catch (e) {
			return { err: e };
		}
	};
	const [maps, ups] = await Promise.all([one('/bpf/maps'), one('/bpf/programs')]);
	const noStore = !!ups.err && ups.err.status === 409;
	panelError('p-bpf', maps.err || (noStore ? null : ups.err) || null);
	if (maps.json) renderBpfMaps(maps.json.items || []);
	if (ups.json || noStore) renderBpfUploads(ups.json ? ups.json.items || [] : null);
}

function emptyRow(cols, text) {
	return h('tr', {}, h('td', { colspan: cols, class: 'empty', text }));
}

function bpfMapKind(m) {
	if (m.kind === 'lpm') return `lpm, IPv${m.family}`;
	return m.key ? `${m.kind}, key ${m.key}` : m.kind || '';
}

function renderBpfMaps(items) {
	const rows = items.map((m) => {
		const pre = typeof m.prefilter === 'string';
		const owner = pre ? m.prefilter : m.rule;
		const num = (field, v) => h('td', { class: 'num', 'data-field': field, text: v });
		return h(
			'tr',
			{ 'data-map': `${pre ? 'pre' : 'rule'}:${owner}:${m.name}` },
			h('th', { scope: 'row', text: m.name }),
			h('td', { 'data-field': 'of', text: `${pre ? 'pre-filter' : 'rule'} ${owner}` }),
			h('td', { class: 'dev', 'data-field': 'program', text: m.program || '' }),
			h('td', { 'data-field': 'kind', text: bpfMapKind(m) }),
			num('entries', `${fmtInt(m.count)} / ${fmtInt(m.max_entries)}`),
			num('lookups', fmtInt(m.lookups)),
			num('hits', fmtInt(m.hits)),
			num('updates', fmtInt(m.updates)),
			num('deletes', fmtInt(m.deletes)),
			num('full', fmtInt(m.full)),
		);
	});
	if (!rows.length) rows.push(emptyRow(10, 'No program of the policy in force declares a map.'));
	$('#bpf-maps tbody').replaceChildren(...rows);
}

// items: the uploads, newest first; null when the appliance keeps none (no store).
function renderBpfUploads(items) {
	const means = (u) => {
		if (u.current) return h('span', { class: 'badge ok', text: `upload:${u.name}` });
		return h('span', {
			class: 'muted',
			text: u.name ? 'an earlier upload' : 'no name: sha256: only',
		});
	};
	const rows = (items || []).map((u) => {
		const num = (field, v) => h('td', { class: 'num', 'data-field': field, text: v });
		const ms = typeof u.uploaded_ns === 'number' ? u.uploaded_ns / 1e6 : null;
		return h(
			'tr',
			{ 'data-upload': u.sha256 },
			h('th', { scope: 'row', text: u.name || '—' }),
			h('td', {
				class: 'dev',
				'data-field': 'sha256',
				title: u.sha256,
				text: String(u.sha256 || '').slice(0, 12),
			}),
			num('size', fmtInt(u.size)),
			num('instructions', fmtInt(u.instructions)),
			h('td', { 'data-field': 'mode', text: u.mode || '' }),
			h('td', {
				'data-field': 'uploaded',
				title: ms !== null ? new Date(ms).toISOString() : null,
				text: fmtTime(ms),
			}),
			h('td', { 'data-field': 'by', text: u.by || '' }),
			h('td', { 'data-field': 'means' }, means(u)),
		);
	});
	if (!rows.length)
		rows.push(
			emptyRow(
				8,
				items === null
					? 'Uploads are kept next to the store, and this appliance has none (store.path).'
					: 'No program has been uploaded.',
			),
		);
	$('#bpf-uploads tbody').replaceChildren(...rows);
}

function renderPorts(s, p, dt) {
	const prevPorts = new Map(((p && p.ports) || []).map((x) => [x.name, x]));
	const pps = {},
		drops = {};
	const rows = (s.ports || []).map((pt) => {
		const q = prevPorts.get(pt.name);
		const rx = q ? rate(pt.rx_packets, q.rx_packets, dt) : null;
		const tx = q ? rate(pt.tx_packets, q.tx_packets, dt) : null;
		const rxb = q ? rate(pt.rx_bytes, q.rx_bytes, dt) : null;
		const dr = q ? rate(pt.dropped, q.dropped, dt) : null;
		pps[`${pt.name} RX`] = rx;
		drops[`${pt.name} dropped`] = dr;
		const link = pt.link || {};
		// null: the link cannot be seen (a tap moved to another namespace), which is not down.
		const linkText =
			link.up === null
				? 'unknown'
				: link.up
					? `up ${link.speed_mbps ? fmtShort(link.speed_mbps * 1e6) + 'bit/s' : ''} ${link.duplex || ''}`.trim()
					: link.held_down
						? 'down (held: peer lost its link)'
						: 'down';
		return h(
			'tr',
			{ 'data-port': pt.name },
			h('th', { scope: 'row', text: pt.name }),
			h('td', { class: 'dev', text: pt.device || pt.driver || '' }),
			h(
				'td',
				{},
				h('span', {
					class: 'badge ' + (link.up ? 'ok' : link.up === null ? '' : 'warn'),
					text: linkText,
					// How changes reach vigild: the driver's interrupts, or polling (and why).
					'data-notify': link.notify || '',
					title: [
						link.reason,
						link.notify === 'interrupt'
							? `changes seen by interrupt (${fmtInt(link.interrupts || 0)} so far)`
							: link.notify === 'poll'
								? `polled${link.notify_reason ? ': ' + link.notify_reason : ''}`
								: '',
					]
						.filter(Boolean)
						.join('; '),
				}),
			),
			h('td', { text: pt.peer || '' }),
			h('td', {
				class: 'num',
				'data-field': 'rx_packets',
				text: fmtInt(pt.rx_packets),
			}),
			h('td', { class: 'num', 'data-field': 'rx_pps', text: fmtRate(rx) }),
			h('td', {
				class: 'num',
				'data-field': 'tx_packets',
				text: fmtInt(pt.tx_packets),
			}),
			h('td', { class: 'num', 'data-field': 'tx_pps', text: fmtRate(tx) }),
			h('td', { class: 'num', text: fmtBits(rxb === null ? null : rxb * 8) }),
			h('td', {
				class: 'num',
				'data-field': 'dropped',
				text: fmtInt(pt.dropped),
			}),
			h('td', { class: 'num', 'data-field': 'drops_ps', text: fmtRate(dr) }),
			h('td', { class: 'num', text: fmtInt(portLost(pt)) }),
		);
	});
	$('#ports tbody').replaceChildren(...rows);
	if (p) {
		const lostNow = sum((s.ports || []).map(portLost));
		const lostPrev = sum((p.ports || []).map(portLost));
		drops['lost (missed, no mbuf, TX full)'] = rate(lostNow, lostPrev, dt);
		const wd = (x) =>
			sum([
				x.policy && x.policy.would_drop,
				x.inspection && x.inspection.would_drop,
			]);
		drops['would drop (dry-run)'] = rate(wd(s), wd(p), dt);
	}
	return { pps, drops };
}

async function pollVersions() {
	const one = async (path) => {
		try {
			return { json: await api('GET', path) };
		} catch (e) {
			return { err: e };
		}
	};
	const [pol, sig] = await Promise.all([one('/policy'), one('/signatures')]);
	st.versions.policy = pol;
	st.versions.signatures = sig;
	for (const [label, v] of [
		['Policy', pol],
		['Signatures', sig],
	]) {
		const dd = document.querySelector(`#status-kv dd[data-kv="${label}"]`);
		if (dd) dd.replaceChildren(...versionNodes(v));
	}
}

// Versions are read every SLOW_EVERY polls, and every poll while the last reading failed for
// want of a token or a connection.
function versionsRetry() {
	const retry = (v) => !v || (v.err && (v.err.status === 401 || v.err.status === 0));
	return retry(st.versions.policy) || retry(st.versions.signatures);
}
// ---- mode -----------------------------------------------------------------------------------

async function setMode(mode) {
	const msg = $('#mode-msg');
	msg.className = 'msg';
	msg.textContent = `Switching to ${mode}…`;
	try {
		const r = await api('PUT', '/mode', { mode });
		renderMode(r.mode);
		actionOk(
			msg,
			r.previous && r.previous !== r.mode
				? `Mode is now ${r.mode} (was ${r.previous}).`
				: `Mode is ${r.mode}.`,
		);
	} catch (e) {
		actionError(msg, e);
	}
	poller.soon();
}

// ---- alerts ---------------------------------------------------------------------------------

const SEVERITIES = ['low', 'medium', 'high', 'critical'];

function alertQuery() {
	const q = new URLSearchParams({ limit: String(st.alertLimit) });
	const sev = $('#f-severity').value,
		kind = $('#f-kind').value;
	if (sev) q.set('severity', sev);
	if (kind) q.set('kind', kind);
	return '/alerts?' + q.toString();
}

function alertTitle(a) {
	if (a.kind === 'signature' || a.sid)
		return `${a.signature || 'signature'}${a.sid ? ` (sid ${a.sid})` : ''}`;
	return a.detector ? `${a.detector}${a.metric ? ` · ${a.metric}` : ''}` : a.kind || 'alert';
}

function protoName(p) {
	return (
		{ 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' }[p] ||
		(p === null || p === undefined ? '' : String(p))
	);
}

function alertEvidence(a) {
	const ev = [];
	const add = (k, v) => {
		if (v !== null && v !== undefined && v !== '')
			ev.push(h('div', {}, h('dt', { text: k }), h('dd', { text: String(v) })));
	};
	add('Detector', a.detector);
	if (a.sid) add('Signature', `${a.gid || 1}:${a.sid}:${a.rev || 0}`);
	add('Category', a.category);
	add('Action', a.action);
	add('Metric', a.metric);
	add('Observed', a.observed);
	add('Threshold', a.threshold);
	if (a.mean !== null && a.mean !== undefined)
		add('Baseline', `mean ${a.mean}, stddev ${a.stddev}`);
	add('Sigma', a.sigma);
	if (typeof a.window_ns === 'number') add('Window', fmtDuration(a.window_ns / 1e9));
	if (a.packets_out !== null && a.packets_out !== undefined)
		add('Packets out / in', `${fmtInt(a.packets_out)} / ${fmtInt(a.packets_in)}`);
	if (a.bytes_out !== null && a.bytes_out !== undefined)
		add('Bytes out / in', `${fmtBytes(a.bytes_out)} / ${fmtBytes(a.bytes_in)}`);
	add('Flow', a.flow_id);
	add('First seen', fmtTime(nsToMs(a.first_ns)));
	add('Last seen', fmtTime(nsToMs(a.last_ns)));
	if (a.facts && typeof a.facts === 'object')
		for (const [k, v] of Object.entries(a.facts))
			add(k, typeof v === 'object' ? JSON.stringify(v) : v);
	// The application layer: the flow's protocol and the matched transaction's facts, named
	// as in the EVE record (http.hostname, dns.queries, ...).
	add('Application', a.app_proto);
	if (a.app && typeof a.app === 'object')
		for (const [k, v] of Object.entries(a.app))
			add(`${a.app_proto}.${k}`, typeof v === 'object' ? JSON.stringify(v) : v);
	if (Array.isArray(a.app_cut) && a.app_cut.length)
		add('Cut to fit', a.app_cut.join(', '));
	return ev;
}

function alertItem(a) {
	const sev = SEVERITIES.includes(a.severity) ? a.severity : 'low';
	const det = h(
		'details',
		{ 'data-alert': a.id },
		h(
			'summary',
			{},
			h('span', {
				class: 'when',
				'data-f': 'when',
				text: fmtTime(nsToMs(a.last_ns)),
			}),
			h('span', { class: `badge sev-${sev}`, text: a.severity || '?' }),
			h('span', { class: 'kind', text: a.kind || '' }),
			h('span', { class: 'title', text: alertTitle(a) }),
			h('span', {
				class: 'addrs',
				text: `${hostPort(a.src, a.sport, protoName(a.proto))} → ${hostPort(a.dst, a.dport, protoName(a.proto))} ${protoName(a.proto)}${a.app_proto ? `/${a.app_proto}` : ''}`,
			}),
			h('span', {
				class: 'count',
				'data-f': 'count',
				title: 'times seen',
				text: `×${fmtInt(a.count)}`,
			}),
		),
		h(
			'div',
			{ class: 'explain' },
			h(
				'dl',
				{},
				h(
					'div',
					{},
					h('dt', { text: 'What happened' }),
					h('dd', { class: 'what', text: a.what || '—' }),
				),
				h(
					'div',
					{},
					h('dt', { text: 'Why it is suspicious' }),
					h('dd', { class: 'why', text: a.why || '—' }),
				),
				h(
					'div',
					{},
					h('dt', { text: 'What to do' }),
					h('dd', { class: 'next', text: a.next || '—' }),
				),
			),
			h('h3', { text: 'Evidence' }),
			h('dl', { class: 'kv small' }, alertEvidence(a)),
		),
	);
	if (st.alertOpen.has(a.id)) det.open = true;
	det.addEventListener('toggle', () => {
		if (det.open) st.alertOpen.add(a.id);
		else st.alertOpen.delete(a.id);
	});
	const li = h('li', { class: `alert sev-${sev}` }, det);
	li._sig = `${a.count}|${a.last_ns}|${a.action}`;
	return li;
}

// Keep the elements of alerts already shown, so that an open one stays open and in place
// while new ones arrive on top.
function renderAlerts(items) {
	const list = $('#alerts');
	const have = new Map(
		[...list.querySelectorAll(':scope > li.alert')].map((li) => [
			li.firstChild.dataset.alert,
			li,
		]),
	);
	const seen = new Set();
	const want = [];
	for (const a of items) {
		const key = String(a.id);
		if (seen.has(key)) continue;
		seen.add(key);
		let li = have.get(key);
		const sig = `${a.count}|${a.last_ns}|${a.action}`;
		if (!li || li._sig !== sig) li = alertItem(a);
		want.push(li);
	}
	want.forEach((li, i) => {
		if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
	});
	while (list.children.length > want.length) list.lastChild.remove();
	if (!want.length) list.append(h('li', { class: 'empty', text: 'No alerts match.' }));
	$('#alert-count').textContent = `${want.length} shown`;
}

async function pollAlerts() {
	let r;
	try {
		r = await api('GET', alertQuery());
	} catch (e) {
		panelError('p-alerts', e);
		return;
	}
	panelError('p-alerts', null);
	// Older pages are asked for as one bigger first page, so that alerts arriving meanwhile
	// cannot open a gap between pages.
	const more = r.next_cursor !== null && r.next_cursor !== undefined;
	$('#alerts-more').hidden = !more || st.alertLimit >= ALERT_MAX;
	renderAlerts(r.items || []);
	if (more && st.alertLimit >= ALERT_MAX)
		$('#alert-count').textContent +=
			` (the newest ${ALERT_MAX}; narrow the filters for older ones)`;
}

function moreAlerts() {
	st.alertLimit = Math.min(ALERT_MAX, st.alertLimit + ALERT_PAGE);
	poller.soon();
}

function resetAlerts() {
	st.alertLimit = ALERT_PAGE;
	$('#alerts').replaceChildren();
	poller.soon();
}

// ---- flows ----------------------------------------------------------------------------------

const flowFilter = { addr: '', port: '' };

async function pollFlows() {
	const q = new URLSearchParams({ limit: String(FLOW_FETCH) });
	if (flowFilter.addr) q.set('addr', flowFilter.addr);
	if (flowFilter.port !== '') q.set('port', flowFilter.port);
	let r;
	try {
		r = await api('GET', '/flows?' + q.toString());
	} catch (e) {
		panelError('p-flows', e);
		return;
	}
	panelError('p-flows', null);
	const items = (r.items || []).slice();
	const total = (f) => sum(Array.isArray(f.bytes) ? f.bytes : [f.bytes]);
	items.sort((a, b) => total(b) - total(a));
	const top = Number($('#f-top').value) || 25;
	const shown = items.slice(0, top);
	const filt = [
		flowFilter.addr && `address ${flowFilter.addr}`,
		flowFilter.port !== '' && `port ${flowFilter.port}`,
	]
		.filter(Boolean)
		.join(' and ');
	$('#flow-note').textContent =
		`${items.length}${items.length >= FLOW_FETCH ? '+' : ''} active flow(s)` +
		(filt ? ` with ${filt}` : '') +
		`; ${shown.length} shown, most bytes first.`;
	$('#flows tbody').replaceChildren(
		...shown.map((f) => {
			const pk = Array.isArray(f.packets) ? f.packets : [f.packets, 0];
			return h(
				'tr',
				{},
				h('td', { text: f.proto + (f.state ? ` · ${f.state}` : '') }),
				h('td', {
					'data-field': 'app',
					text: f.app_proto || '—',
					title: f.app_proto ? '' : 'no application protocol detected (yet)',
				}),
				h('td', { class: 'addr', text: hostPort(f.src, f.sport, f.proto) }),
				h('td', { class: 'addr', text: hostPort(f.dst, f.dport, f.proto) }),
				h('td', {
					text:
						f.in_port_name ||
						(f.in_port !== undefined ? `#${f.in_port}` : ''),
				}),
				h(
					'td',
					{},
					h('span', {
						class: `badge v-${f.verdict}`,
						text: f.verdict || '',
					}),
					f.would_drop
						? h('span', { class: 'muted', text: ' would drop' })
						: null,
				),
				h('td', { text: ruleName(f.rule_id) }),
				h('td', {
					class: 'num',
					text: `${fmtInt(pk[0])} / ${fmtInt(pk[1])}`,
				}),
				h('td', {
					class: 'num',
					'data-field': 'bytes',
					text: fmtBytes(total(f)),
				}),
				h('td', { class: 'num', text: fmtAgo(nsToMs(f.last_ns)) }),
			);
		}),
	);
	if (!shown.length)
		$('#flows tbody').append(
			h(
				'tr',
				{},
				h('td', {
					colspan: 10,
					class: 'empty',
					text: 'No active flow matches.',
				}),
			),
		);
}

// A flow without rule_id matched no rule: the policy's default action decided it.
function ruleName(id) {
	if (typeof id !== 'number') return '(default)';
	const r = st.rules[id];
	return r ? r.name : `#${id}`;
}

function applyFlowFilter(e) {
	if (e) e.preventDefault();
	const addr = $('#f-addr').value.trim();
	const port = $('#f-port').value.trim();
	const msg = $('#flow-note');
	if (port !== '' && !(/^\d+$/.test(port) && Number(port) <= 65535)) {
		msg.textContent = `Port '${port}' is not a number from 0 to 65535.`;
		return;
	}
	flowFilter.addr = addr;
	flowFilter.port = port;
	poller.soon();
}

// ---- rule counters --------------------------------------------------------------------------

async function pollRules() {
	let r;
	try {
		r = await api('GET', '/rules/counters');
	} catch (e) {
		panelError('p-rules', e);
		return;
	}
	panelError('p-rules', null);
	const t = performance.now() / 1000;
	const prev = st.rulesReadings.base(t);
	const dt = prev ? t - prev.t : 0;
	const prevBy = new Map(
		((prev && prev.v.policy) || []).map((x) => [`${x.index}|${x.name}`, x]),
	);
	const pol = r.policy || [];
	st.rules = [];
	for (const x of pol) st.rules[x.index] = x;
	$('#rules tbody').replaceChildren(
		...pol.map((x) => {
			const q = prevBy.get(`${x.index}|${x.name}`);
			return h(
				'tr',
				{ 'data-rule': x.name },
				h('th', { scope: 'row', text: x.name }),
				h('td', { class: 'num', text: fmtInt(x.packets) }),
				h('td', {
					class: 'num',
					text: fmtRate(q ? rate(x.packets, q.packets, dt) : null),
				}),
				h('td', { class: 'num', text: fmtBytes(x.bytes) }),
				h('td', { class: 'num', text: fmtInt(x.flows) }),
				h('td', { class: 'num', text: fmtInt(x.would_drop) }),
				ruleModeCell(x),
			);
		}),
	);
	const sigs = Array.isArray(r.signatures) ? r.signatures : null;
	$('#sigs').hidden = !sigs;
	$('#sigs-note').textContent = sigs
		? sigs.length
			? ''
			: 'No signature has matched yet.'
		: 'The appliance runs without signatures (no signatures: section in its config).';
	if (sigs) {
		const hits = (x) => x.alerts;
		sigs.sort((a, b) => (hits(b) || 0) - (hits(a) || 0));
		$('#sigs tbody').replaceChildren(
			...sigs.map((x) =>
				h(
					'tr',
					{},
					h('td', { text: `${x.gid ?? 1}:${x.sid}` }),
					h('td', { text: x.msg || '' }),
					h('td', { class: 'num', text: fmtInt(hits(x)) }),
				),
			),
		);
	}
	st.rulesReadings.push(t, r);
}

// A rule's mode, and the one call that promotes it to enforce (or back to dry-run).
function ruleModeCell(x) {
	if (x.name === '(default)' || x.action === 'allow') return h('td', { text: '' });
	const to = x.dry_run ? 'enforce' : 'dry-run';
	const b = h('button', {
		type: 'button',
		class: 'ghost small',
		text: x.dry_run ? 'Enforce' : 'Back to dry-run',
		// The accessible name starts with the visible text (WCAG 2.5.3).
		'aria-label': `${x.dry_run ? 'Enforce' : 'Back to dry-run'}: rule ${x.name}`,
	});
	b.addEventListener('click', () => setRuleMode(x.name, to));
	return h('td', {}, h('span', { text: x.dry_run ? 'dry-run ' : 'enforce ' }), b);
}

async function setRuleMode(name, mode) {
	const msg = $('#rule-msg');
	msg.className = 'msg';
	msg.textContent = `Setting rule ${name} to ${mode}…`;
	try {
		const r = await api('PUT', `/policy/rules/${encodeURIComponent(name)}/mode`, { mode });
		actionOk(
			msg,
			r.unchanged
				? `Rule ${name} already is ${mode}.`
				: `Rule ${name} is now ${mode}: policy version ${r.version ?? '(pending)'}.`,
		);
	} catch (e) {
		actionError(msg, e);
	}
	poller.soon();
}

// ---- learning -------------------------------------------------------------------------------

const learn = { selected: new Set(), exclude: [], proposal: null, candidates: [], pairs: [] };

// ---- per-pair learning: GET /api/v1/mode lists each pair's mode ----

const pairName = (p) => p.ports.join(' ↔ ');

// The pair selected in the learning view: its first port's name ('' for all pairs).
function selectedPair() {
	return $('#learn-pair').value;
}

function pairOf(port) {
	return learn.pairs.find((p) => p.ports.includes(port));
}

function renderPairs(pairs) {
	learn.pairs = Array.isArray(pairs) ? pairs : [];
	$('#pair-modes tbody').replaceChildren(
		...learn.pairs.map((p) =>
			h(
				'tr',
				{ 'data-pair': p.ports[0] },
				h('td', { text: pairName(p) }),
				h(
					'td',
					{ 'data-field': 'mode' },
					h('span', {
						class: `badge ${p.mode === 'enforce' ? 'mode-enforce' : 'mode-dry'}`,
						text: p.mode,
					}),
				),
				h('td', { 'data-field': 'own', text: p.own ? 'for this pair' : 'global mode' }),
			),
		),
	);
	const sel = $('#learn-pair');
	const keep = sel.value;
	const want = ['', ...learn.pairs.map((p) => p.ports[0])];
	const have = [...sel.options].map((o) => o.value);
	if (want.join('\n') !== have.join('\n'))
		sel.replaceChildren(
			h('option', { value: '', text: 'All pairs (global mode)' }),
			...learn.pairs.map((p) => h('option', { value: p.ports[0], text: pairName(p) })),
		);
	sel.value = want.includes(keep) ? keep : '';
	renderPairButtons();
}

function renderPairButtons() {
	const p = pairOf(selectedPair());
	const learning = !!p && p.own && p.mode === 'learn';
	$('#learn-pair-start').disabled = !p || learning;
	$('#learn-pair-stop').disabled = !learning;
}

// Start (learn) or stop (enforce: the pair takes the global mode again) the selected pair's
// session, said as the Mode panel says a change of the global mode.
async function setPairMode(mode) {
	const p = pairOf(selectedPair());
	if (!p) return;
	const msg = $('#learn-pair-msg');
	const was = p.own ? p.mode : null;
	msg.className = 'msg';
	msg.textContent = `Pair ${pairName(p)}: switching to ${mode === 'learn' ? 'learn' : 'the global mode'}…`;
	try {
		const r = await api('PUT', '/mode', { mode, pair: p.ports[0] });
		renderPairs(r.pairs);
		renderMode(r.mode);
		const now = pairOf(p.ports[0]);
		const what = now && now.own ? now.mode : `the global mode (${r.mode})`;
		actionOk(
			msg,
			`Pair ${pairName(p)} is now ${what}` + (was && was !== now?.mode ? ` (was ${was}).` : '.'),
		);
	} catch (e) {
		actionError(msg, e);
	}
	poller.soon();
}

function seenText(c) {
	return `${fmtTime(c.first * 1000)} – ${fmtTime(c.last * 1000)}`;
}

async function pollLearn() {
	let r;
	let m;
	try {
		[r, m] = await Promise.all([api('GET', '/learn?limit=500'), api('GET', '/mode')]);
	} catch (e) {
		panelError('p-learn', e);
		return;
	}
	panelError('p-learn', null);
	renderPairs(m.pairs);
	const s = r.state || {};
	learn.sessionPair = Array.isArray(s.pair) ? s.pair : null;
	learn.exclude = Array.isArray(s.exclude) ? s.exclude : [];
	learn.candidates = r.candidates || [];
	const stats = r.stats || {};
	$('#learn-state').textContent = !s.since
		? 'No learning session yet: set the mode to Learn.'
		: `${s.active ? 'Learning' : 'Learnt'}` +
			(Array.isArray(s.pair) ? ` pair ${s.pair.join(' ↔ ')}` : ' on all pairs') +
			` since ${fmtTime(s.since * 1000)}` +
			(s.until ? ` until ${fmtTime(s.until * 1000)}` : '') +
			`: ${fmtInt(learn.candidates.length)} candidates from ${fmtInt(stats.keys)} keys` +
			(stats.excluded ? `, ${fmtInt(stats.excluded)} excluded` : '') +
			(stats.dropped ? `, ${fmtInt(stats.dropped)} past the limit` : '') +
			(learn.exclude.length ? ` (${learn.exclude.length} exclusions)` : '') +
			'.';
	const ids = new Set(learn.candidates.map((c) => c.id));
	for (const id of [...learn.selected]) if (!ids.has(id)) learn.selected.delete(id);
	$('#candidates tbody').replaceChildren(
		...learn.candidates.map((c) => {
			const box = h('input', {
				type: 'checkbox',
				'aria-label': `Select ${protoName(c.proto)} ${c.from.join(' ')} to ${c.to.join(' ')}`,
			});
			box.checked = learn.selected.has(c.id);
			box.addEventListener('change', () => {
				if (box.checked) learn.selected.add(c.id);
				else learn.selected.delete(c.id);
			});
			const ex = h('button', { type: 'button', class: 'ghost small', text: 'Exclude' });
			ex.addEventListener('click', () => excludeCandidate(c));
			return h(
				'tr',
				{ 'data-candidate': c.id },
				h('td', {}, box),
				h('td', { text: protoName(c.proto) }),
				h('td', { text: c.from.join(', ') }),
				h('td', { text: c.to.join(', ') }),
				h('td', { text: c.ports.length ? c.ports.join(', ') : '–' }),
				h('td', { class: 'num', text: fmtInt(c.flows) }),
				h('td', { class: 'num', text: fmtBytes(c.bytes) }),
				h('td', { text: seenText(c) }),
				h('td', { class: 'num', text: `${fmtInt(c.denied_keys)} of ${fmtInt(c.keys)}` }),
				h('td', {}, ex),
			);
		}),
	);
}

async function excludeCandidate(c) {
	const msg = $('#learn-msg');
	const x = { from: c.from, to: c.to, proto: c.proto };
	if (c.ports.length) x.dport = c.ports;
	try {
		await api('PUT', '/learn/exclusions', { exclude: [...learn.exclude, x] });
		actionOk(msg, `Excluded ${protoName(c.proto)} ${c.from.join(', ')} → ${c.to.join(', ')}.`);
	} catch (e) {
		actionError(msg, e);
	}
	learnPoll.soon();
}

// Line diff (longest common subsequence): '- ' removed, '+ ' added, '  ' kept.
function lineDiff(a, b) {
	const x = a.split('\n').slice(0, 2000);
	const y = b.split('\n').slice(0, 2000);
	const n = x.length;
	const m = y.length;
	const L = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
	for (let i = n - 1; i >= 0; i--)
		for (let j = m - 1; j >= 0; j--)
			L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
	const out = [];
	let i = 0;
	let j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && x[i] === y[j]) {
			out.push(['  ', x[i++]]);
			j++;
		} else if (j < m && (i === n || L[i][j + 1] >= L[i + 1][j])) out.push(['+ ', y[j++]]);
		else out.push(['- ', x[i++]]);
	}
	return out;
}

async function propose() {
	const msg = $('#learn-msg');
	msg.className = 'msg';
	msg.textContent = 'Generating the proposal…';
	const sel = [...learn.selected];
	try {
		const q = sel.length ? `?candidates=${sel.join('.')}` : '';
		const p = await api('GET', `/learn/proposal${q}`);
		let cur = '';
		try {
			cur = (await api('GET', '/policy')).text || '';
		} catch {
			cur = '';
		}
		learn.proposal = p;
		$('#proposal-text').textContent = p.text;
		$('#proposal-diff').replaceChildren(
			...lineDiff(cur, p.text).map(([k, line]) =>
				h('span', {
					class: k === '+ ' ? 'add' : k === '- ' ? 'del' : '',
					text: `${k}${line}\n`,
				}),
			),
		);
		const c = p.check || {};
		actionOk(
			msg,
			`Proposal: ${p.rules} rules, default ${p.default}; of ${fmtInt(c.observed)} observed ` +
				`aggregates it allows ${fmtInt(c.allowed)}` +
				(c.not_allowed ? ` and not ${fmtInt(c.not_allowed)} (past a limit)` : ', all') +
				'.' +
				// The proposal is the session's: a pair's when the session learnt one pair.
				(learn.sessionPair
					? ` Learnt on pair ${learn.sessionPair.join(' ↔ ')} alone: merge its rules into the policy in force.`
					: ''),
		);
		$('#learn-apply').disabled = false;
		$('#learn-to-preview').disabled = false;
	} catch (e) {
		actionError(msg, e);
	}
}

async function applyProposal() {
	const msg = $('#learn-msg');
	const p = learn.proposal;
	if (!p) return;
	if (!window.confirm(`Apply the proposed policy (${p.rules} rules, default ${p.default})?`))
		return;
	try {
		const r = await api('PUT', '/policy', { text: p.text });
		actionOk(
			msg,
			r.unchanged
				? `The proposal already is the policy in force (version ${r.version}).`
				: `Applied: policy version ${r.version ?? '(pending)'}.`,
		);
	} catch (e) {
		actionError(msg, e);
	}
	poller.soon();
}

// ---- preview --------------------------------------------------------------------------------

function verdictText(v) {
	return `${v.verdict} (${v.rule ? `rule ${v.rule}` : 'default'})${v.certain ? '' : ' ?'}`;
}

async function preview(e) {
	if (e) e.preventDefault();
	const msg = $('#pv-msg');
	msg.className = 'msg';
	msg.textContent = 'Classifying the stored flows…';
	const since = $('#pv-since').value;
	try {
		const pair = selectedPair();
		const q = new URLSearchParams({ since, limit: '200' });
		if (pair) q.set('pair', pair);
		const r = await api('POST', `/policy/preview?${q}`, {
			text: $('#pv-text').value,
		});
		const t = r.totals;
		$('#pv-changes tbody').replaceChildren(
			...r.changes.map((c) => {
				const s = c.samples[0];
				return h(
					'tr',
					{},
					h('td', { text: verdictText(c.from) }),
					h('td', { text: verdictText(c.to) }),
					h('td', { class: 'num', text: fmtInt(c.aggregates) }),
					h('td', { class: 'num', text: fmtInt(c.flows) }),
					h('td', { class: 'num', text: fmtBytes(c.bytes) }),
					h('td', { class: 'num', text: fmtInt(c.uncertain) }),
					h('td', {
						text: s ? `${s.src} → ${hostPort(s.dst, s.dport, protoName(s.proto))} ${protoName(s.proto)}` : '',
					}),
				);
			}),
		);
		actionOk(
			msg,
			`${fmtInt(t.changed_aggregates)} of ${fmtInt(t.aggregates)} aggregates ` +
				`(${fmtInt(t.changed_flows)} of ${fmtInt(t.flows)} flows) would change verdict` +
				(t.uncertain_aggregates ? `; ${fmtInt(t.uncertain_aggregates)} uncertain` : '') +
				(Array.isArray(r.ports) ? ` on pair ${r.ports.join(' ↔ ')}` : '') +
				` (${r.elapsed_ms.toFixed(0)} ms).`,
		);
	} catch (err) {
		actionError(msg, err);
	}
}

// ---- blocklist ------------------------------------------------------------------------------

async function pollBlocklist() {
	let r;
	try {
		r = await api('GET', '/blocklist');
	} catch (e) {
		panelError('p-block', e);
		return;
	}
	panelError('p-block', null);
	const items = r.items || [];
	$('#blocklist tbody').replaceChildren(
		...items.map((b) => {
			const addr = b.addr || b.address;
			const exp =
				typeof b.expires_ms === 'number'
					? `in ${fmtDuration((b.expires_ms - Date.now()) / 1000)} (${fmtTime(b.expires_ms)})`
					: 'until removed';
			return h(
				'tr',
				{ 'data-addr': addr },
				h('th', { scope: 'row', class: 'addr', text: addr }),
				h('td', { text: b.source || '' }),
				h('td', { text: b.reason || '' }),
				h('td', { text: exp }),
				h(
					'td',
					{},
					h('button', {
						type: 'button',
						class: 'danger',
						'aria-label': `Remove ${addr} from the blocklist`,
						text: 'Remove',
						onclick: () => unblock(addr),
					}),
				),
			);
		}),
	);
	if (!items.length)
		$('#blocklist tbody').append(
			h(
				'tr',
				{},
				h('td', {
					colspan: 5,
					class: 'empty',
					text: 'No address is blocked.',
				}),
			),
		);
}

async function block(e) {
	e.preventDefault();
	const msg = $('#block-msg');
	const address = $('#b-addr').value.trim();
	const ttl = Number($('#b-ttl').value);
	const reason = $('#b-reason').value.trim();
	if (!address) {
		msg.className = 'msg bad';
		msg.textContent = 'Enter an IPv4 or IPv6 address.';
		return;
	}
	if (!Number.isInteger(ttl) || ttl < 0) {
		msg.className = 'msg bad';
		msg.textContent = 'TTL must be a whole number of seconds (0: until removed).';
		return;
	}
	const body = { address, ttl };
	if (reason) body.reason = reason;
	try {
		const r = await api('POST', '/blocklist', body);
		actionOk(
			msg,
			`Blocked ${r.address}` +
				(r.ttl ? ` for ${fmtDuration(r.ttl)}.` : ' until removed.'),
		);
		$('#b-addr').value = '';
		$('#b-reason').value = '';
	} catch (err) {
		actionError(msg, err);
	}
	poller.soon();
}

async function unblock(addr) {
	const msg = $('#block-msg');
	try {
		await api('DELETE', '/blocklist/' + encodeURIComponent(addr));
		actionOk(msg, `Removed ${addr} from the blocklist.`);
	} catch (err) {
		actionError(msg, err);
	}
	poller.soon();
}

// ---- the poll loop --------------------------------------------------------------------------

function renderConn() {
	const c = $('#conn');
	if (st.lastErr) {
		c.className = 'conn bad';
		c.textContent =
			`${st.lastErr.message}` +
			(st.lastOk ? ` (last update ${fmtTime(st.lastOk)})` : '');
	} else if (st.lastOk) {
		c.className = 'conn ok';
		c.textContent = `Live · updated ${fmtTime(st.lastOk)}`;
	}
}

// Each endpoint has its own poll loop: one request at a time per endpoint, the next one
// POLL_MS after the previous one started (at once when it took longer), so that a slow or
// hanging endpoint holds up only its own panel. soon() cuts the waits short after a change.
class Poll {
	constructor(fn, interval) {
		this.fn = fn;
		this.interval = interval;
		this.running = false;
		this.again = false;
		this.wake = null;
	}
	soon() {
		if (this.running) this.again = true;
		else if (this.wake) this.wake();
	}
	async loop() {
		for (;;) {
			const t0 = performance.now();
			this.running = true;
			this.again = false;
			try {
				await this.fn();
			} catch (e) {
				// A bug in rendering: report it as uncaught, and keep polling.
				reportError(e);
			}
			this.running = false;
			if (this.again) continue;
			const wait = Math.max(0, this.interval() - (performance.now() - t0));
			await new Promise((res) => {
				const timer = setTimeout(res, wait);
				this.wake = () => {
					clearTimeout(timer);
					res();
				};
			});
			this.wake = null;
		}
	}
}

const every = () => POLL_MS;
const polls = [
	new Poll(async () => {
		await pollStatus();
		renderConn();
	}, every),
	new Poll(pollAlerts, every),
	new Poll(pollFlows, every),
	new Poll(pollRules, every),
	new Poll(pollBlocklist, every),
	new Poll(pollBpfTables, every),
	new Poll(pollVersions, () => (versionsRetry() ? POLL_MS : SLOW_EVERY * POLL_MS)),
];
// What was learnt is read from the store's history: every 10 s, and after each change.
const learnPoll = new Poll(pollLearn, () => SLOW_EVERY * POLL_MS);
polls.push(learnPoll);

const poller = {
	soon() {
		for (const p of polls) p.soon();
	},
	start() {
		for (const p of polls) p.loop();
	},
};

function init() {
	auth.init();
	for (const b of document.querySelectorAll('#p-mode .seg button'))
		b.addEventListener('click', () => setMode(b.dataset.mode));
	$('#f-severity').addEventListener('change', resetAlerts);
	$('#f-kind').addEventListener('change', resetAlerts);
	$('#alert-filters').addEventListener('submit', (e) => e.preventDefault());
	$('#alerts-more').addEventListener('click', moreAlerts);
	$('#flow-filters').addEventListener('submit', applyFlowFilter);
	$('#f-top').addEventListener('change', () => poller.soon());
	$('#flow-clear').addEventListener('click', () => {
		$('#f-addr').value = '';
		$('#f-port').value = '';
		applyFlowFilter();
	});
	$('#block-form').addEventListener('submit', block);
	$('#learn-propose').addEventListener('click', propose);
	$('#learn-apply').addEventListener('click', applyProposal);
	$('#learn-to-preview').addEventListener('click', () => {
		if (learn.proposal) $('#pv-text').value = learn.proposal.text;
		$('#pv-text').focus();
	});
	$('#preview-form').addEventListener('submit', preview);
	$('#learn-pair').addEventListener('change', renderPairButtons);
	$('#learn-pair-start').addEventListener('click', () => setPairMode('learn'));
	$('#learn-pair-stop').addEventListener('click', () => setPairMode('enforce'));
	let resizeTimer = null;
	window.addEventListener('resize', () => {
		clearTimeout(resizeTimer);
		resizeTimer = setTimeout(drawCharts, 100);
	});
	drawCharts();
	poller.start();
}

document.addEventListener('DOMContentLoaded', init);
