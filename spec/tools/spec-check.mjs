#!/usr/bin/env node
// spec-check: proves spec/openapi.json is a valid, complete and precise contract.
// Invoked by ci/spec-check.sh (which runs `npm ci` first):
//   node spec-check.mjs --spec FILE --tmp DIR [--protocol PROTOCOL.md] [--invariants FILE]
// Prints one line per check ("ok   …", "FAIL …", "skip …") and finishes with
// "spec-check: N passed, N failed"; exit status 1 on any failure.
//
// Every lint below is a function doc -> [problems]. Each one runs on the real document
// (must find nothing) and, in the self-test section, on a deliberately broken copy (must
// find something), so no check can pass vacuously.
import fs from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";

/* ---------------------------------------------------------------- reporting */

let passed = 0;
let failed = 0;

function check(name, problems) {
	if (problems.length === 0) {
		passed++;
		console.log(`ok   ${name}`);
		return true;
	}
	failed++;
	const shown = problems.slice(0, 8).join("; ");
	const more = problems.length > 8 ? ` (+${problems.length - 8} more)` : "";
	console.log(`FAIL ${name}: ${shown}${more}`);
	return false;
}

function skip(name, why) {
	console.log(`skip ${name}: ${why}`);
}

function finish() {
	console.log(`spec-check: ${passed} passed, ${failed} failed`);
	process.exit(failed === 0 ? 0 : 1);
}

function parseArgs(argv) {
	const out = { spec: "", tmp: "", protocol: "", invariants: "" };
	for (let i = 0; i < argv.length; i++) {
		const k = argv[i].replace(/^--/, "");
		if (!(k in out) || i + 1 >= argv.length) {
			console.log(`usage: spec-check.mjs --spec FILE --tmp DIR [--protocol FILE] [--invariants FILE] (bad argument ${argv[i]})`);
			process.exit(2);
		}
		out[k] = argv[++i];
	}
	if (!out.spec || !out.tmp) {
		console.log("usage: spec-check.mjs --spec FILE --tmp DIR [--protocol FILE] [--invariants FILE]");
		process.exit(2);
	}
	return out;
}

/* ---------------------------------------------------------------- the contract */

// PROTOCOL.md §2.1: every route and method (HTTP-5 path sharing is in ALLOW below).
const ROUTES = {
	index: ["get", "/"],
	health: ["get", "/api/health"],
	status: ["get", "/api/status"],
	openapi: ["get", "/api/openapi.json"],
	metricsProm: ["get", "/metrics"],
	metricsJson: ["get", "/api/metrics"],
	report: ["post", "/api/report"],
	roomPost: ["post", "/api/rooms/{roomId}/messages"],
	roomStatus: ["get", "/api/rooms/{roomId}/status"],
	transcript: ["get", "/api/rooms/{roomId}/transcript"],
	wait: ["get", "/api/rooms/{roomId}/wait"],
	events: ["get", "/api/rooms/{roomId}/events"],
	ws: ["get", "/api/rooms/{roomId}/ws"],
	listening: ["post", "/api/rooms/{roomId}/listening"],
	claim: ["post", "/api/rooms/{roomId}/claim"],
	ack: ["post", "/api/rooms/{roomId}/ack"],
	register: ["post", "/api/identity/register"],
	identity: ["get", "/api/identity/{handle}"],
	dmSend: ["post", "/api/dm/{handle}"],
	dmWait: ["get", "/api/dm/{handle}/inbox/wait"],
	dmDelete: ["delete", "/api/dm/{handle}/inbox/{id}"],
};

// HTTP-5: the Allow value of each path (methods of every route row the path matches).
const ALLOW = {
	"/api/identity/register": "GET, POST",
	"/api/dm/{handle}/inbox/wait": "GET, DELETE",
};

const POST_ROUTES = Object.keys(ROUTES).filter((k) => ROUTES[k][0] === "post");
const ALL_ROUTES = Object.keys(ROUTES);
const ROOM_HTTP = ["roomPost", "roomStatus", "transcript", "wait", "listening", "events", "claim", "ack"];
const AUTH_ROUTES = ["dmWait", "dmDelete", "claim", "ack"];
const MNA = "#/components/responses/MethodNotAllowed";

// Which operations carry the error texts of each PROTOCOL.md rule row (or, for prose,
// of each section). An owner found in PROTOCOL.md but missing here fails the check.
const ERROR_OWNERS = {
	"HTTP-4": ["ws"], // HTTP-7: a non-upgrade request to /ws is an unknown path
	"HTTP-5": [MNA],
	"HTTP-11": ["roomPost"],
	"HTTP-13": POST_ROUTES,
	"HTTP-14": POST_ROUTES,
	"HTTP-19": ALL_ROUTES,
	"ROOM-2": ["roomPost"],
	"§5.3": ["roomPost"],
	"§6": ROOM_HTTP,
	"ROOM-POST-1": ["roomPost"],
	"ROOM-POST-2": ["roomPost"],
	"ROOM-POST-3": ["roomPost"],
	"ROOM-POST-4": ["roomPost"],
	"ROOM-POST-5": ["roomPost"],
	"ROOM-POST-6": ["roomPost"],
	"ROOM-POST-7": ["roomPost"],
	"ROOM-POST-8": ["roomPost"],
	"ROOM-WAIT-3": ["wait", "claim"], // CLAIM-6 parks as ROOM-WAIT-3
	"ROOM-LISTEN-1": ["listening"],
	"ROOM-LISTEN-2": ["listening"],
	"SSE-1": ["events"],
	"SSE-2": ["events"],
	"WS-1": ["ws"],
	"WS-2": ["ws"],
	"ID-REG-1": ["register"],
	"ID-REG-2": ["register"],
	"ID-REG-4": ["register"],
	"ID-REG-5": ["register"],
	"ID-REG-6": ["register"],
	"ID-REG-7": ["register"],
	"ID-REG-9": ["register"],
	"ID-REG-10": ["register"],
	"ID-REG-11": ["register"],
	"ID-REG-12": ["register"],
	"ID-REG-13": ["register"],
	"ID-REG-14": ["register"],
	"ID-GET-1": ["identity"],
	"AUTH-6": AUTH_ROUTES,
	"REPLAY-3": ["roomPost", "register", "dmSend", "dmWait", "dmDelete", "claim", "ack"],
	"SIG-8": ["roomPost"],
	"DM-1a": ["dmSend"],
	"DM-1b": ["dmSend"],
	"DM-1c": ["dmSend"],
	"DM-1d": ["dmSend"],
	"DM-1e": ["dmSend"],
	"DM-1f": ["dmSend"],
	"DM-1g": ["dmSend"],
	"DM-1h": ["dmSend"],
	"DM-1j": ["dmSend"],
	"DM-2": ["dmSend"],
	"DM-7a": ["dmWait", "dmDelete"], // DM-9: steps DM-7a–d
	"DM-7b": ["dmWait", "dmDelete"],
	"DM-7c": ["dmWait", "dmDelete"],
	"DM-7d": ["dmWait", "dmDelete"],
	"DM-7f": ["dmWait"],
	"DM-7g": ["dmWait"],
	"CLAIM-1a": ["claim", "ack"], // §13.2: CLAIM-1a–e apply to ack with the same texts
	"CLAIM-1b": ["claim", "ack"],
	"CLAIM-1c": ["claim", "ack"],
	"CLAIM-1d": ["claim", "ack"],
	"CLAIM-1e": ["claim", "ack"],
	"ACK-3": ["ack"],
	"MET-2": ["metricsProm", "metricsJson"],
	"RPT-1": ["report"],
	"RPT-2": ["report"],
};

// Independent of PROTOCOL.md parsing: exact texts, dashes written as escapes.
const SPOT_CHECKS = [
	["roomPost", "503", "global room buffer full \u2014 try again shortly"],
	["roomPost", "403", "signed_only: this room requires sender_sig from a registered @handle"],
	["register", "400", "register_sig (base64 Ed25519) and register_ts (ms) required \u2014 sign \"register <handle> <register_ts> <box_pub> <sign_pub>\" with sign_sk"],
	["register", "401", "bad register_sig \u2014 does not verify against sign_pub (sign \"register <handle> <ts> <box_pub> <sign_pub>\")"],
	["register", "400", "invalid handle (regex: ^[a-z0-9][a-z0-9_-]{1,31}$)"],
	["register", "503", "identity cap reached"],
	["report", "400", "field \"what\" required (5\u20134000 chars)"],
	["dmSend", "503", "global DM buffer full \u2014 try again shortly"],
	["dmSend", "400", "ciphertext, nonce, sender_eph_pub required (all base64)"],
	["claim", "503", "replay cache full \u2014 try again shortly"],
	["dmWait", "429", "too many concurrent waiters for this handle"],
	["events", "429", "too many concurrent streams from this IP"],
	["listening", "404", "no such room"],
	["metricsJson", "503", "metrics disabled (no METRICS_TOKEN configured)"],
	["ack", "409", "stale or unknown claim"],
];

const REQUIRED_SCHEMAS = [
	"Error", "Ok", "PostOk", "Health", "Status", "Metrics", "Message", "MessageEvent",
	"ClaimEnvelope", "DmEnvelope", "ReadyEvent", "PresenceEvent", "LockedEvent", "RenameEvent",
	"ErrorEvent", "WsErrorFrame", "WsHelloFrame", "WsListeningFrame", "WsMessageFrame",
	"WsInboundFrame", "WsOutboundFrame", "StreamEvent", "RoomStatus", "Transcript", "WaitResult",
	"ClaimResult", "AckResult", "AckConflictError", "Registered", "Identity", "InboxWaitResult",
	"InboxDeleteOk", "ReportOk", "MessageRequest", "ListeningRequest", "ClaimRequest",
	"AckRequest", "RegisterRequest", "DmSendRequest", "ReportRequest",
];

// Key order (§0: keys in exactly the order shown) against the shapes in PROTOCOL.md.
// span = index among the row's code spans that contain '{"'.
const KEY_ORDER = [
	{ rule: "ROOM-17", span: 0, schema: "Message", optionalFirst: "type" },
	{ rule: "ROOM-19", span: 0, schema: "ClaimEnvelope" },
	{ rule: "ROOM-POST-10", span: 0, schema: "PostOk" },
	{ rule: "ROOM-STATUS-1", span: 0, schema: "RoomStatusAbsent" },
	{ rule: "ROOM-STATUS-2", span: 0, schema: "RoomStatusPresent" },
	{ rule: "ROOM-TX-1", span: 0, schema: "MessagesRoomAbsent" },
	{ rule: "ROOM-TX-2", span: 0, schema: "TranscriptPresent" },
	{ rule: "ROOM-WAIT-2", span: 0, schema: "WaitBatch", optionalLast: "has_more" },
	{ rule: "ROOM-LISTEN-3", span: 0, schema: "Ok" },
	{ rule: "SSE-4", span: 0, schema: "ErrorEvent" },
	{ rule: "SSE-8", span: 0, schema: "ReadyEvent" },
	{ rule: "WS-5", span: 0, schema: "WsErrorFrame" },
	{ rule: "WS-5", span: 1, schema: "ErrorEvent" },
	{ rule: "WS-7", span: 0, schema: "ReadyEvent" },
	{ rule: "WS-9", span: 2, schema: "RenameEvent" },
	{ rule: "PRES-1", span: 0, schema: "PresenceEvent" },
	{ rule: "PRES-2", span: 0, schema: "SubscriberParticipant" },
	{ rule: "PRES-2", span: 1, schema: "HeartbeatParticipant" },
	{ rule: "PRES-5", span: 0, schema: "LockedEvent" },
	{ rule: "PRES-5", span: 1, schema: "RenameEvent" },
	{ rule: "ID-REG-15", span: 0, schema: "Registered" },
	{ rule: "ID-GET-2", span: 0, schema: "Identity" },
	{ rule: "DM-5", span: 0, schema: "DmEnvelope" },
	{ rule: "DM-6", span: 0, schema: "PostOk" },
	{ rule: "DM-7e", span: 0, schema: "InboxBatch" },
	{ rule: "DM-8", span: 0, schema: "InboxWake" },
	{ rule: "DM-9", span: 0, schema: "InboxDeleteOk" },
	{ rule: "CLAIM-1f", span: 0, schema: "ClaimRoomAbsent" },
	{ rule: "CLAIM-5", span: 0, schema: "ClaimGranted" },
	{ rule: "CLAIM-7", span: 0, schema: "ClaimEmpty" },
	{ rule: "CLAIM-7", span: 1, schema: "ClaimRoomAbsent" },
	{ rule: "ACK-1", span: 0, schema: "AckResult" },
	{ rule: "ACK-3", span: 0, schema: "AckConflictError" },
	{ rule: "META-2", span: 0, schema: "Health" },
	{ rule: "META-3", span: 0, schema: "Status" },
	{ rule: "RPT-5", span: 0, schema: "ReportOk" },
];

// Schemas must accept / reject these bodies (each proves a constraint is really there).
const UUID = "859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b";
const CT = "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A/";
const NONCE = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3";
const KEY = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=";
const MSG = { seq: 1767225600000, id: UUID, sender: "@alice", sender_verified: true, ciphertext: CT, nonce: NONCE, ts: 1767225600012 };
const DM = { seq: 1767225600001, id: UUID, ciphertext: "R2izO574GUTOdq3UAWZDBoKqoj+bJw==", nonce: "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH", sender_eph_pub: "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y=", from_handle: "alice", from_verified: true, ts: 1767225600050 };
const SAMPLES = [
	// [schema, value, expected valid?, reason]
	["RoomCiphertext", "AAAA", true, "B64-1: AAAA passes"],
	["RoomCiphertext", "AB==", false, "B64-1: AB== has non-zero trailing bits"],
	["RoomCiphertext", "QQ", false, "B64-1: unpadded QQ fails"],
	["RoomCiphertext", "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK_31A_", true, "B64-1: URL-safe characters pass"],
	["Nonce24", NONCE.slice(1), false, "B64-2: 31-character nonce"],
	["Key32", "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlR=", false, "B64-1: key with non-zero trailing bits"],
	["Key32", KEY, true, "B64-2: canonical 32-byte key"],
	["Message", MSG, true, "ROOM-17 signed message"],
	["Message", { type: "message", ...MSG, ttl_ms: 30000.5, reply_to: "abcdefgh" }, true, "ROOM-17 with type, decimal ttl_ms and reply_to"],
	["Message", { ...MSG, _bytes: 540 }, false, "ROOM-20: no _bytes"],
	["Message", { ...MSG, sender: "alice" }, false, "INV-7: verified label must be @handle"],
	["Message", { ...MSG, sender: "@alice", sender_verified: false }, true, "ROOM-14: unsigned label may start with @"],
	["Message", { ...MSG, ttl_ms: 29999 }, false, "ROOM-12f: ttl_ms below 30000"],
	["MessageEvent", MSG, false, "ROOM-18: type is required"],
	["ClaimEnvelope", { ...MSG, sender_verified: false, sender: "agent" }, true, "ROOM-19"],
	["DmEnvelope", DM, true, "DM-5 verified"],
	["DmEnvelope", { ...DM, from_handle: null, from_verified: false }, true, "DM-3 anonymous"],
	["DmEnvelope", { ...DM, from_verified: false }, false, "INV-7: unverified DM must have from_handle null"],
	["DmEnvelope", { ...DM, from_handle: null }, false, "INV-7: verified DM must name its sender"],
	["Identity", { handle: "alice", box_pub: KEY, sign_pub: KEY, registered_at: 1, meta: {}, inbox_seq: 5 }, false, "ID-GET-2: inbox_seq never exposed"],
	["ReadyEvent", { type: "ready", roomId: "ROOM2345", size: 1, participants: [] }, false, "WS-7 (sealroom): last_seq required"],
	["PresenceEvent", { type: "presence", size: 1, names: ["bob"], participants: [{ name: "bob", box_pub: KEY, last_seen_ms_ago: 5 }, { name: "carol", last_seen_ms_ago: 100, box_pub: KEY }] }, true, "PRES-1/PRES-2 both entry kinds"],
	["WsErrorFrame", { type: "error", code: 403, error: "bad sender_sig" }, false, "WS-13/WS-15: code and text are paired"],
	["WsErrorFrame", { type: "error", code: 403, error: "signed_only" }, true, "WS-15"],
	["WaitResult", { messages: [MSG], last_seq: MSG.seq, has_more: true }, true, "ROOM-WAIT-2 has_more"],
	["WaitResult", { messages: [], last_seq: 0, exists: true }, false, "ROOM-WAIT-1: exists only as false"],
	["ClaimResult", { ok: true, empty: true, last_seq: 5, cursor: 4 }, true, "CLAIM-7 empty"],
	["ClaimResult", { ok: true, empty: true, last_seq: 5, cursor: 4, exists: false }, false, "CLAIM-7: a gone room has last_seq 0"],
	["Status", { ok: true, started_at: "2026-01-01T00:00:00.000Z", uptime_seconds: 1, rooms: 0, version: "0.1.0", build: { commit: "unknown", executable_sha256: "0".repeat(64) }, source: "", node_version: "v20" }, false, "META-3: no node_version"],
];

/* ---------------------------------------------------------------- helpers */

const clone = (x) => structuredClone(x);

function pointer(doc, ref) {
	if (typeof ref !== "string" || !ref.startsWith("#/"))
		return undefined;
	let cur = doc;
	for (const raw of ref.slice(2).split("/")) {
		const k = raw.replace(/~1/g, "/").replace(/~0/g, "~");
		if (cur === null || typeof cur !== "object" || !(k in cur))
			return undefined;
		cur = cur[k];
	}
	return cur;
}

function deref(doc, obj) {
	let guard = 0;
	while (obj && typeof obj === "object" && typeof obj.$ref === "string" && guard++ < 16)
		obj = pointer(doc, obj.$ref);
	return obj;
}

function op(doc, key) {
	const [method, p] = ROUTES[key];
	return doc.paths?.[p]?.[method];
}

function opName(key) {
	const [method, p] = ROUTES[key];
	return `${method.toUpperCase()} ${p}`;
}

// The response object (dereferenced) for an owner (route key or component ref) and status.
function responseOf(doc, owner, status) {
	if (owner.startsWith("#/"))
		return deref(doc, pointer(doc, owner));
	return deref(doc, op(doc, owner)?.responses?.[status]);
}

function jsonSchemaOf(resp) {
	return resp?.content?.["application/json"]?.schema;
}

// Every error text a response schema allows: properties.error enum/const, through $ref/oneOf/anyOf.
function errorTexts(doc, schema, seen = new Set()) {
	const out = [];
	const s = deref(doc, schema);
	if (!s || typeof s !== "object" || seen.has(s))
		return out;
	seen.add(s);
	const e = deref(doc, s.properties?.error);
	if (e) {
		if (typeof e.const === "string")
			out.push(e.const);
		if (Array.isArray(e.enum))
			out.push(...e.enum.filter((x) => typeof x === "string"));
	}
	for (const k of ["oneOf", "anyOf"])
		for (const sub of s[k] || [])
			out.push(...errorTexts(doc, sub, seen));
	return out;
}

function operations(doc) {
	const out = [];
	for (const [p, item] of Object.entries(doc.paths || {}))
		for (const m of ["get", "put", "post", "delete", "options", "head", "patch", "trace"])
			if (item[m])
				out.push({ path: p, method: m, item, op: item[m] });
	return out;
}

// Calls fn(schema, where) for every Schema Object in the document, nested ones included.
function walkSchemas(doc, fn) {
	const visit = (s, where) => {
		if (!s || typeof s !== "object")
			return;
		fn(s, where);
		for (const [k, v] of Object.entries(s.properties || {}))
			visit(v, `${where}/properties/${k}`);
		if (s.items && typeof s.items === "object")
			visit(s.items, `${where}/items`);
		if (s.additionalProperties && typeof s.additionalProperties === "object")
			visit(s.additionalProperties, `${where}/additionalProperties`);
		for (const k of ["oneOf", "anyOf", "allOf"])
			(s[k] || []).forEach((sub, i) => visit(sub, `${where}/${k}/${i}`));
	};
	const media = (content, where) => {
		for (const [mt, m] of Object.entries(content || {}))
			visit(m.schema, `${where}/content/${mt}/schema`);
	};
	const headers = (hs, where) => {
		for (const [h, v] of Object.entries(hs || {}))
			if (!v.$ref)
				visit(v.schema, `${where}/headers/${h}/schema`);
	};
	const params = (ps, where) => {
		(ps || []).forEach((p, i) => {
			if (!p.$ref)
				visit(p.schema, `${where}/parameters/${i}/schema`);
		});
	};
	const response = (r, where) => {
		if (!r || r.$ref)
			return;
		headers(r.headers, where);
		media(r.content, where);
	};
	const c = doc.components || {};
	for (const [n, s] of Object.entries(c.schemas || {}))
		visit(s, `#/components/schemas/${n}`);
	for (const [n, p] of Object.entries(c.parameters || {}))
		visit(p.schema, `#/components/parameters/${n}/schema`);
	for (const [n, h] of Object.entries(c.headers || {}))
		visit(h.schema, `#/components/headers/${n}/schema`);
	for (const [n, r] of Object.entries(c.responses || {}))
		response(r, `#/components/responses/${n}`);
	for (const { path: p, method, item, op: o } of operations(doc)) {
		const w = `${method.toUpperCase()} ${p}`;
		params(item.parameters, w);
		params(o.parameters, w);
		if (o.requestBody && !o.requestBody.$ref)
			media(o.requestBody.content, `${w} requestBody`);
		for (const [st, r] of Object.entries(o.responses || {}))
			response(r, `${w} ${st}`);
	}
}

/* ---------------------------------------------------------------- PROTOCOL.md parsing */

const RULE_ROW = /^\|\s*([A-Z][A-Z0-9]*(?:-[A-Z]+)*-[0-9]+[a-z]?)\s*\|/;

function parseProtocol(text) {
	const rows = new Map(); // rule id -> row text (first occurrence)
	const lines = text.split("\n");
	const owned = []; // {owner, line}
	let section = "";
	for (const line of lines) {
		const h = /^#{2,3}\s+([0-9]+(?:\.[0-9]+)?)[.\s]/.exec(line);
		if (h)
			section = `§${h[1]}`;
		const m = RULE_ROW.exec(line);
		if (m) {
			if (!rows.has(m[1]))
				rows.set(m[1], line);
			owned.push({ owner: m[1], line });
		} else {
			owned.push({ owner: section, line });
		}
	}
	// HTTP error bodies: `NNN {"error":"…"…}` inside code spans, with an optional
	// `Retry-After: N` before the next error on the same line.
	const errors = [];
	const re = /`([0-9]{3}) \{"error":"((?:[^"\\]|\\.)*)"([^`]*)\}`/g;
	for (const { owner, line } of owned) {
		const found = [...line.matchAll(re)];
		found.forEach((m, i) => {
			const end = m.index + m[0].length;
			const next = i + 1 < found.length ? found[i + 1].index : line.length;
			const ra = /`Retry-After: ([0-9]+)`/.exec(line.slice(end, next));
			errors.push({
				owner,
				status: m[1],
				text: JSON.parse(`"${m[2]}"`),
				extraCursor: m[3].includes('"cursor"'),
				retryAfter: ra ? Number(ra[1]) : null,
			});
		});
	}
	// Stream error frames: {"type":"error"[,"code":N],"error":"…"}.
	const frames = [];
	const fre = /\{"type":"error",(?:"code":([0-9]+),)?"error":"((?:[^"\\]|\\.)*)"\}/g;
	for (const { owner, line } of owned)
		for (const m of line.matchAll(fre))
			frames.push({ owner, code: m[1] ? Number(m[1]) : null, text: JSON.parse(`"${m[2]}"`) });
	return { rows, errors, frames, ids: new Set(rows.keys()) };
}

function codeSpans(row) {
	return [...row.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((s) => s.includes('{"'));
}

// Top-level keys of a shape written as in PROTOCOL.md: quoted names after `{` or `,`
// at brace depth 1 (optional `[,"k"]` markers included, nested objects skipped).
function shapeKeys(span) {
	const keys = [];
	let depth = 0;
	let prev = "";
	for (let i = 0; i < span.length; i++) {
		const ch = span[i];
		if (ch === '"') {
			let j = i + 1;
			while (j < span.length && span[j] !== '"')
				j += span[j] === "\\" ? 2 : 1;
			if (depth === 1 && (prev === "{" || prev === ","))
				keys.push(span.slice(i + 1, j));
			prev = '"';
			i = j;
			continue;
		}
		if (ch === "{")
			depth++;
		else if (ch === "}")
			depth--;
		if (!/\s/.test(ch) && ch !== "[")
			prev = ch;
	}
	return keys;
}

/* ---------------------------------------------------------------- lints */

const ALLOWED_KEYWORDS = new Set(["type", "properties", "required", "enum", "const", "items",
	"additionalProperties", "minLength", "maxLength", "pattern", "minimum", "maximum", "oneOf",
	"anyOf", "$ref", "description", "title", "default"]);
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean", "null"]);
const RULE_TOKEN = /\b[A-Z][A-Z0-9]*(?:-[A-Z]+)*-[0-9]+[a-z]?\b/g;
const NOT_RULES = /^(UTF|SHA|ISO|ECMA|RFC)-/;

function lintFormatting(text) {
	const p = [];
	if (text.charCodeAt(0) === 0xfeff)
		p.push("starts with a BOM");
	let doc;
	try {
		doc = JSON.parse(text);
	} catch (e) {
		return [`not JSON: ${e.message}`];
	}
	if (JSON.stringify(doc, null, 2) + "\n" !== text)
		p.push("not in canonical 2-space form (JSON.stringify(doc, null, 2) + newline; raw UTF-8, no \\u escapes)");
	return p;
}

function lintBasics(doc) {
	const p = [];
	if (doc.openapi !== "3.1.0")
		p.push(`openapi is ${JSON.stringify(doc.openapi)}, want "3.1.0"`);
	if (JSON.stringify(doc.servers) !== '[{"url":"/"}]')
		p.push('servers must be [{"url":"/"}]');
	const d = doc.info?.description || "";
	for (const want of ["compact", "UTF-16", "\\u", "HDR-1", "HTTP-20", "HTTP-5", "HTTP-19"])
		if (!d.includes(want))
			p.push(`info.description lacks ${JSON.stringify(want)} (§0 output rules / common errors)`);
	return p;
}

function lintRoutes(doc) {
	const p = [];
	const want = new Set();
	for (const key of ALL_ROUTES) {
		const [method, route] = ROUTES[key];
		want.add(`${method} ${route}`);
		const o = op(doc, key);
		if (!o) {
			p.push(`missing ${opName(key)}`);
			continue;
		}
		if (!o.operationId)
			p.push(`${opName(key)} has no operationId`);
	}
	for (const { path: route, method } of operations(doc))
		if (!want.has(`${method} ${route}`))
			p.push(`unexpected ${method.toUpperCase()} ${route} (not in PROTOCOL.md §2.1)`);
	for (const [route, item] of Object.entries(doc.paths || {})) {
		const methods = ["get", "post", "delete"].filter((m) => item[m]).map((m) => m.toUpperCase());
		const allow = ALLOW[route] || methods.join(", ");
		if (item["x-allow"] !== allow)
			p.push(`${route}: x-allow ${JSON.stringify(item["x-allow"])}, want ${JSON.stringify(allow)} (HTTP-5)`);
	}
	return p;
}

function lintPathParams(doc) {
	const p = [];
	for (const { path: route, method, item, op: o } of operations(doc)) {
		const declared = new Map();
		for (const raw of [...(item.parameters || []), ...(o.parameters || [])]) {
			const prm = deref(doc, raw);
			if (prm?.in === "path")
				declared.set(prm.name, prm);
		}
		const inTemplate = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
		for (const n of inTemplate) {
			if (!declared.has(n))
				p.push(`${method.toUpperCase()} ${route}: path parameter {${n}} not declared`);
			else if (declared.get(n).required !== true)
				p.push(`${method.toUpperCase()} ${route}: path parameter {${n}} not required`);
		}
		for (const n of declared.keys())
			if (!inTemplate.includes(n))
				p.push(`${method.toUpperCase()} ${route}: declares path parameter ${n} not in the template`);
	}
	return p;
}

function lintSecurity(doc) {
	const p = [];
	for (const key of ALL_ROUTES) {
		const o = op(doc, key);
		if (!o)
			continue;
		const sec = JSON.stringify(o.security || []);
		let want = "[]";
		if (AUTH_ROUTES.includes(key))
			want = '[{"SafeBotAuth":[]}]';
		else if (key === "metricsProm" || key === "metricsJson")
			want = '[{"MetricsBearer":[]}]';
		else if (key === "register")
			want = '[{},{"IdentityAdminToken":[]}]';
		if (sec !== want)
			p.push(`${opName(key)}: security ${sec}, want ${want}`);
	}
	const s = doc.components?.securitySchemes || {};
	if (s.SafeBotAuth?.type !== "apiKey" || s.SafeBotAuth?.in !== "header" || s.SafeBotAuth?.name !== "Authorization")
		p.push("SafeBotAuth must be apiKey in header Authorization (AUTH-1)");
	if (s.MetricsBearer?.type !== "http" || s.MetricsBearer?.scheme !== "bearer")
		p.push("MetricsBearer must be http bearer (MET-1)");
	return p;
}

function lintNamedSchemas(doc) {
	const have = doc.components?.schemas || {};
	return REQUIRED_SCHEMAS.filter((n) => !have[n]).map((n) => `missing #/components/schemas/${n}`);
}

function lintSubset(doc) {
	const p = [];
	walkSchemas(doc, (s, where) => {
		for (const k of Object.keys(s))
			if (!ALLOWED_KEYWORDS.has(k))
				p.push(`${where}: keyword ${k} is outside the subset`);
		if ("type" in s && !(typeof s.type === "string" && TYPES.has(s.type)))
			p.push(`${where}: type must be one type name`);
		if ("$ref" in s) {
			if (!/^#\/components\/schemas\/[A-Za-z0-9_]+$/.test(s.$ref) || !pointer(doc, s.$ref))
				p.push(`${where}: $ref ${s.$ref} is not an existing #/components/schemas/ entry`);
			for (const k of Object.keys(s))
				if (!["$ref", "description", "title"].includes(k))
					p.push(`${where}: $ref has constraining sibling ${k}`);
		}
		if ("pattern" in s) {
			const pat = s.pattern;
			if (typeof pat !== "string" || !/^[\x20-\x7e]*$/.test(pat))
				p.push(`${where}: pattern must be printable ASCII`);
			else if (/\\[dDwWsSbB]|\(\?|[*+?}]\?/.test(pat))
				p.push(`${where}: pattern ${pat} uses syntax outside POSIX ERE`);
			else {
				try {
					new RegExp(pat, "u");
					new RegExp(pat);
				} catch (e) {
					p.push(`${where}: pattern does not compile: ${e.message}`);
				}
			}
		}
		if ("required" in s) {
			if (!Array.isArray(s.required))
				p.push(`${where}: required must be an array`);
			else
				for (const r of s.required)
					if (s.properties && !(r in s.properties))
						p.push(`${where}: required ${r} is not in properties`);
		}
		if ("enum" in s && (!Array.isArray(s.enum) || s.enum.length === 0))
			p.push(`${where}: enum must be a non-empty array`);
	});
	return p;
}

// Every description cites a PROTOCOL.md rule ID or section.
function lintCitations(doc) {
	const p = [];
	const cites = (d) => typeof d === "string" && (/§[0-9]/.test(d) || [...d.matchAll(RULE_TOKEN)].some((m) => !NOT_RULES.test(m[0])));
	const need = (what, d) => {
		if (!cites(d))
			p.push(`${what}: description ${d === undefined ? "missing" : "cites no rule ID"}`);
	};
	const ruleOnly = (d) => typeof d === "string" && [...d.matchAll(RULE_TOKEN)].some((m) => !NOT_RULES.test(m[0]));
	const headers = (hs, w) => {
		for (const [h, v] of Object.entries(hs || {}))
			if (!v.$ref && !ruleOnly(v.description))
				p.push(`${w} header ${h}: description cites no rule ID`);
	};
	for (const { path: route, method, item, op: o } of operations(doc)) {
		const w = `${method.toUpperCase()} ${route}`;
		need(w, o.description);
		for (const prm of [...(item.parameters || []), ...(o.parameters || [])])
			if (!prm.$ref && !ruleOnly(prm.description))
				p.push(`${w} parameter ${prm.name}: description cites no rule ID`);
		for (const [st, r] of Object.entries(o.responses || {}))
			if (!r.$ref) {
				need(`${w} ${st}`, r.description);
				headers(r.headers, `${w} ${st}`);
			}
	}
	const c = doc.components || {};
	for (const [n, r] of Object.entries(c.responses || {}))
		headers(r.headers, `#/components/responses/${n}`);
	for (const kind of ["responses", "parameters", "headers", "securitySchemes", "schemas"])
		for (const [n, v] of Object.entries(c[kind] || {}))
			need(`#/components/${kind}/${n}`, v.description);
	return p;
}

// Every rule ID the document cites exists in PROTOCOL.md.
function lintCitedIdsExist(doc, proto) {
	const p = new Set();
	const ids = proto.ids;
	const known = (id) => ids.has(id) || [...ids].some((x) => x.startsWith(id) && /^[a-z]$/.test(x.slice(id.length)));
	const text = JSON.stringify(doc);
	for (const m of text.matchAll(RULE_TOKEN))
		if (!NOT_RULES.test(m[0]) && !known(m[0]))
			p.add(`cites ${m[0]}, which PROTOCOL.md does not define`);
	return [...p];
}

/* ---------------------------------------------------------------- ajv */

const BASE = "https://sealroom.invalid/openapi.json";

function makeAjv(doc) {
	const ajv = new Ajv2020({ strict: false, allErrors: true });
	ajv.addSchema({ $id: BASE, components: { schemas: doc.components?.schemas || {} } });
	return ajv;
}

function absRefs(s) {
	if (Array.isArray(s))
		return s.map(absRefs);
	if (s && typeof s === "object") {
		const o = {};
		for (const [k, v] of Object.entries(s))
			o[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? BASE + v : absRefs(v);
		return o;
	}
	return s;
}

// Compiles a schema found anywhere in the document (refs resolve against components).
function compiler(doc) {
	const ajv = makeAjv(doc);
	const cache = new Map();
	return (schema) => {
		if (schema?.$ref?.startsWith("#/components/schemas/"))
			return ajv.getSchema(BASE + schema.$ref);
		if (!cache.has(schema))
			cache.set(schema, ajv.compile(absRefs(schema)));
		return cache.get(schema);
	};
}

function lintCompile(doc) {
	const p = [];
	const ajv = new Ajv2020({ strict: false });
	walkSchemas(doc, (s, where) => {
		if (!ajv.validateSchema(s))
			p.push(`${where}: ${ajv.errorsText(ajv.errors)}`);
	});
	if (p.length)
		return p;
	try {
		const compile = compiler(doc);
		for (const n of Object.keys(doc.components?.schemas || {}))
			compile({ $ref: `#/components/schemas/${n}` });
	} catch (e) {
		p.push(e.message);
	}
	return p;
}

function lintExamples(doc) {
	const p = [];
	const compile = compiler(doc);
	const media = (content, where) => {
		for (const [mt, m] of Object.entries(content || {})) {
			if (!("example" in m) || !mt.includes("json"))
				continue;
			const v = compile(m.schema);
			if (!v(m.example))
				p.push(`${where} ${mt} example: ${JSON.stringify(v.errors?.slice(0, 2))}`);
		}
	};
	for (const { path: route, method, op: o } of operations(doc)) {
		const w = `${method.toUpperCase()} ${route}`;
		if (o.requestBody)
			media(deref(doc, o.requestBody).content, `${w} requestBody`);
		for (const [st, r] of Object.entries(o.responses || {}))
			media(deref(doc, r)?.content, `${w} ${st}`);
	}
	return p;
}

function validateBody(doc, compile, owner, status, body) {
	const resp = responseOf(doc, owner, status);
	const schema = jsonSchemaOf(resp);
	if (!schema)
		return `no JSON ${status} response`;
	const v = compile(schema);
	return v(body) ? null : `${JSON.stringify(body)} rejected by the ${status} schema`;
}

function lintSpotChecks(doc) {
	const p = [];
	const compile = compiler(doc);
	for (const [key, status, text] of SPOT_CHECKS) {
		const body = key === "ack" && status === "409" ? { error: text, cursor: 7 } : { error: text };
		const err = validateBody(doc, compile, key, status, body);
		if (err)
			p.push(`${opName(key)}: ${err}`);
	}
	const v = compile({ $ref: "#/components/schemas/WsErrorFrame" });
	if (!v({ type: "error", code: 503, error: "replay cache full \u2014 try again shortly" }))
		p.push("WsErrorFrame rejects the REPLAY-3 frame");
	return p;
}

function ownerName(o) {
	return o.startsWith("#/") ? o : opName(o);
}

function lintProtocolErrors(doc, proto) {
	const p = [];
	const compile = compiler(doc);
	for (const e of proto.errors) {
		const owners = ERROR_OWNERS[e.owner];
		if (!owners) {
			p.push(`${e.owner}: ${e.status} ${JSON.stringify(e.text)} has no route mapping in spec-check.mjs`);
			continue;
		}
		const body = e.extraCursor ? { error: e.text, cursor: 7 } : { error: e.text };
		for (const o of owners) {
			const err = validateBody(doc, compile, o, e.status, body);
			if (err)
				p.push(`${e.owner} → ${ownerName(o)}: ${err}`);
		}
	}
	return p;
}

function lintNoInventedErrors(doc, proto) {
	const p = [];
	const known = new Set(proto.errors.map((e) => e.text));
	const look = (resp, where) => {
		for (const t of errorTexts(doc, jsonSchemaOf(deref(doc, resp))))
			if (!known.has(t))
				p.push(`${where}: ${JSON.stringify(t)} is not an error text of PROTOCOL.md`);
	};
	for (const { path: route, method, op: o } of operations(doc))
		for (const [st, r] of Object.entries(o.responses || {}))
			look(r, `${method.toUpperCase()} ${route} ${st}`);
	for (const [n, r] of Object.entries(doc.components?.responses || {}))
		look(r, `#/components/responses/${n}`);
	return p;
}

function retryAfterValues(doc, resp) {
	const h = deref(doc, resp?.headers?.["Retry-After"]);
	if (!h)
		return null;
	const s = deref(doc, h.schema) || {};
	const vals = "const" in s ? [s.const] : s.enum || [];
	return { required: h.required === true, vals: [...vals].sort((a, b) => a - b) };
}

// HTTP-20: Retry-After exactly where PROTOCOL.md gives one, with exactly those values.
function lintRetryAfter(doc, proto) {
	const p = [];
	const want = new Map(); // "owner status" -> Set of values
	for (const e of proto.errors)
		for (const o of ERROR_OWNERS[e.owner] || []) {
			const k = `${o} ${e.status}`;
			if (!want.has(k))
				want.set(k, new Set());
			if (e.retryAfter !== null)
				want.get(k).add(e.retryAfter);
		}
	for (const key of ALL_ROUTES)
		for (const st of Object.keys(op(doc, key)?.responses || {})) {
			const k = `${key} ${st}`;
			const exp = [...(want.get(k) || [])].sort((a, b) => a - b);
			const got = retryAfterValues(doc, responseOf(doc, key, st));
			if (exp.length === 0 && got)
				p.push(`${opName(key)} ${st}: declares Retry-After, PROTOCOL.md gives none`);
			else if (exp.length && !got)
				p.push(`${opName(key)} ${st}: lacks Retry-After ${exp.join("/")}`);
			else if (exp.length && (JSON.stringify(exp) !== JSON.stringify(got.vals) || !got.required))
				p.push(`${opName(key)} ${st}: Retry-After ${JSON.stringify(got.vals)}, want required ${JSON.stringify(exp)}`);
		}
	return p;
}

function lintFrames(doc, proto) {
	const p = [];
	const compile = compiler(doc);
	const out = compile({ $ref: "#/components/schemas/WsOutboundFrame" });
	const sse = compile({ $ref: "#/components/schemas/StreamEvent" });
	const pairs = new Set();
	for (const f of proto.frames) {
		const frame = f.code === null ? { type: "error", error: f.text } : { type: "error", code: f.code, error: f.text };
		pairs.add(`${f.code} ${f.text}`);
		if (!out(frame))
			p.push(`${f.owner}: WsOutboundFrame rejects ${JSON.stringify(frame)}`);
		if (f.code === null && !sse(frame))
			p.push(`${f.owner}: StreamEvent rejects ${JSON.stringify(frame)}`);
	}
	// Reverse: every (code, text) pair the WsErrorFrame schema admits is in PROTOCOL.md.
	const wef = deref(doc, doc.components?.schemas?.WsErrorFrame);
	for (const br of wef?.oneOf || []) {
		const code = br.properties?.code?.const;
		const texts = br.properties?.error?.enum || [br.properties?.error?.const];
		for (const t of texts)
			if (!pairs.has(`${code} ${t}`))
				p.push(`WsErrorFrame admits code ${code} ${JSON.stringify(t)}, not in PROTOCOL.md`);
	}
	return p;
}

function schemaKeys(doc, name) {
	return Object.keys(deref(doc, doc.components?.schemas?.[name])?.properties || {});
}

function lintKeyOrder(doc, proto) {
	const p = [];
	for (const k of KEY_ORDER) {
		const row = proto.rows.get(k.rule);
		const span = row ? codeSpans(row)[k.span] : undefined;
		if (!span) {
			p.push(`${k.rule}: shape #${k.span} not found in PROTOCOL.md`);
			continue;
		}
		const want = shapeKeys(span);
		let have = schemaKeys(doc, k.schema);
		if (k.optionalFirst && have[0] === k.optionalFirst)
			have = have.slice(1);
		if (k.optionalLast && have[have.length - 1] === k.optionalLast)
			have = have.slice(0, -1);
		if (JSON.stringify(want) !== JSON.stringify(have))
			p.push(`${k.schema} vs ${k.rule}: [${have}] != [${want}]`);
	}
	// ROOM-18: "type" followed by the ROOM-17 keys.
	const ev = schemaKeys(doc, "MessageEvent");
	const msg = schemaKeys(doc, "Message");
	if (JSON.stringify(ev) !== JSON.stringify(msg) || ev[0] !== "type")
		p.push(`MessageEvent vs ROOM-18: [${ev}] != [${msg}]`);
	return p;
}

// MET-3: exactly the listed keys, in order, all required, nothing else.
function lintMetrics(doc, proto) {
	const row = proto.rows.get("MET-3");
	if (!row)
		return ["MET-3 not found in PROTOCOL.md"];
	const spans = [...row.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
	const want = [...spans[0].matchAll(/"([a-z_]+)":/g)].map((m) => m[1]);
	for (const s of spans.slice(1))
		if (/^[a-z0-9_]+(, [a-z0-9_]+)+$/.test(s))
			want.push(...s.split(", "));
	const m = deref(doc, doc.components?.schemas?.Metrics) || {};
	const p = [];
	if (want.length < 30)
		p.push(`only ${want.length} keys parsed from MET-3`);
	if (JSON.stringify(Object.keys(m.properties || {})) !== JSON.stringify(want))
		p.push(`Metrics properties differ from MET-3: [${Object.keys(m.properties || {})}]`);
	if (JSON.stringify(m.required) !== JSON.stringify(want))
		p.push("Metrics.required must list every MET-3 key");
	if (m.additionalProperties !== false)
		p.push("Metrics must forbid other keys (INV-4)");
	for (const k of want.slice(1)) {
		const t = deref(doc, m.properties?.[k]);
		if (t?.type !== "integer")
			p.push(`Metrics.${k} must be an integer`);
	}
	return p;
}

function lintSamples(doc) {
	const p = [];
	const compile = compiler(doc);
	for (const [name, value, ok, why] of SAMPLES) {
		const v = compile({ $ref: `#/components/schemas/${name}` });
		if (!v)
			p.push(`${name}: no such schema`);
		else if (v(value) !== ok)
			p.push(`${name} ${ok ? "rejects" : "accepts"} a sample it must ${ok ? "accept" : "reject"} (${why})`);
	}
	return p;
}

/* ---------------------------------------------------------------- invariants.md */

// spec/invariants.md maps every INV-* rule of PROTOCOL.md §1 to its checks: a section per
// rule naming its ci/invariants/inv-NN-<slug>.sh driver, what it catches and its planted-
// violation self-test; a check marked **exists** must name a file that exists.
function lintInvariants(text, proto, repo) {
	const p = [];
	const ids = proto ? [...proto.ids].filter((i) => /^INV-[0-9]+$/.test(i)) : Array.from({ length: 13 }, (_, i) => `INV-${i + 1}`);
	if (ids.length < 13)
		p.push(`only ${ids.length} INV rules found`);
	const sections = text.split(/^## /m);
	for (const id of ids) {
		const sec = sections.find((s) => s.startsWith(`${id} `));
		const nn = String(Number(id.slice(4))).padStart(2, "0");
		if (!sec) {
			p.push(`${id}: no "## ${id} —" section`);
			continue;
		}
		if (!new RegExp(`ci/invariants/inv-${nn}-[a-z0-9-]+\\.sh`).test(sec))
			p.push(`${id}: names no ci/invariants/inv-${nn}-<slug>.sh`);
		for (const part of ["**Rule.**", "**Checks.**", "**Catches.**", "**Planted-violation self-test.**"])
			if (!sec.includes(part))
				p.push(`${id}: lacks ${part}`);
		if (!new RegExp(`^\\| ${id} \\|`, "m").test(text))
			p.push(`${id}: no row in the summary table`);
	}
	for (const line of text.split("\n"))
		if (line.includes("**exists**"))
			for (const m of line.matchAll(/`((?:ci|spec|relay|lib|conformance|soak|fuzz)\/[^`\s]+)`/g))
				if (!fs.existsSync(path.join(repo, m[1])))
					p.push(`${m[1]} is marked exists but is missing`);
	return p;
}

/* ---------------------------------------------------------------- validator */

async function validateFile(file) {
	const v = new Validator();
	const res = await v.validate(file);
	if (res.valid)
		return [];
	const e = res.errors;
	return [typeof e === "string" ? e : JSON.stringify(e).slice(0, 300)];
}

// Broken copies of the spec that the OpenAPI validator itself must reject.
const BREAKAGES = [
	["a response without description", (d) => { delete d.paths["/api/health"].get.responses["200"].description; }],
	["openapi version as a number", (d) => { d.openapi = 3.1; }],
	["a $ref to a missing component", (d) => { d.paths["/api/health"].get.responses["200"].content["application/json"].schema.$ref = "#/components/schemas/NoSuchSchema"; }],
	["a path parameter with required:false", (d) => { d.components.parameters.RoomIdPath.required = false; }],
	["a response status key 2000", (d) => { const r = d.paths["/api/health"].get.responses; r["2000"] = r["200"]; }],
	["an operation without responses but with an unknown field", (d) => { d.paths["/"].get.response = d.paths["/"].get.responses; delete d.paths["/"].get.responses; }],
];

// Broken copies that our own lints must reject (the validator does not look at these).
function lintSelfTests(proto) {
	const t = [
		["routes: DELETE inbox/{id} removed", lintRoutes, (d) => { delete d.paths["/api/dm/{handle}/inbox/{id}"].delete; }],
		["routes: wrong x-allow", lintRoutes, (d) => { d.paths["/api/identity/register"]["x-allow"] = "POST"; }],
		["path params: {roomId} undeclared", lintPathParams, (d) => { delete d.paths["/api/rooms/{roomId}/status"].parameters; }],
		["security: claim without SafeBotAuth", lintSecurity, (d) => { delete d.paths["/api/rooms/{roomId}/claim"].post.security; }],
		["named schemas: ClaimEnvelope missing", lintNamedSchemas, (d) => { delete d.components.schemas.ClaimEnvelope; }],
		["subset: allOf used", lintSubset, (d) => { d.components.schemas.Health.allOf = [{}]; }],
		["subset: \\d in a pattern", lintSubset, (d) => { d.components.schemas.RoomId.pattern = "^\\d+$"; }],
		["compile: type objekt", lintCompile, (d) => { d.components.schemas.Health.type = "objekt"; }],
		["examples: health example with ok:false", lintExamples, (d) => { d.paths["/api/health"].get.responses["200"].content["application/json"].example.ok = false; }],
		["citations: a description without rule ID", lintCitations, (d) => { d.components.schemas.Count.description = "a count"; }],
		["citations: a WS header parameter citing only RFC 6455 §4.1", lintCitations, (d) => { d.paths["/api/rooms/{roomId}/ws"].get.parameters[1].description = "RFC 6455 §4.1."; }],
		["spot checks: hyphen for em dash", lintSpotChecks, (d) => { d.paths["/api/rooms/{roomId}/messages"].post.responses["503"].content["application/json"].schema.properties.error.enum[1] = "global room buffer full - try again shortly"; }],
		["samples: Message allows _bytes", lintSamples, (d) => { d.components.schemas.Message.additionalProperties = true; }],
	];
	if (proto) {
		t.push(
			["protocol errors: bad json removed from register 400", (d) => lintProtocolErrors(d, proto), (d) => { d.paths["/api/identity/register"].post.responses["400"].content["application/json"].schema.properties.error.enum.shift(); }],
			["invented errors: extra 404 text", (d) => lintNoInventedErrors(d, proto), (d) => { d.components.schemas.NoSuchHandleError.properties.error.enum = ["no such user"]; }],
			["retry-after: missing on POST messages 429", (d) => lintRetryAfter(d, proto), (d) => { delete d.paths["/api/rooms/{roomId}/messages"].post.responses["429"].headers; }],
			["retry-after: extra on ack 409", (d) => lintRetryAfter(d, proto), (d) => { d.paths["/api/rooms/{roomId}/ack"].post.responses["409"].headers = { "Retry-After": { $ref: "#/components/headers/RetryAfter5" } }; }],
			["frames: WS-15 text dropped", (d) => lintFrames(d, proto), (d) => { d.components.schemas.WsErrorFrame.oneOf[2].properties.error.enum = ["locked"]; }],
			["key order: ClaimEnvelope in ROOM-17 order", (d) => lintKeyOrder(d, proto), (d) => { const s = d.components.schemas.ClaimEnvelope; const v = s.properties.sender_verified; delete s.properties.sender_verified; s.properties = { seq: s.properties.seq, id: s.properties.id, sender: s.properties.sender, sender_verified: v, ...s.properties }; }],
			["metrics: extra key", (d) => lintMetrics(d, proto), (d) => { d.components.schemas.Metrics.properties.room_ids = { type: "integer" }; }],
			["rule IDs: ROOM-POST-99 cited", (d) => lintCitedIdsExist(d, proto), (d) => { d.components.schemas.Ok.description = "ROOM-POST-99."; }],
		);
	}
	return t;
}

/* ---------------------------------------------------------------- main */

async function main() {
	const args = parseArgs(process.argv.slice(2));
	let text;
	try {
		text = fs.readFileSync(args.spec, "utf8");
	} catch (e) {
		check("read spec", [e.message]);
		finish();
	}
	let doc;
	try {
		doc = JSON.parse(text);
		check("spec parses as JSON", []);
	} catch (e) {
		check("spec parses as JSON", [e.message]);
		finish();
	}
	check("formatting: canonical 2-space JSON, raw UTF-8", lintFormatting(text));
	check("basics: openapi 3.1.0, servers, §0 output rules in info", lintBasics(doc));
	check("validator: official OpenAPI 3.1 schema + $ref resolution", await validateFile(args.spec));

	// The validator must reject broken copies (written to the temp dir, read back as files).
	const control = path.join(args.tmp, "control.json");
	fs.writeFileSync(control, text);
	check("validator: untouched temp copy passes", await validateFile(control));
	BREAKAGES.forEach(([what, mutate], i) => {
		const d = clone(doc);
		mutate(d);
		const f = path.join(args.tmp, `broken-${i + 1}.json`);
		fs.writeFileSync(f, JSON.stringify(d, null, 2) + "\n");
		BREAKAGES[i].push(f);
	});
	for (const [what, , file] of BREAKAGES) {
		const errs = await validateFile(file);
		check(`validator rejects ${what}`, errs.length ? [] : ["accepted"]);
	}

	let proto = null;
	if (args.protocol) {
		try {
			proto = parseProtocol(fs.readFileSync(args.protocol, "utf8"));
		} catch (e) {
			check("read PROTOCOL.md", [e.message]);
		}
	}

	check(`routes: the ${ALL_ROUTES.length} operations of PROTOCOL.md §2.1, x-allow per HTTP-5`, lintRoutes(doc));
	check("path parameters declared and required", lintPathParams(doc));
	check("security: SafeBotAuth on auth routes, MetricsBearer on metrics", lintSecurity(doc));
	check(`named component schemas (${REQUIRED_SCHEMAS.length})`, lintNamedSchemas(doc));
	check("schemas stay within the conformance subset", lintSubset(doc));
	check("schemas are valid JSON Schema 2020-12 and compile", lintCompile(doc));
	check("examples validate against their schemas", lintExamples(doc));
	check("descriptions cite PROTOCOL.md rule IDs", lintCitations(doc));
	check(`spot checks: ${SPOT_CHECKS.length} exact error texts (em/en dashes, quotes)`, lintSpotChecks(doc));
	check(`schema samples: ${SAMPLES.length} accept/reject cases`, lintSamples(doc));

	if (proto) {
		check(`PROTOCOL.md parsed: ${proto.ids.size} rule IDs, ${proto.errors.length} error bodies, ${proto.frames.length} error frames`,
			proto.ids.size > 250 && proto.errors.length >= 60 && proto.frames.length >= 8 ? [] : ["too few; parser broken?"]);
		check("cited rule IDs exist in PROTOCOL.md", lintCitedIdsExist(doc, proto));
		// One line per PROTOCOL.md rule that names error texts.
		const owners = [...new Set(proto.errors.map((e) => e.owner))];
		for (const o of owners) {
			const sub = { ...proto, errors: proto.errors.filter((e) => e.owner === o) };
			const texts = sub.errors.map((e) => `${e.status}`).join(",");
			const targets = (ERROR_OWNERS[o] || []).length;
			check(`errors ${o}: ${texts} on ${targets} operation(s)`, lintProtocolErrors(doc, sub));
		}
		check("no error text outside PROTOCOL.md", lintNoInventedErrors(doc, proto));
		check("Retry-After exactly where PROTOCOL.md gives it (HTTP-20)", lintRetryAfter(doc, proto));
		check("stream error frames (SSE-4, WS-5, WS-11…15)", lintFrames(doc, proto));
		check(`key order of ${KEY_ORDER.length + 1} shapes matches PROTOCOL.md (§0)`, lintKeyOrder(doc, proto));
		check("Metrics has exactly the MET-3 keys (INV-4)", lintMetrics(doc, proto));
	} else {
		skip("PROTOCOL.md cross-checks", "PROTOCOL.md not found (set SEALROOM_PROTOCOL)");
	}

	let inv = null;
	const repo = path.resolve(path.dirname(args.spec), "..");
	if (args.invariants) {
		try {
			inv = fs.readFileSync(args.invariants, "utf8");
			check("invariants.md maps every INV-* rule to its checks and self-tests", lintInvariants(inv, proto, repo));
		} catch (e) {
			check("read invariants.md", [e.message]);
		}
	}

	for (const [what, lint, mutate] of lintSelfTests(proto)) {
		const d = clone(doc);
		mutate(d);
		check(`self-test: ${what} is caught`, lint(d).length ? [] : ["not caught"]);
	}
	if (inv) {
		const noInv10 = inv.replace(/^## INV-10 [\s\S]*?(?=^## )/m, "");
		check("self-test: invariants.md without its INV-10 section is caught", lintInvariants(noInv10, proto, repo).length ? [] : ["not caught"]);
		const fake = inv.replace("`ci/spec-check.sh`: the `Metrics`", "`ci/no-such-check.sh`: the `Metrics`");
		check("self-test: invariants.md claiming a missing check exists is caught", lintInvariants(fake, proto, repo).length ? [] : ["not caught"]);
	}
	finish();
}

main().catch((e) => {
	check("spec-check runner", [e.stack || String(e)]);
	finish();
});
